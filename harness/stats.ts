/**
 * Uncertainty and paired significance tests for classification metrics.
 *
 * - Percentile bootstrap CIs for any metric, resampling whole dialogues when examples carry a
 *   dialogue id (utterances of one dialogue are not independent), or single utterances on request.
 * - Paired tests on two prediction sets over the same examples: paired bootstrap of the metric
 *   difference, approximate randomization (permutation) test, McNemar's exact test, Holm correction.
 *
 * Speed: every resampling unit (dialogue or utterance) is reduced once to a sparse count vector
 * (see metrics.ts, countWidth); a resample is the sum of a few such vectors and a metric is read
 * from the summed confusion counts. Metrics registered by plugins (no count form) fall back to
 * materialising the resampled outcomes and calling their `compute`.
 */
import jstatModule from 'jstat';
import { InputError } from './errors.ts';
import {
  type ClassTotals,
  type ComputedMetrics,
  cellIndex,
  computeMetrics,
  countMetrics,
  countWidth,
  encodeOutcomes,
  isBuiltinMetric,
  type LabelRoles,
  METRIC_NAMES,
  newTotals,
  type OutcomeRecord,
  type ProtocolLike,
  type RoleIndices,
  roleIndices,
  summariseCounts,
} from './metrics.ts';
import { Rng } from './random.ts';
import type { EncodedOutcomes, Interval, MetricDefinition, MetricName } from './types.ts';

export type ResampleUnit = 'dialogue' | 'utterance';

/** A metric by built-in name, or a registered definition (plugins). */
export type MetricRef = MetricName | MetricDefinition;

export interface ResampleOptions {
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Seed of the resampling stream (default 0). */
  seed?: number;
  /** Resampling unit (default 'dialogue', which becomes 'utterance' when no example has a dialogue id). */
  unit?: ResampleUnit;
  /** Dialogue id of each example, aligned with the outcomes (undefined entries are their own unit). */
  dialogueIds?: readonly (string | undefined)[];
}

export const DEFAULT_RESAMPLES = 1000;
export const DEFAULT_PERMUTATIONS = 10_000;
export const DEFAULT_LEVEL = 0.95;

// ---------------------------------------------------------------------------------------------
// Resampling units
// ---------------------------------------------------------------------------------------------

/** Group index per example and the unit actually used. */
export function resampleGroups(
  n: number,
  unit: ResampleUnit,
  dialogueIds?: readonly (string | undefined)[],
): { groups: Int32Array; count: number; unit: ResampleUnit } {
  const groups = new Int32Array(n);
  const useDialogues =
    unit === 'dialogue' && dialogueIds !== undefined && dialogueIds.some((d) => d !== undefined);
  if (!useDialogues) {
    for (let i = 0; i < n; i++) groups[i] = i;
    return { groups, count: n, unit: 'utterance' };
  }
  if (dialogueIds.length !== n)
    throw new Error(`dialogueIds has ${dialogueIds.length} entries for ${n} examples`);
  const ids = new Map<string, number>();
  let count = 0;
  for (let i = 0; i < n; i++) {
    const d = dialogueIds[i];
    if (d === undefined) {
      groups[i] = count++;
      continue;
    }
    let g = ids.get(d);
    if (g === undefined) {
      g = count++;
      ids.set(d, g);
    }
    groups[i] = g;
  }
  return { groups, count, unit: 'dialogue' };
}

/** Sparse count vectors, one per unit (CSR: entries start[u]..start[u+1]). */
interface UnitVectors {
  units: number;
  width: number;
  start: Int32Array;
  index: Int32Array;
  value: Float64Array;
}

/**
 * Count vector of each unit over one or several outcome sets stacked side by side (width
 * `sets * countWidth(k)`); `sign` lets the permutation test build B - A.
 */
