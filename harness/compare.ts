/**
 * Paired comparison of two runs (the CI regression gate). Cells are paired by task and adapter;
 * examples by id. Seeds pair up by number where the two runs share seeds, else in order (one seed
 * each: baseline seed 1 against candidate seed 3 is still the same cell); several paired seeds are
 * pooled into one test, their examples resampled and permuted together with their dialogue (or, by
 * utterance, with their example), so a cell is one test whatever its seed count. Each paired cell
 * gets its headline metric on both sides, the difference with a paired-bootstrap CI, a
 * permutation-test p-value (plus McNemar's exact test when the headline is accuracy and there is
 * one seed), and a Holm adjustment across all paired cells. A cell regresses when its drop exceeds
 * `maxDrop` and its adjusted p is below `alpha`; the gate also fails when a baseline cell is
 * missing from the candidate (a task that stopped being evaluated must not pass silently). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from './errors.ts';
import {
  encodeOutcomes,
  isBuiltinMetric,
  METRIC_NAMES,
  metricApplies,
  type OutcomeRecord,
  parseCounts,
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
  /** Let candidate examples recorded as errors (no answer) pass the gate (default false). */
  allowErrors?: boolean;
}

/**
 * `incomplete`: the candidate has examples recorded as errors (a server that failed, not a model
 * answer); they count as wrong, so its scores say nothing about the model until they are redone
 * (`run --retry-errors`). It fails the gate unless allowErrors.
 */
export type Verdict = 'improved' | 'no significant change' | 'regressed' | 'incomplete';

/** One cell of a run: a task, an adapter and one seed (one predictions file). */
export interface SeedCell {
  task: string;
  adapter: string;
  seed: number;
}

/** A compared cell: a task and an adapter, with the seeds each run has of it. */
export interface CellKey {
  task: string;
  adapter: string;
  /** Seeds of this cell in the run it comes from (for missing and added cells). */
  seeds: number[];
}

export interface CellComparison {
  task: string;
  adapter: string;
  /** Seeds compared, paired position by position (several: pooled into one test). */
  seeds: { baseline: number[]; candidate: number[] };
  protocol: string;
  headline: MetricName;
  /** Examples compared (per seed). */
  n: number;
  /** Headline of the baseline (several seeds: of their pooled predictions). */
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
  /** Examples recorded as errors (no answer), over the compared seeds. */
  errors: { baseline: number; candidate: number };
  /** Share of answers that parsed to a label, over the compared seeds. */
  parseRate: { baseline: number; candidate: number };
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
  /** Whether candidate error records were tolerated (else their cells are `incomplete` and fail). */
  allowErrors: boolean;
  regressions: number;
  /** Cells whose candidate has examples recorded as errors. */
  incomplete: number;
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
  cells: SeedCell[];
}

