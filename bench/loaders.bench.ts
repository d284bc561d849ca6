/**
 * Loader throughput: load every split of every dataset form present in ../shared/data (or
 * $EMOTION_EVAL_SHARED_DATA), side by side with plainly reading the same files' bytes, so the ratio
 * says what parsing costs. The acceptance bound is on the total, cold (first pass) and warm (median
 * of three): all loaders together under 2 s. Exits 1 when over.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { createRegistry } from '../harness/builtins.ts';
import type { DatasetLoader } from '../harness/types.ts';

const dataDir = process.env.EMOTION_EVAL_SHARED_DATA ?? resolve(import.meta.dirname, '../../shared/data');
const registry = await createRegistry();
const perDataset: Record<
  string,
  { ms: number; coldMs: number; readMs: number; utterances: number; bytes: number; splits: string[] }
> = {};
let total = 0;
let totalRead = 0;

// Every form present is loaded: each loader's splits whose files are all there, in every variant
// (SST's GLUE files beside the trees), and the other forms of a loader that can be told to read one
// (withVariant: EmoryNLP's JSON release beside the CSV, which the plain loader does not read then).
const forms: { id: string; loader: DatasetLoader; dir: string; splits: string[]; files: string[][] }[] = [];
const complete = (loader: DatasetLoader, dir: string, variant: string) =>
  loader.splits.filter((sp) => {
    const f = loader.expectedFiles[variant]?.[sp] ?? [];
    return f.length > 0 && f.every((x) => existsSync(join(dir, x)));
  });
function addForm(id: string, loader: DatasetLoader, dir: string, variants: readonly string[]): void {
  const splits: string[] = [];
  const files: string[][] = [];
  for (const variant of variants) {
    for (const sp of complete(loader, dir, variant)) {
      if (splits.includes(sp)) continue;
      splits.push(sp);
      files.push([...loader.expectedFiles[variant]![sp]!]);
    }
  }
  if (splits.length > 0) forms.push({ id, loader, dir, splits, files });
}
for (const loader of registry.loaders.values()) {
  const dir = join(dataDir, loader.id);
  if (!existsSync(dir)) continue;
  const detected = await loader.detect(dir);
  addForm(loader.id, loader, dir, [detected.variant ?? '', ...Object.keys(loader.expectedFiles)]);
  if (!loader.withVariant) continue;
  for (const variant of Object.keys(loader.expectedFiles)) {
    if (variant !== detected.variant)
      addForm(`${loader.id} (${variant})`, loader.withVariant(variant), dir, [variant]);
  }
}

let coldTotal = 0;
for (const { id, loader, dir, splits, files } of forms) {
  // The first pass is cold (module JIT, file cache as it is): what a user's first run pays.
  let t0 = performance.now();
  for (const sp of splits) await loader.load(dir, sp);
  const cold = performance.now() - t0;
  coldTotal += cold;
  // Then three repetitions, interleaving parse and raw read.
  const times: number[] = [];
  const reads: number[] = [];
  let utterances = 0;
  let bytes = 0;
  for (let rep = 0; rep < 3; rep++) {
    t0 = performance.now();
    utterances = 0;
    for (const sp of splits) {
      const loaded = await loader.load(dir, sp);
      utterances += loaded.dialogues.reduce((n, d) => n + d.utterances.length, 0);
    }
    times.push(performance.now() - t0);
    t0 = performance.now();
    bytes = 0;
    for (const f of files.flat()) bytes += (await readFile(join(dir, f))).length;
    reads.push(performance.now() - t0);
  }
  const ms = median(times);
  const readMs = median(reads);
  perDataset[id] = { ms: round(ms), coldMs: round(cold), readMs: round(readMs), utterances, bytes, splits };
  total += ms;
  totalRead += readMs;
}

const result = {
  benchmark: 'loaders',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  data: dataDir,
  total_ms: round(total),
  cold_total_ms: round(coldTotal),
  bound_ms: 2000,
  within_bound: total < 2000 && coldTotal < 2000,
  parse_vs_raw_read_ratio: round(total / Math.max(totalRead, 1e-9)),
  datasets: perDataset,
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'loaders.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
if (!result.within_bound) process.exitCode = 1;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function round(x: number): number {
  return Math.round(x * 100) / 100;
}