function unitVectors(
  sets: readonly { o: EncodedOutcomes; sign: number }[],
  groups: Int32Array,
  units: number,
) {
  const k = sets[0]!.o.labels.length;
  const w = countWidth(k);
  const width = sets.length * w;
  const n = groups.length;
  // Examples by group (counting sort), so each group's vector is built in one pass.
  const startEx = new Int32Array(units + 1);
  for (let i = 0; i < n; i++) startEx[groups[i]! + 1]!++;
  for (let u = 0; u < units; u++) startEx[u + 1]! += startEx[u]!;
  const order = new Int32Array(n);
  const fill = startEx.slice(0, units);
  for (let i = 0; i < n; i++) order[fill[groups[i]!]!++] = i;

  const dense = new Float64Array(width);
  const touched: number[] = [];
  const start = new Int32Array(units + 1);
  const index: number[] = [];
  const value: number[] = [];
  const add = (cell: number, v: number) => {
    if (dense[cell] === 0) touched.push(cell);
    dense[cell]! += v;
  };
  for (let u = 0; u < units; u++) {
    for (let e = startEx[u]!; e < startEx[u + 1]!; e++) {
      const i = order[e]!;
      sets.forEach(({ o, sign }, s) => {
        const off = s * w;
        const p = o.pred[i]!;
        add(off + cellIndex(k, o.gold[i]!, p), sign);
        if (o.parseOk ? o.parseOk[i] === 1 : p >= 0) add(off + w - 1, sign);
      });
    }
    touched.sort((a, b) => a - b);
    for (const cell of touched) {
      if (dense[cell] !== 0) {
        index.push(cell);
        value.push(dense[cell]!);
      }
      dense[cell] = 0;
    }
    touched.length = 0;
    start[u + 1] = index.length;
  }
  return {
    vectors: {
      units,
      width,
      start,
      index: Int32Array.from(index),
      value: Float64Array.from(value),
    } as UnitVectors,
    order,
    startEx,
  };
}

/**
 * Units with identical count vectors are interchangeable, so they are stored once as a pattern:
 * a resample then counts draws per pattern (one array increment per draw) and adds each pattern's
 * vector times its count. At the utterance level there are at most a few hundred patterns.
 */
interface Patterns {
  count: number;
  /** Pattern of each unit. */
  of: Int32Array;
  /** Units per pattern. */
  size: Int32Array;
  start: Int32Array;
  index: Int32Array;
  value: Float64Array;
}

function patternsOf(v: UnitVectors, keep: (u: number) => boolean = () => true): Patterns {
  const ids = new Map<string, number>();
  const of = new Int32Array(v.units).fill(-1);
  const size: number[] = [];
  const start: number[] = [0];
  const index: number[] = [];
  const value: number[] = [];
  for (let u = 0; u < v.units; u++) {
    if (!keep(u)) continue;
    let key = '';
    for (let e = v.start[u]!; e < v.start[u + 1]!; e++) key += `${v.index[e]}:${v.value[e]},`;
    let p = ids.get(key);
    if (p === undefined) {
      p = size.length;
      ids.set(key, p);
      size.push(0);
      for (let e = v.start[u]!; e < v.start[u + 1]!; e++) {
        index.push(v.index[e]!);
        value.push(v.value[e]!);
      }
      start.push(index.length);
    }
    of[u] = p;
    size[p]!++;
  }
  return {
    count: size.length,
    of,
    size: Int32Array.from(size),
    start: Int32Array.from(start),
    index: Int32Array.from(index),
    value: Float64Array.from(value),
  };
}

/** cells = sum over patterns of times[p] * vector[p]. */
function sumPatterns(pt: Patterns, times: Float64Array, cells: Float64Array): void {
  cells.fill(0);
  for (let p = 0; p < pt.count; p++) {
    const t = times[p]!;
    if (t === 0) continue;
    for (let e = pt.start[p]!; e < pt.start[p + 1]!; e++) cells[pt.index[e]!]! += t * pt.value[e]!;
  }
}

/** Number of set bits in a 32-bit integer. */
function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/**
 * Fair coin flips, 32 per RNG output, with leftover bits carried between calls so that many small
 * patterns (one dialogue each) do not cost one RNG call apiece.
 */
class CoinFlips {
  #word = 0;
  #left = 0;
  constructor(readonly rng: Rng) {}

