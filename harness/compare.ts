/**
 * Paired comparison of two runs (the CI regression gate). Cells are paired by task, adapter and
 * seed; examples by id. Each paired cell gets its headline metric on both sides, the difference
 * with a paired-bootstrap CI, a permutation-test p-value (plus McNemar's exact test when the
 * headline is accuracy), and a Holm adjustment across all paired cells. A cell regresses when its
 * drop exceeds `maxDrop` and its adjusted p is below `alpha`; the gate also fails when a baseline
 * cell is missing from the candidate (a task that stopped being evaluated must not pass silently).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from './errors.ts';
import {
  encodeOutcomes,
  isBuiltinMetric,
  METRIC_NAMES,
  metricApplies,
  type OutcomeRecord,
} from './metrics.ts';
import {
  DEFAULT_LEVEL,
  DEFAULT_PERMUTATIONS,
  DEFAULT_RESAMPLES,
  holm,
  mcnemarExact,
  pairedBootstrap,
  permutationTest,
  type ResampleUnit,
} from './stats.ts';
import type { Interval, MetricName, MetricsFile, ParseStatus } from './types.ts';

export interface CompareOptions {
  /** Significance level after Holm correction (default 0.05). */
  alpha?: number;
  /** Largest tolerated drop of the headline metric, as a fraction (default 0). */
  maxDrop?: number;
  /** Seed of the bootstrap and permutation streams (default 0). */
  seed?: number;
  /** Permutations of the randomization test (default 10,000). */
  permutations?: number;
  /** Bootstrap resamples of the delta CI (default 1000). */
  resamples?: number;
  /** Resampling unit (default 'dialogue' where records carry dialogue ids). */
  unit?: ResampleUnit;
  /** Level of the delta CI (default 0.95). */
  level?: number;
  /** Let baseline cells be absent from the candidate without failing the gate (default false). */
  allowMissing?: boolean;
}

export type Verdict = 'improved' | 'no significant change' | 'regressed';

export interface CellKey {
  task: string;
  adapter: string;
  seed: number;
}

export interface CellComparison extends CellKey {
  protocol: string;
  headline: MetricName;
  n: number;
  baseline: number;
  candidate: number;
  /** candidate - baseline. */
  delta: number;
  /** Paired-bootstrap CI of delta. */
  ci: Interval;
  /** Permutation-test p (two-sided) of the headline metric. */
  p: number;
  /** p after Holm's correction across the paired cells. */
  pAdjusted: number;
  /** Paired-bootstrap p (reported, not used by the gate). */
  bootstrapP: number;
  /** McNemar's exact p, when the headline is accuracy (or wa). */
  mcnemarP?: number;
  verdict: Verdict;
  /** Why a verdict is what it is, when not obvious (e.g. a significant drop within --max-drop). */
  note?: string;
}

export interface ComparisonResult {
  baseline: { dir: string; runId: string };
  candidate: { dir: string; runId: string };
  alpha: number;
  maxDrop: number;
  seed: number;
  permutations: number;
  resamples: number;
  cells: CellComparison[];
  /** Baseline cells with no candidate counterpart (fail the gate unless allowMissing). */
  missing: CellKey[];
  /** Candidate cells with no baseline counterpart (reported only). */
  added: CellKey[];
  /** Whether missing cells were tolerated (else they fail the gate). */
  allowMissing: boolean;
  regressions: number;
  improvements: number;
  passed: boolean;
  /** 1 when the gate fails, else 0 (the CLI's exit code). */
  exitCode: 0 | 1;
  /** One line for a PR comment or a terminal. */
  summary: string;
}

// ---------------------------------------------------------------------------------------------
// Reading run folders
// ---------------------------------------------------------------------------------------------

function readJsonFile(path: string): unknown {
  if (!existsSync(path)) throw new InputError('file not found', path);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`not valid JSON: ${(err as Error).message}`, path);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface RunCells {
  runId: string;
  cells: CellKey[];
}

function readSummary(dir: string): RunCells {
  const path = join(dir, 'summary.json');
  const raw = readJsonFile(path);
  if (!isObject(raw) || !Array.isArray(raw.cells))
    throw new InputError('expected a summary with a "cells" array (is this a run folder?)', path);
  const cells = raw.cells.map((c, i): CellKey => {
    if (
      !isObject(c) ||
      typeof c.task !== 'string' ||
      typeof c.adapter !== 'string' ||
      !Number.isInteger(c.seed)
    )
      throw new InputError(`cells[${i}]: expected task (string), adapter (string) and seed (integer)`, path);
    return { task: c.task, adapter: c.adapter, seed: c.seed as number };
  });
  return { runId: typeof raw.run_id === 'string' ? raw.run_id : dir, cells };
}

