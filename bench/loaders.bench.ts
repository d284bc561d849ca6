/**
 * Loader throughput: detect + load every split of every dataset present in ../shared/data (or
 * $EMOTION_EVAL_SHARED_DATA), side by side with plainly reading the same files' bytes, so the ratio
 * says what parsing costs. The acceptance bound is on the total: all loaders together under 2 s.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { createRegistry } from '../harness/builtins.ts';

const dataDir = process.env.EMOTION_EVAL_SHARED_DATA ?? resolve(import.meta.dirname, '../../shared/data');
const registry = await createRegistry();
const perDataset: Record<
  string,
  { ms: number; readMs: number; utterances: number; bytes: number; splits: string[] }
> = {};
let total = 0;
let totalRead = 0;

for (const loader of registry.loaders.values()) {
  const dir = join(dataDir, loader.id);
  if (!existsSync(dir)) continue;
  const detected = await loader.detect(dir);
  const files = detected.variant ? (loader.expectedFiles[detected.variant] ?? {}) : {};
  const splits = loader.splits.filter(
    (s) => (files[s] ?? []).length > 0 && files[s]!.every((f) => detected.present.includes(f)),
  );
  if (splits.length === 0) continue;
  // Warm-up once (module JIT), then time three repetitions, interleaving parse and raw read.
  for (const s of splits) await loader.load(dir, s);
  const times: number[] = [];
  const reads: number[] = [];
  let utterances = 0;
  let bytes = 0;
  for (let rep = 0; rep < 3; rep++) {
    let t0 = performance.now();
    utterances = 0;
    for (const s of splits) {
      const loaded = await loader.load(dir, s);
      utterances += loaded.dialogues.reduce((n, d) => n + d.utterances.length, 0);
    }
    times.push(performance.now() - t0);
    t0 = performance.now();
    bytes = 0;
    for (const s of splits) for (const f of files[s]!) bytes += (await readFile(join(dir, f))).length;
    reads.push(performance.now() - t0);
  }
  const ms = median(times);
  const readMs = median(reads);
  perDataset[loader.id] = { ms: round(ms), readMs: round(readMs), utterances, bytes, splits };
  total += ms;
  totalRead += readMs;
}

const result = {
  benchmark: 'loaders',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  data: dataDir,
  total_ms: round(total),
  bound_ms: 2000,
  within_bound: total < 2000,
  parse_vs_raw_read_ratio: round(total / Math.max(totalRead, 1e-9)),
  datasets: perDataset,
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'loaders.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function round(x: number): number {
  return Math.round(x * 100) / 100;
}
