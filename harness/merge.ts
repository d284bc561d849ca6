import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from './errors.ts';
import { addParseCounts, computeMetrics } from './metrics.ts';
import { idsHash, summaryCell } from './runner.ts';
import { scoreRecords } from './stats.ts';
import {
  RunLock,
  RunPaths,
  readJson,
  readRecords,
  recordLine,
  writeJsonAtomic,
  writeTextAtomic,
} from './store.ts';
import type { Manifest, MetricsFile, ParseCounts, PredictionRecord, Summary, SummaryCell } from './types.ts';

/**
 * Joins the shards of one sharded run (`run --shard I/N` on N machines) into one run folder:
 * they must share one config (same plan hash) and together cover every example of every cell
 * exactly once; the metrics are then computed on the whole, as an unsharded run would.
 */
export async function mergeShards(
  dirs: readonly string[],
  outDir: string,
  o: { resamples?: number } = {},
): Promise<{ runDir: string; summary: Summary }> {
  if (dirs.length === 0) throw new InputError('merge needs at least one shard folder');
  const shards = dirs.map((dir) => ({
    dir,
    paths: new RunPaths(dir),
    manifest: readJson<Manifest>(join(dir, 'manifest.json')),
  }));
  const first = shards[0]!.manifest;
  for (const s of shards) {
    if (!s.manifest.shard)
      throw new InputError('not a shard (run without --shard)', join(s.dir, 'manifest.json'));
    if (s.manifest.plan_hash !== first.plan_hash) {
      throw new InputError(
        `shard was run with another config than ${shards[0]!.dir}`,
        join(s.dir, 'manifest.json'),
      );
    }
    if (!s.manifest.finished)
      throw new InputError('shard is not finished; resume it first', join(s.dir, 'manifest.json'));
  }
  const indices = shards.map((s) => s.manifest.shard!.index).sort((a, b) => a - b);
  const count = first.shard!.count;
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !indices.includes(i));
  if (missing.length > 0) throw new InputError(`shards ${missing.join(', ')} of ${count} are missing`);
  const dup = indices.find((v, i) => indices[i + 1] === v);
  if (dup !== undefined) throw new InputError(`shard ${dup} of ${count} is given twice`);

  const paths = new RunPaths(outDir);
  if (existsSync(paths.manifest)) throw new InputError('already holds a run; choose an empty --out', outDir);
  // A merge that fails (shards that overlap or fall short) must leave nothing half-written: what
  // it creates goes again.
  const created = [outDir, join(outDir, 'predictions'), join(outDir, 'metrics')].filter(
    (d) => !existsSync(d),
  );
  let failed = false;
  const lock = new RunLock(paths.lock);
  lock.acquire();
  try {
    const cells: SummaryCell[] = [];
    const counts = new Map<string, ParseCounts>();
    const summaryCells = readJson<Summary>(join(shards[0]!.dir, 'summary.json')).cells;
    for (const cell of summaryCells) {
      const records: PredictionRecord[] = [];
      const seen = new Set<string>();
      for (const s of shards) {
        const file = s.paths.predictions(cell.task, cell.adapter, cell.seed);
        for await (const { record: r } of readRecords(file)) {
          if (seen.has(r.id)) throw new InputError(`example '${r.id}' appears in two shards`, file);
          seen.add(r.id);
          records.push(r);
        }
      }
      const task = first.tasks[cell.task]!;
      if (records.length !== task.n_total || idsHash(records) !== task.ids_sha256) {
        throw new InputError(
          `cell ${cell.task}/${cell.adapter}/seed-${cell.seed}: the shards hold ${records.length} examples, the task has ${task.n_total}`,
        );
      }
      records.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
      writeTextAtomic(
        paths.predictions(cell.task, cell.adapter, cell.seed),
        records.map(recordLine).join(''),
      );
      const base = readJson<MetricsFile>(s0Metrics(shards[0]!.paths, cell));
      const protocol = {
        labels: base.labels,
        headline: base.headline,
        metrics: Object.keys(base.metrics) as MetricsFile['headline'][],
        neutral: base.neutral,
        positive: base.positive,
        negative: base.negative,
      };
      const resamples = o.resamples ?? base.ci?.[base.headline]?.resamples ?? 0;
      const scored =
        resamples > 0
          ? scoreRecords(records, protocol, {
              resamples,
              seed: cell.seed,
              unit: base.ci?.[base.headline]?.unit ?? 'dialogue',
            })
          : computeMetrics(records, protocol);
      const metrics = { ...base, ...scored } as MetricsFile;
      writeJsonAtomic(paths.metrics(cell.task, cell.adapter, cell.seed), metrics);
      cells.push(summaryCell(metrics));
      // Run-wide answer counts over the whole run (each shard's manifest counts only its part).
      counts.set(cell.adapter, addParseCounts(counts.get(cell.adapter), metrics.parse_counts));
    }
    const runId = outDir.split(/[\\/]/).filter(Boolean).pop()!;
    const adapters = structuredClone(first.adapters);
    for (const [id, entry] of Object.entries(adapters)) {
      delete entry.parse_counts;
      const total = counts.get(id);
      if (total) entry.parse_counts = total;
    }
    const manifest: Manifest = {
      ...first,
      adapters,
      run_id: runId,
      shard: null,
      merged_from: shards.map((s) => s.manifest.run_id),
      tasks: Object.fromEntries(
        Object.entries(first.tasks).map(([id, t]) => [id, { ...t, n: t.n_total ?? t.n }]),
      ),
      finished: new Date().toISOString(),
    };
    writeJsonAtomic(paths.manifest, manifest);
    const summary: Summary = { run_id: runId, created: new Date().toISOString(), cells };
    writeJsonAtomic(paths.summary, summary);
    return { runDir: outDir, summary };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    lock.release();
    if (failed) for (const d of created) rmSync(d, { recursive: true, force: true });
  }
}

function s0Metrics(paths: RunPaths, cell: SummaryCell): string {
  return paths.metrics(cell.task, cell.adapter, cell.seed);
}

/** Lists run folders under a folder (used to pass a parent folder of shards). */
export function shardFolders(dir: string): string[] {
  return readdirSync(dir)
    .map((d) => join(dir, d))
    .filter((d) => existsSync(join(d, 'manifest.json')));
}
