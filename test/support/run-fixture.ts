/**
 * Writes a run folder (architecture doc, section 5) from prediction records: summary.json,
 * metrics/<task>/<adapter>/seed-<n>.json (computed by harness/metrics.ts, which is checked against
 * scikit-learn) and predictions/<task>/<adapter>/seed-<n>.jsonl. For compare and report tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeMetrics, type ProtocolLike } from '../../harness/metrics.ts';
import type { MetricsFile, PredictionRecord, Summary, SummaryCell } from '../../harness/types.ts';

export interface RunFixtureCell {
  task: string;
  adapter: string;
  seed?: number;
  /** Protocol id written to the files (default: the task id). */
  protocolId?: string;
  protocol: ProtocolLike;
  records: PredictionRecord[];
}

/** Writes `root/<runId>/` and returns that folder. */
export function writeRunFromRecords(root: string, runId: string, cells: readonly RunFixtureCell[]): string {
  const dir = join(root, runId);
  mkdirSync(dir, { recursive: true });
  const summaryCells: SummaryCell[] = [];
  for (const c of cells) {
    const seed = c.seed ?? 1;
    const computed = computeMetrics(c.records, c.protocol);
    const metrics: MetricsFile = {
      task: c.task,
      protocol: c.protocolId ?? c.task,
      adapter: c.adapter,
      seed,
      ...computed,
    };
    const mdir = join(dir, 'metrics', c.task, c.adapter);
    mkdirSync(mdir, { recursive: true });
    writeFileSync(join(mdir, `seed-${seed}.json`), `${JSON.stringify(metrics, null, 2)}\n`);
    const pdir = join(dir, 'predictions', c.task, c.adapter);
    mkdirSync(pdir, { recursive: true });
    writeFileSync(join(pdir, `seed-${seed}.jsonl`), c.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    summaryCells.push({
      task: c.task,
      protocol: metrics.protocol,
      adapter: c.adapter,
      seed,
      headline: c.protocol.headline,
      value: computed.metrics[c.protocol.headline]!,
      n: computed.n,
      parse_rate: computed.metrics.parse_rate!,
      metrics: computed.metrics,
    });
  }
  const summary: Summary = { run_id: runId, created: '2026-01-01T00:00:00.000Z', cells: summaryCells };
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return dir;
}