  /** Binomial(s, 1/2): the number of heads among the next s flips. */
  heads(s: number): number {
    let total = 0;
    let need = s;
    while (need > 0) {
      if (this.#left === 0) {
        this.#word = (this.rng.next() * 4294967296) >>> 0;
        this.#left = 32;
      }
      const take = Math.min(need, this.#left);
      const mask = take === 32 ? 0xffffffff : (1 << take) - 1;
      total += popcount(this.#word & mask);
      this.#word = take === 32 ? 0 : this.#word >>> take;
      this.#left -= take;
      need -= take;
    }
    return total;
  }
}

// ---------------------------------------------------------------------------------------------
// Metric evaluation on counts (fast) or on materialised outcomes (plugins)
// ---------------------------------------------------------------------------------------------

interface Evaluator {
  name: string;
  /** From summed count vector (at offset). */
  fromCounts?: (t: ClassTotals) => number;
  /** From materialised outcomes. */
  fromOutcomes: (o: EncodedOutcomes) => number;
}

function evaluator(ref: MetricRef, labels: readonly string[], roles: LabelRoles): Evaluator {
  const name = typeof ref === 'string' ? ref : ref.name;
  if (isBuiltinMetric(name)) {
    const fn = countMetrics[name];
    const idx: RoleIndices = roleIndices(labels, roles);
    if (name === 'micro_f1_excl_neutral' && idx.neutral < 0)
      throw new InputError(`metric ${name} needs a neutral label, and the protocol defines none`);
    if (name === 'pos_neg_f1' && (idx.positive < 0 || idx.negative < 0))
      throw new InputError(
        `metric ${name} needs positive and negative labels, and the protocol defines none`,
      );
    const k = labels.length;
    const scratch = newTotals(k);
    return {
      name,
      fromCounts: (t) => fn(t, idx),
      fromOutcomes: (o) => {
        const cells = new Float64Array(countWidth(k));
        for (let i = 0; i < o.gold.length; i++) {
          cells[cellIndex(k, o.gold[i]!, o.pred[i]!)]! += 1;
          if (o.parseOk ? o.parseOk[i] === 1 : o.pred[i]! >= 0) cells[countWidth(k) - 1]! += 1;
        }
        return fn(summariseCounts(cells, k, scratch), idx);
      },
    };
  }
  if (typeof ref === 'string') throw new InputError(`unknown metric '${ref}'`);
  return { name, fromOutcomes: (o) => ref.compute(o, roles) };
}

/** Outcomes of the examples listed in `idx` (with repeats), for plugin metrics. */
function pick(o: EncodedOutcomes, idx: ArrayLike<number>, len: number): EncodedOutcomes {
  const gold = new Int32Array(len);
  const pred = new Int32Array(len);
  const parseOk = new Uint8Array(len);
  for (let j = 0; j < len; j++) {
    const i = idx[j]!;
    gold[j] = o.gold[i]!;
    pred[j] = o.pred[i]!;
    parseOk[j] = o.parseOk ? o.parseOk[i]! : o.pred[i]! >= 0 ? 1 : 0;
  }
  return { labels: o.labels, gold, pred, parseOk };
}

// ---------------------------------------------------------------------------------------------
// Quantiles
// ---------------------------------------------------------------------------------------------

/** Quantile with linear interpolation between order statistics (numpy's default, "type 7"). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function percentileInterval(values: Float64Array, level: number): { low: number; high: number } {
  const sorted = Float64Array.from(values).sort();
  const alpha = (1 - level) / 2;
  return { low: quantile(sorted, alpha), high: quantile(sorted, 1 - alpha) };
}

// ---------------------------------------------------------------------------------------------
// Bootstrap CIs
// ---------------------------------------------------------------------------------------------

/**
 * Percentile bootstrap CIs of several metrics, all from the same resamples. Returns one Interval per
 * metric name (method 'percentile-bootstrap').
 */
export function bootstrapIntervals(
  o: EncodedOutcomes,
  metrics: readonly MetricRef[],
  roles: LabelRoles,
  opts: ResampleOptions = {},
): Record<string, Interval> {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const level = opts.level ?? DEFAULT_LEVEL;
  const draws = bootstrapDistribution(o, metrics, roles, opts);
  const out: Record<string, Interval> = {};
  for (const [name, values] of Object.entries(draws.values)) {
    out[name] = {
      ...percentileInterval(values, level),
      level,
      method: 'percentile-bootstrap',
      resamples,
      unit: draws.unit,
    };
  }
  return out;
}

/** The bootstrap distribution of each metric (exported for tests and custom intervals). */
export function bootstrapDistribution(
  o: EncodedOutcomes,
  metrics: readonly MetricRef[],
  roles: LabelRoles,
  opts: ResampleOptions = {},
): { values: Record<string, Float64Array>; unit: ResampleUnit } {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  if (!(resamples >= 1)) throw new InputError(`resamples must be at least 1 (got ${resamples})`);
  const n = o.gold.length;
  if (n === 0) throw new InputError('no examples to resample');
  const k = o.labels.length;
  const evals = metrics.map((m) => evaluator(m, o.labels, roles));
  const g = resampleGroups(n, opts.unit ?? 'dialogue', opts.dialogueIds);
  const { vectors, order, startEx } = unitVectors([{ o, sign: 1 }], g.groups, g.count);
  const rng = new Rng(opts.seed ?? 0);
  const values: Record<string, Float64Array> = {};
  for (const e of evals) values[e.name] = new Float64Array(resamples);
  const cells = new Float64Array(vectors.width);
  const totals = newTotals(k);
  const needOutcomes = evals.some((e) => !e.fromCounts);
  const picked = needOutcomes ? new Int32Array(n * 4) : new Int32Array(0);
  const { units } = vectors;
  const pt = patternsOf(vectors);
  const times = new Float64Array(pt.count);
  const of = pt.of;
  for (let b = 0; b < resamples; b++) {
    times.fill(0);
    let len = 0;
    let buf = picked;
    for (let j = 0; j < units; j++) {
      const u = rng.int(units);
      times[of[u]!]!++;
      if (needOutcomes) {
        const size = startEx[u + 1]! - startEx[u]!;
        if (len + size > buf.length) {
          const bigger = new Int32Array((len + size) * 2);
          bigger.set(buf.subarray(0, len));
          buf = bigger;
        }
        for (let e = startEx[u]!; e < startEx[u + 1]!; e++) buf[len++] = order[e]!;
      }
    }
    sumPatterns(pt, times, cells);
    summariseCounts(cells, k, totals);
    const sample = needOutcomes ? pick(o, buf, len) : undefined;
    for (const e of evals) values[e.name]![b] = e.fromCounts ? e.fromCounts(totals) : e.fromOutcomes(sample!);
  }
  return { values, unit: g.unit };
}

// ---------------------------------------------------------------------------------------------
// Paired tests
// ---------------------------------------------------------------------------------------------

function assertPaired(a: EncodedOutcomes, b: EncodedOutcomes): void {
  if (a.labels.length !== b.labels.length || a.labels.some((l, i) => l !== b.labels[i]))
    throw new InputError(`the two prediction sets use different label sets: [${a.labels}] vs [${b.labels}]`);
  if (a.gold.length !== b.gold.length)
    throw new InputError(`the two prediction sets have ${a.gold.length} and ${b.gold.length} examples`);
  for (let i = 0; i < a.gold.length; i++) {
    if (a.gold[i] !== b.gold[i])
      throw new InputError(`example #${i + 1} has different gold labels in the two sets`);
  }
}

export interface PairedBootstrapResult {
  metric: string;
  baseline: number;
  candidate: number;
  /** candidate - baseline. */
  delta: number;
  ci: Interval;
  /** Two-sided p of delta = 0 from the bootstrap distribution shifted to the null. */
  p: number;
}

/**
 * Paired bootstrap of `metric(candidate) - metric(baseline)`: both sets are resampled with the same
 * units. The p-value is two-sided, from the bootstrap distribution of the difference centred on
 * zero: p = (1 + #{|d* - d| >= |d|}) / (B + 1).
 */
export function pairedBootstrap(
  baseline: EncodedOutcomes,
  candidate: EncodedOutcomes,
  metric: MetricRef,
  roles: LabelRoles,
  opts: ResampleOptions = {},
): PairedBootstrapResult {
  assertPaired(baseline, candidate);
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  if (!(resamples >= 1)) throw new InputError(`resamples must be at least 1 (got ${resamples})`);
  const level = opts.level ?? DEFAULT_LEVEL;
  const n = baseline.gold.length;
  if (n === 0) throw new InputError('no examples to compare');
  const k = baseline.labels.length;
  const w = countWidth(k);
  const ev = evaluator(metric, baseline.labels, roles);
  const scoreOf = (o: EncodedOutcomes) => ev.fromOutcomes(o);
  const a0 = scoreOf(baseline);
  const b0 = scoreOf(candidate);
  const observed = b0 - a0;
  const g = resampleGroups(n, opts.unit ?? 'dialogue', opts.dialogueIds);
  const { vectors, order, startEx } = unitVectors(
    [
      { o: baseline, sign: 1 },
      { o: candidate, sign: 1 },
    ],
    g.groups,
    g.count,
  );
  const rng = new Rng(opts.seed ?? 0);
  const deltas = new Float64Array(resamples);
  const cells = new Float64Array(vectors.width);
  const ta = newTotals(k);
  const tb = newTotals(k);
  const { units } = vectors;
  const chosen = new Int32Array(units);
  const pt = patternsOf(vectors);
  const times = new Float64Array(pt.count);
  for (let r = 0; r < resamples; r++) {
    if (ev.fromCounts) {
      times.fill(0);
      for (let j = 0; j < units; j++) times[pt.of[rng.int(units)]!]!++;
      sumPatterns(pt, times, cells);
      deltas[r] =
        ev.fromCounts(summariseCounts(cells, k, tb, w)) - ev.fromCounts(summariseCounts(cells, k, ta, 0));
    } else {
      for (let j = 0; j < units; j++) chosen[j] = rng.int(units);
      const idx: number[] = [];
      for (const u of chosen) for (let e = startEx[u]!; e < startEx[u + 1]!; e++) idx.push(order[e]!);
      deltas[r] = scoreOf(pick(candidate, idx, idx.length)) - scoreOf(pick(baseline, idx, idx.length));
    }
  }
  let extreme = 0;
  const tol = 1e-12;
  for (const d of deltas) if (Math.abs(d - observed) >= Math.abs(observed) - tol) extreme++;
  return {
    metric: ev.name,
    baseline: a0,
    candidate: b0,
    delta: observed,
    ci: {
      ...percentileInterval(deltas, level),
      level,
      method: 'paired-percentile-bootstrap',
      resamples,
      unit: g.unit,
    },
    p: (extreme + 1) / (resamples + 1),
  };
}

export interface PermutationResult {
  metric: string;
  /** candidate - baseline on the real pairing. */
  delta: number;
  p: number;
  permutations: number;
  unit: ResampleUnit;
}

export interface PermutationOptions {
  permutations?: number;
  seed?: number;
  unit?: ResampleUnit;
  dialogueIds?: readonly (string | undefined)[];
}

/**
 * Approximate randomization test (two-sided): each unit's pair of predictions is swapped with
 * probability 1/2; p = (1 + #{|delta*| >= |delta|}) / (R + 1). Units whose two predictions agree
 * cannot change the statistic and are skipped; coin flips take one bit each of the RNG's output.
 */
export function permutationTest(
  baseline: EncodedOutcomes,
  candidate: EncodedOutcomes,
  metric: MetricRef,
  roles: LabelRoles,
  opts: PermutationOptions = {},
): PermutationResult {
  assertPaired(baseline, candidate);
  const permutations = opts.permutations ?? DEFAULT_PERMUTATIONS;
  if (!(permutations >= 1)) throw new InputError(`permutations must be at least 1 (got ${permutations})`);
  const n = baseline.gold.length;
  if (n === 0) throw new InputError('no examples to compare');
  const k = baseline.labels.length;
  const w = countWidth(k);
  const ev = evaluator(metric, baseline.labels, roles);
  const observed = ev.fromOutcomes(candidate) - ev.fromOutcomes(baseline);
  const g = resampleGroups(n, opts.unit ?? 'dialogue', opts.dialogueIds);
  const rng = new Rng(opts.seed ?? 0);
  const tol = 1e-12;
  const threshold = Math.abs(observed) - tol;
  let extreme = 0;

  if (ev.fromCounts) {
    // diff[u] = B_u - A_u; swapping unit u moves diff[u] from B to A.
    const { vectors } = unitVectors(
      [
        { o: candidate, sign: 1 },
        { o: baseline, sign: -1 },
      ],
      g.groups,
      g.count,
    );
    // Fold the two halves into one vector of width w per unit (B_u - A_u); units that agree drop out.
    const fold = new Float64Array(w);
    const foldStart = new Int32Array(vectors.units + 1);
    const foldIndex: number[] = [];
    const foldValue: number[] = [];
    for (let u = 0; u < vectors.units; u++) {
      for (let e = vectors.start[u]!; e < vectors.start[u + 1]!; e++)
        fold[vectors.index[e]! % w]! += vectors.value[e]!;
      for (let c = 0; c < w; c++) {
        if (fold[c] !== 0) {
          foldIndex.push(c);
          foldValue.push(fold[c]!);
          fold[c] = 0;
        }
      }
      foldStart[u + 1] = foldIndex.length;
    }
    const folded: UnitVectors = {
      units: vectors.units,
      width: w,
      start: foldStart,
      index: Int32Array.from(foldIndex),
      value: Float64Array.from(foldValue),
    };
    // Swapping s units of one pattern moves (number swapped) x pattern from B to A; that number is
    // Binomial(s, 1/2), drawn exactly as the popcount of s fair bits.
    const pt = patternsOf(folded, (u) => foldStart[u + 1]! > foldStart[u]!);
    const totalA = new Float64Array(w);
    const totalB = new Float64Array(w);
    addOutcomes(baseline, totalA);
    addOutcomes(candidate, totalB);
    const d = new Float64Array(w);
    const times = new Float64Array(pt.count);
    const ca = new Float64Array(w);
    const cb = new Float64Array(w);
    const ta = newTotals(k);
    const tb = newTotals(k);
    const coins = new CoinFlips(rng);
    for (let r = 0; r < permutations; r++) {
      for (let p = 0; p < pt.count; p++) times[p] = coins.heads(pt.size[p]!);
      sumPatterns(pt, times, d);
      for (let c = 0; c < w; c++) {
        ca[c] = totalA[c]! + d[c]!;
        cb[c] = totalB[c]! - d[c]!;
      }
      const stat = ev.fromCounts(summariseCounts(cb, k, tb)) - ev.fromCounts(summariseCounts(ca, k, ta));
      if (Math.abs(stat) >= threshold) extreme++;
    }
  } else {
    // Plugin metric: materialise each permuted pair of outcome sets and call its compute().
    const groups = g.groups;
    const swap = new Uint8Array(g.count);
    const base = pick(baseline, identity(n), n);
    const cand = pick(candidate, identity(n), n);
    const a = pick(baseline, identity(n), n);
    const b = pick(candidate, identity(n), n);
    for (let r = 0; r < permutations; r++) {
      for (let u = 0; u < g.count; u++) swap[u] = rng.next() < 0.5 ? 1 : 0;
      for (let i = 0; i < n; i++) {
        const s = swap[groups[i]!] === 1;
        const from = s ? cand : base;
        const to = s ? base : cand;
        a.pred[i] = from.pred[i]!;
        a.parseOk![i] = from.parseOk![i]!;
        b.pred[i] = to.pred[i]!;
        b.parseOk![i] = to.parseOk![i]!;
      }
      if (Math.abs(ev.fromOutcomes(b) - ev.fromOutcomes(a)) >= threshold) extreme++;
    }
  }
  return {
    metric: ev.name,
    delta: observed,
    p: (extreme + 1) / (permutations + 1),
    permutations,
    unit: g.unit,
  };
}

function identity(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function addOutcomes(o: EncodedOutcomes, cells: Float64Array): void {
  const k = o.labels.length;
  const okCell = countWidth(k) - 1;
  for (let i = 0; i < o.gold.length; i++) {
    cells[cellIndex(k, o.gold[i]!, o.pred[i]!)]! += 1;
    if (o.parseOk ? o.parseOk[i] === 1 : o.pred[i]! >= 0) cells[okCell]! += 1;
  }
}

export interface McNemarResult {
  /** Examples the baseline got right and the candidate wrong. */
  baselineOnly: number;
  /** Examples the candidate got right and the baseline wrong. */
  candidateOnly: number;
  /** Two-sided exact p (binomial with p = 1/2 on the discordant pairs). */
  p: number;
}

/** McNemar's exact test on per-example correctness (accuracy). */
export function mcnemarExact(baseline: EncodedOutcomes, candidate: EncodedOutcomes): McNemarResult {
  assertPaired(baseline, candidate);
  let b = 0;
  let c = 0;
  for (let i = 0; i < baseline.gold.length; i++) {
    const ra = baseline.pred[i] === baseline.gold[i];
    const rb = candidate.pred[i] === candidate.gold[i];
    if (ra && !rb) b++;
    else if (rb && !ra) c++;
  }
  return { baselineOnly: b, candidateOnly: c, p: binomialTwoSidedHalf(Math.min(b, c), b + c) };
}

/**
 * Two-sided exact binomial p for k successes in n trials at p = 1/2: min(1, 2 P(X <= min(k, n-k))).
 * Summed in log space so large n neither underflows nor loses precision.
 */
export function binomialTwoSidedHalf(k: number, n: number): number {
  if (n === 0) return 1;
  const low = Math.min(k, n - k);
  if (2 * low === n) return 1;
  // log C(n, i) / 2^n, term by term from i = 0, summed with a running log-sum-exp.
  let logTerm = -n * Math.LN2;
  let logSum = logTerm;
  for (let i = 0; i < low; i++) {
    logTerm += Math.log((n - i) / (i + 1));
    logSum =
      logSum > logTerm
        ? logSum + Math.log1p(Math.exp(logTerm - logSum))
        : logTerm + Math.log1p(Math.exp(logSum - logTerm));
  }
  return Math.min(1, 2 * Math.exp(logSum));
}

/** Holm's step-down adjustment: adjusted p in the input order, monotone in the sorted order, capped at 1. */
export function holm(pvalues: readonly number[]): number[] {
  const m = pvalues.length;
  const order = pvalues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p || x.i - y.i);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Across seeds
// ---------------------------------------------------------------------------------------------

const { jStat } = jstatModule as unknown as {
  jStat: {
    studentt: { inv(p: number, dof: number): number };
    normal: { inv(p: number, mean: number, sd: number): number };
  };
};

/** Normal quantile (jstat). */
export function normalQuantile(p: number): number {
  return jStat.normal.inv(p, 0, 1);
}

/**
 * Mean of one metric over seeds with a Student t interval (a run's seeds are independent draws of
 * the training/sampling randomness; the bootstrap covers only the test-set randomness).
 */
export function seedMeanInterval(
  values: readonly number[],
  level = DEFAULT_LEVEL,
): { mean: number; ci?: Interval } {
  const n = values.length;
  if (n === 0) throw new InputError('no values to average');
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const half = jStat.studentt.inv(1 - (1 - level) / 2, n - 1) * Math.sqrt(variance / n);
  return { mean, ci: { low: mean - half, high: mean + half, level, method: 'student-t over seeds' } };
}

// ---------------------------------------------------------------------------------------------
// Scoring a prediction file: metrics + CIs (the `score` command and the runner)
// ---------------------------------------------------------------------------------------------

/** Metrics of a record set with a bootstrap CI for every metric of the protocol's list. */
export interface ScoredMetrics extends ComputedMetrics {
  ci: Partial<Record<MetricName, Interval>>;
}

export interface ScoreOptions {
  resamples?: number;
  seed?: number;
  unit?: ResampleUnit;
  level?: number;
  /** Source file, for error messages (record i is line i+1). */
  file?: string;
}

/**
 * The protocol `score` uses without --protocol: labels are the sorted union of the gold and the
 * predicted labels (scikit-learn's default when `labels=` is not given, so a class predicted but
 * never gold counts in macro F1), there is no neutral or positive/negative label, and the headline
 * is macro F1.
 */
export function inferProtocol(records: readonly OutcomeRecord[]): ProtocolLike {
  const labels = [
    ...new Set([...records.map((r) => r.gold), ...records.flatMap((r) => (r.pred === null ? [] : [r.pred]))]),
  ].sort();
  return {
    labels,
    headline: 'macro_f1',
    metrics: ['accuracy', 'macro_f1', 'weighted_f1', 'micro_f1', 'ua', 'parse_rate'],
  };
}

/**
 * n, metrics, per_class, confusion, parse_counts and `ci` (percentile bootstrap, resampling
 * dialogues when the records carry `dialogueId`) for every metric computed, the headline and
 * `protocol.metrics` included. Defaults: 1000 resamples, seed 0, unit 'dialogue', level 0.95.
 */
export function scoreRecords(
  records: readonly (OutcomeRecord & { dialogueId?: string })[],
  protocol: ProtocolLike,
  opts: ScoreOptions = {},
): ScoredMetrics {
  const computed = computeMetrics(records, protocol, opts.file !== undefined ? { file: opts.file } : {});
  const o = encodeOutcomes(records, protocol.labels);
  // Every metric that was computed gets its interval (one set of resamples serves them all).
  const names = [
    ...new Set<MetricName>([
      protocol.headline,
      ...protocol.metrics,
      ...METRIC_NAMES.filter((m) => computed.metrics[m] !== undefined),
    ]),
  ];
  const intervals = bootstrapIntervals(o, names, protocol, {
    resamples: opts.resamples ?? DEFAULT_RESAMPLES,
    seed: opts.seed ?? 0,
    unit: opts.unit ?? 'dialogue',
    level: opts.level ?? DEFAULT_LEVEL,
    dialogueIds: records.map((r) => r.dialogueId),
  });
  const ci: Partial<Record<MetricName, Interval>> = {};
  for (const name of METRIC_NAMES) if (intervals[name]) ci[name] = intervals[name];
  return { ...computed, ci };
}