function readMetricsFile(dir: string, key: CellKey): MetricsFile {
  const path = join(dir, 'metrics', key.task, key.adapter, `seed-${key.seed}.json`);
  const raw = readJsonFile(path);
  if (!isObject(raw)) throw new InputError('expected a metrics object', path);
  if (typeof raw.headline !== 'string' || !isBuiltinMetric(raw.headline))
    throw new InputError(`headline: expected one of ${METRIC_NAMES.join(', ')}`, path);
  if (!Array.isArray(raw.labels) || raw.labels.length === 0 || raw.labels.some((l) => typeof l !== 'string'))
    throw new InputError('labels: expected a non-empty array of strings', path);
  for (const role of ['neutral', 'positive', 'negative'] as const) {
    if (raw[role] !== undefined && typeof raw[role] !== 'string')
      throw new InputError(`${role}: expected a label string`, path);
  }
  return raw as unknown as MetricsFile;
}

interface CellRecord extends OutcomeRecord {
  id: string;
  dialogueId?: string;
}

function readPredictions(dir: string, key: CellKey): { path: string; records: CellRecord[] } {
  const path = join(dir, 'predictions', key.task, key.adapter, `seed-${key.seed}.jsonl`);
  if (!existsSync(path)) throw new InputError('file not found', path);
  const records: CellRecord[] = [];
  const seen = new Set<string>();
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((text, i) => {
    const line = i + 1;
    if (text.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new InputError('expected one JSON object per line', path, line);
    }
    if (!isObject(v)) throw new InputError('expected a JSON object with "id", "gold" and "pred"', path, line);
    const { id, gold, pred, parse, dialogueId } = v;
    if (typeof id !== 'string' && typeof id !== 'number')
      throw new InputError('expected "id" (string)', path, line);
    if (typeof gold !== 'string') throw new InputError('expected "gold" (a label string)', path, line);
    if (pred !== null && typeof pred !== 'string')
      throw new InputError('expected "pred" (a label string or null)', path, line);
    if (parse !== undefined && parse !== 'ok' && parse !== 'unparseable' && parse !== 'error')
      throw new InputError('expected "parse" to be ok, unparseable or error', path, line);
    const sid = String(id);
    if (seen.has(sid)) throw new InputError(`duplicate id '${sid}'`, path, line);
    seen.add(sid);
    const rec: CellRecord = { id: sid, gold, pred };
    if (parse !== undefined) rec.parse = parse as ParseStatus;
    if (typeof dialogueId === 'string') rec.dialogueId = dialogueId;
    records.push(rec);
  });
  if (records.length === 0) throw new InputError('no predictions in file', path);
  return { path, records };
}

const keyOf = (c: CellKey) => `${c.task}\u0000${c.adapter}\u0000${c.seed}`;