function readSummary(dir: string): RunCells {
  const path = join(dir, 'summary.json');
  const raw = readJsonFile(path);
  if (!isObject(raw) || !Array.isArray(raw.cells))
    throw new InputError('expected a summary with a "cells" array (is this a run folder?)', path);
  const cells = raw.cells.map((c, i): SeedCell => {
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

function readMetricsFile(dir: string, key: SeedCell): MetricsFile {
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

function readPredictions(dir: string, key: SeedCell): { path: string; records: CellRecord[] } {
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
    const { id, gold, pred, parse, dialogueId, lenient } = v;
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
    if (lenient === true) rec.lenient = true;
    records.push(rec);
  });
  if (records.length === 0) throw new InputError('no predictions in file', path);
  return { path, records };
}

const keyOf = (c: { task: string; adapter: string }) => `${c.task}\u0000${c.adapter}`;

/** Seeds of each (task, adapter) cell, in ascending order. */
function groupSeeds(cells: readonly SeedCell[]): Map<string, CellKey> {
  const out = new Map<string, CellKey>();
  for (const c of cells) {
    const k = keyOf(c);
    const g = out.get(k) ?? { task: c.task, adapter: c.adapter, seeds: [] };
    g.seeds.push(c.seed);
    out.set(k, g);
  }
  for (const g of out.values()) g.seeds.sort((a, b) => a - b);
  return out;
}

/**
 * Seed pairs of one cell: the shared seeds where there are any (same seed, same shots and
 * sampling), else the seeds of each run in ascending order, position by position.
 */
function pairSeeds(baseline: readonly number[], candidate: readonly number[]): [number, number][] {
  const shared = baseline.filter((s) => candidate.includes(s));
  if (shared.length > 0) return shared.map((s) => [s, s]);
  const n = Math.min(baseline.length, candidate.length);
  return baseline.slice(0, n).map((s, i) => [s, candidate[i]!]);
}

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
  const baseCells = groupSeeds(base.cells);
  const candCells = groupSeeds(cand.cells);
  const paired = [...baseCells.values()].filter((c) => candCells.has(keyOf(c)));
  const missing = [...baseCells.values()].filter((c) => !candCells.has(keyOf(c)));
  const added = [...candCells.values()].filter((c) => !baseCells.has(keyOf(c)));
  if (paired.length === 0)
    throw new InputError(
      `no cell (task, adapter) of the baseline is in the candidate run (${candidateDir})`,
      join(baselineDir, 'summary.json'),
    );

  const partial: Omit<CellComparison, 'pAdjusted' | 'verdict'>[] = [];
  for (const cell of paired) {
    const seedPairs = pairSeeds(cell.seeds, candCells.get(keyOf(cell))!.seeds);
    const baseRecords: CellRecord[] = [];
    const candRecords: CellRecord[] = [];
    let mb: MetricsFile | undefined;
    let n = 0;
    for (const [sb, sc] of seedPairs) {
      const kb = { task: cell.task, adapter: cell.adapter, seed: sb };
      const kc = { task: cell.task, adapter: cell.adapter, seed: sc };
      const metrics = readMetricsFile(baselineDir, kb);
      const mc = readMetricsFile(candidateDir, kc);
      const candMetricsPath = join(candidateDir, 'metrics', kc.task, kc.adapter, `seed-${kc.seed}.json`);
      if (metrics.headline !== mc.headline)
        throw new InputError(
          `headline ${mc.headline} differs from the baseline's ${metrics.headline}`,
          candMetricsPath,
        );
      if (metrics.labels.join('\u0000') !== mc.labels.join('\u0000'))
        throw new InputError(
          `labels [${mc.labels}] differ from the baseline's [${metrics.labels}]`,
          candMetricsPath,
        );
      if (mb && metrics.labels.join('\u0000') !== mb.labels.join('\u0000'))
        throw new InputError(
          `labels [${metrics.labels}] differ from seed ${seedPairs[0]![0]}'s [${mb.labels}]`,
          join(baselineDir, 'metrics', kb.task, kb.adapter, `seed-${kb.seed}.json`),
        );
      mb ??= metrics;
      const pb = readPredictions(baselineDir, kb);
      const pc = readPredictions(candidateDir, kc);
      n = pb.records.length;
      baseRecords.push(...pb.records);
      candRecords.push(...pairRecords(pb, pc));
    }
    mb = mb!;
    const a = encodeOutcomes(baseRecords, mb.labels, { file: baselineDir });
    const b = encodeOutcomes(candRecords, mb.labels, { file: candidateDir });
    const roles = {
      ...(mb.neutral !== undefined ? { neutral: mb.neutral } : {}),
      ...(mb.positive !== undefined ? { positive: mb.positive } : {}),
      ...(mb.negative !== undefined ? { negative: mb.negative } : {}),
    };
    if (!metricApplies(mb.headline, roles)) {
      const need = mb.headline === 'pos_neg_f1' ? '"positive" and "negative"' : '"neutral"';
      throw new InputError(
        `headline ${mb.headline} needs ${need} in the metrics file`,
        join(baselineDir, 'metrics', cell.task, cell.adapter, `seed-${seedPairs[0]![0]}.json`),
      );
    }
    const requested = opts.unit ?? 'dialogue';
    const pooled = seedPairs.length > 1;
    // Pooled seeds: an example's seeds are one unit with its dialogue (or, by utterance, with
    // each other), since they are the same text and not independent draws.
    const pb = parseCounts(baseRecords, mb.labels);
    const pc = parseCounts(candRecords, mb.labels);
    const dialogueIds = baseRecords.map((r) =>
      requested === 'dialogue' ? (r.dialogueId ?? (pooled ? `\u0000${r.id}` : undefined)) : r.id,
    );
    const unit: ResampleUnit = requested === 'dialogue' || pooled ? 'dialogue' : 'utterance';
    const boot = pairedBootstrap(a, b, mb.headline, roles, {
      resamples,
      seed,
      unit,
      dialogueIds,
      level: opts.level ?? DEFAULT_LEVEL,
    });
    const perm = permutationTest(a, b, mb.headline, roles, { permutations, seed, unit, dialogueIds });
    const result: Omit<CellComparison, 'pAdjusted' | 'verdict'> = {
      task: cell.task,
      adapter: cell.adapter,
      seeds: { baseline: seedPairs.map((p) => p[0]), candidate: seedPairs.map((p) => p[1]) },
      protocol: typeof mb.protocol === 'string' ? mb.protocol : cell.task,
      headline: mb.headline,
      n,
      baseline: boot.baseline,
      candidate: boot.candidate,
      delta: boot.delta,
      // The unit asked for: by utterance, pooled seeds are grouped per example only.
      ci: { ...boot.ci, unit: requested === 'utterance' ? 'utterance' : boot.ci.unit },
      p: perm.p,
      bootstrapP: boot.p,
      errors: { baseline: pb.error, candidate: pc.error },
      parseRate: { baseline: pb.ok / baseRecords.length, candidate: pc.ok / candRecords.length },
    };
    const unpaired = [
      ...cell.seeds.filter((s) => !result.seeds.baseline.includes(s)).map((s) => `baseline seed ${s}`),
      ...candCells
        .get(keyOf(cell))!
        .seeds.filter((s) => !result.seeds.candidate.includes(s))
        .map((s) => `candidate seed ${s}`),
    ];
    const notes = [
      // The leaderboard shows the mean over seeds; this test is on the pooled predictions.
      ...(pooled ? [`values over the pooled predictions of ${seedPairs.length} seeds`] : []),
      ...(unpaired.length > 0 ? [`not compared: ${unpaired.join(', ')}`] : []),
    ];
    if (notes.length > 0) result.note = notes.join('; ');
    // McNemar's test assumes independent pairs: one seed only.
    if ((mb.headline === 'accuracy' || mb.headline === 'wa') && !pooled)
      result.mcnemarP = mcnemarExact(a, b).p;
    partial.push(result);
  }

  const adjusted = holm(partial.map((c) => c.p));
  const cells: CellComparison[] = partial.map((c, i) => {
    const pAdjusted = adjusted[i]!;
    const significant = pAdjusted < alpha;
    let verdict: Verdict = 'no significant change';
    const notes = c.note ? [c.note] : [];
    if (c.errors.candidate > 0 && !opts.allowErrors) {
      verdict = 'incomplete';
      notes.unshift(
        `${c.errors.candidate} candidate examples recorded as errors (no answer); redo them with run --retry-errors`,
      );
    } else if (significant && c.delta < -maxDrop) verdict = 'regressed';
    else if (significant && c.delta > 0) verdict = 'improved';
    else if (significant && c.delta < 0) notes.unshift(`significant drop within the tolerated ${maxDrop}`);
    const { note: _, ...rest } = c;
    return { ...rest, pAdjusted, verdict, ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
  });
  const regressions = cells.filter((c) => c.verdict === 'regressed').length;
  const improvements = cells.filter((c) => c.verdict === 'improved').length;
  const incomplete = cells.filter((c) => c.verdict === 'incomplete').length;
  const missingFails = missing.length > 0 && !opts.allowMissing;
  const passed = regressions === 0 && incomplete === 0 && !missingFails;
  const parts = [
    `${cells.length} cell${cells.length === 1 ? '' : 's'} compared`,
    `${regressions} regressed`,
    `${improvements} improved`,
  ];
  if (incomplete > 0) parts.push(`${incomplete} incomplete (candidate answers recorded as errors)`);
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
    allowErrors: opts.allowErrors ?? false,
    incomplete,
    regressions,
    improvements,
    passed,
    exitCode: passed ? 0 : 1,
    summary,
  };
}