/** Candidate records reordered to the baseline's example order; any id or gold mismatch is an error. */
function pairRecords(
  base: { path: string; records: CellRecord[] },
  cand: { path: string; records: CellRecord[] },
): CellRecord[] {
  const byId = new Map(cand.records.map((r) => [r.id, r]));
  const out: CellRecord[] = [];
  for (const r of base.records) {
    const c = byId.get(r.id);
    if (!c) throw new InputError(`example '${r.id}' of the baseline (${base.path}) is missing`, cand.path);
    if (c.gold !== r.gold)
      throw new InputError(
        `example '${r.id}': gold label '${c.gold}' differs from the baseline's '${r.gold}'`,
        cand.path,
      );
    out.push(c);
  }
  if (cand.records.length !== base.records.length) {
    const baseIds = new Set(base.records.map((r) => r.id));
    const extra = cand.records.find((r) => !baseIds.has(r.id))!;
    throw new InputError(`example '${extra.id}' is not in the baseline (${base.path})`, cand.path);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The comparison
// ---------------------------------------------------------------------------------------------

export async function compareRuns(
  baselineDir: string,
  candidateDir: string,
  opts: CompareOptions = {},
): Promise<ComparisonResult> {
  const alpha = opts.alpha ?? 0.05;
  const maxDrop = opts.maxDrop ?? 0;
  const seed = opts.seed ?? 0;
  const permutations = opts.permutations ?? DEFAULT_PERMUTATIONS;
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  if (!(alpha > 0 && alpha < 1)) throw new InputError(`--alpha: expected a number in (0, 1), got ${alpha}`);
  if (!(maxDrop >= 0)) throw new InputError(`--max-drop: expected a number >= 0, got ${maxDrop}`);

  const base = readSummary(baselineDir);
  const cand = readSummary(candidateDir);
  const candKeys = new Set(cand.cells.map(keyOf));
  const baseKeys = new Set(base.cells.map(keyOf));
  const paired = base.cells.filter((c) => candKeys.has(keyOf(c)));
  const missing = base.cells.filter((c) => !candKeys.has(keyOf(c)));
  const added = cand.cells.filter((c) => !baseKeys.has(keyOf(c)));
  if (paired.length === 0)
    throw new InputError(
      `no cell (task, adapter, seed) of the baseline is in the candidate run (${candidateDir})`,
      join(baselineDir, 'summary.json'),
    );

  const partial: Omit<CellComparison, 'pAdjusted' | 'verdict'>[] = [];
  for (const key of paired) {
    const mb = readMetricsFile(baselineDir, key);
    const mc = readMetricsFile(candidateDir, key);
    const candMetricsPath = join(candidateDir, 'metrics', key.task, key.adapter, `seed-${key.seed}.json`);
    if (mb.headline !== mc.headline)
      throw new InputError(
        `headline ${mc.headline} differs from the baseline's ${mb.headline}`,
        candMetricsPath,
      );
    if (mb.labels.join('\u0000') !== mc.labels.join('\u0000'))
      throw new InputError(
        `labels [${mc.labels}] differ from the baseline's [${mb.labels}]`,
        candMetricsPath,
      );
    const pb = readPredictions(baselineDir, key);
    const pc = readPredictions(candidateDir, key);
    const candRecords = pairRecords(pb, pc);
    const a = encodeOutcomes(pb.records, mb.labels, { file: pb.path });
    const b = encodeOutcomes(candRecords, mb.labels, { file: pc.path });
    const roles = {
      ...(mb.neutral !== undefined ? { neutral: mb.neutral } : {}),
      ...(mb.positive !== undefined ? { positive: mb.positive } : {}),
      ...(mb.negative !== undefined ? { negative: mb.negative } : {}),
    };
    if (!metricApplies(mb.headline, roles)) {
      const need = mb.headline === 'pos_neg_f1' ? '"positive" and "negative"' : '"neutral"';
      throw new InputError(
        `headline ${mb.headline} needs ${need} in the metrics file`,
        join(baselineDir, 'metrics', key.task, key.adapter, `seed-${key.seed}.json`),
      );
    }
    const dialogueIds = pb.records.map((r) => r.dialogueId);
    const unit = opts.unit ?? 'dialogue';
    const boot = pairedBootstrap(a, b, mb.headline, roles, {
      resamples,
      seed,
      unit,
      dialogueIds,
      level: opts.level ?? DEFAULT_LEVEL,
    });
    const perm = permutationTest(a, b, mb.headline, roles, { permutations, seed, unit, dialogueIds });
    const cell: Omit<CellComparison, 'pAdjusted' | 'verdict'> = {
      ...key,
      protocol: typeof mb.protocol === 'string' ? mb.protocol : key.task,
      headline: mb.headline,
      n: a.gold.length,
      baseline: boot.baseline,
      candidate: boot.candidate,
      delta: boot.delta,
      ci: boot.ci,
      p: perm.p,
      bootstrapP: boot.p,
    };
    if (mb.headline === 'accuracy' || mb.headline === 'wa') cell.mcnemarP = mcnemarExact(a, b).p;
    partial.push(cell);
  }

  const adjusted = holm(partial.map((c) => c.p));
  const cells: CellComparison[] = partial.map((c, i) => {
    const pAdjusted = adjusted[i]!;
    const significant = pAdjusted < alpha;
    let verdict: Verdict = 'no significant change';
    let note: string | undefined;
    if (significant && c.delta < -maxDrop) verdict = 'regressed';
    else if (significant && c.delta > 0) verdict = 'improved';
    else if (significant && c.delta < 0) note = `significant drop within the tolerated ${maxDrop}`;
    return { ...c, pAdjusted, verdict, ...(note ? { note } : {}) };
  });
  const regressions = cells.filter((c) => c.verdict === 'regressed').length;
  const improvements = cells.filter((c) => c.verdict === 'improved').length;
  const missingFails = missing.length > 0 && !opts.allowMissing;
  const passed = regressions === 0 && !missingFails;
  const parts = [
    `${cells.length} cell${cells.length === 1 ? '' : 's'} compared`,
    `${regressions} regressed`,
    `${improvements} improved`,
  ];
  if (missing.length > 0) parts.push(`${missing.length} missing from the candidate`);
  if (added.length > 0) parts.push(`${added.length} new`);
  const summary = `${passed ? 'PASS' : 'FAIL'}: ${parts.join(', ')} (Holm-adjusted alpha ${alpha}, max drop ${maxDrop})`;
  return {
    baseline: { dir: baselineDir, runId: base.runId },
    candidate: { dir: candidateDir, runId: cand.runId },
    alpha,
    maxDrop,
    seed,
    permutations,
    resamples,
    cells,
    missing,
    added,
    allowMissing: opts.allowMissing ?? false,
    regressions,
    improvements,
    passed,
    exitCode: passed ? 0 : 1,
    summary,
  };
}
