/**
 * Classification metrics with scikit-learn semantics (`zero_division=0`), computed from count tables
 * so that bootstrap and permutation resamples cost O(labels^2) each instead of a re-scan of records.
 *
 * Conventions (checked against scikit-learn by test/fixtures/golden/metrics.json):
 * - F1 family metrics are taken over the protocol labels (`labels=` in scikit-learn). A prediction
 *   that is no label (null, unparseable, error, or a string outside the label set) is index -1: a
 *   false negative for the gold class and a false positive for no class, so micro F1 can differ
 *   from accuracy when some answers did not parse.
 * - `ua` is the mean recall over classes with gold support > 0. scikit-learn's
 *   `balanced_accuracy_score` builds its confusion matrix over the labels present in y_true or
 *   y_pred and drops the NaN recalls of classes absent from y_true, so a class never seen in gold
 *   does not pull the mean towards zero; we match that.
 * - `micro_f1_excl_neutral` is micro F1 over every label but the protocol's neutral label (the
 *   DailyDialog convention; scikit-learn `f1_score(average='micro', labels=[all but neutral])`).
 */
import { InputError } from './errors.ts';
import type {
  EncodedOutcomes,
  MetricDefinition,
  MetricName,
  MetricsFile,
  ParseCounts,
  ParseStatus,
  PerClass,
  PredictionRecord,
  Protocol,
} from './types.ts';

/** The label roles some metrics need (all optional: metrics needing a missing role are not applicable). */
export type LabelRoles = Pick<Protocol, 'neutral' | 'positive' | 'negative'>;

/** What `computeMetrics` needs of a protocol (a metrics file or `score` without --protocol fills the same). */
export type ProtocolLike = Pick<
  Protocol,
  'labels' | 'neutral' | 'positive' | 'negative' | 'metrics' | 'headline'
>;

/** Every built-in metric name, in the order metrics files list them. */
export const METRIC_NAMES: readonly MetricName[] = [
  'accuracy',
  'macro_f1',
  'weighted_f1',
  'micro_f1',
  'micro_f1_excl_neutral',
  'ua',
  'wa',
  'pos_neg_f1',
  'parse_rate',
];

// ---------------------------------------------------------------------------------------------
// Count tables: the fast path shared by metrics, bootstrap and permutation tests.
// ---------------------------------------------------------------------------------------------

/**
 * Layout of a count vector for k labels: k rows (gold) of k+1 columns (predicted, then `<none>`),
 * followed by one cell holding the number of answers that parsed. Resamples add these vectors.
 */
export function countWidth(k: number): number {
  return k * (k + 1) + 1;
}

/** Index of the confusion cell (gold g, predicted p; p = -1 for no label) in a count vector. */
export function cellIndex(k: number, gold: number, pred: number): number {
  return gold * (k + 1) + (pred < 0 ? k : pred);
}

/** Per-class totals derived from a count vector: everything the built-in metrics read. */
export interface ClassTotals {
  k: number;
  n: number;
  /** Answers whose parse status was 'ok'. */
  parsed: number;
  tp: Float64Array;
  /** Gold count per class. */
  support: Float64Array;
  /** Times each class was predicted. */
  predicted: Float64Array;
}

export function newTotals(k: number): ClassTotals {
  return {
    k,
    n: 0,
    parsed: 0,
    tp: new Float64Array(k),
    support: new Float64Array(k),
    predicted: new Float64Array(k),
  };
}

/** Fills `out` from the count vector `cells` starting at `offset` (paired tests stack two vectors). */
export function summariseCounts(
  cells: ArrayLike<number>,
  k: number,
  out: ClassTotals,
  offset = 0,
): ClassTotals {
  const w = k + 1;
  out.tp.fill(0);
  out.support.fill(0);
  out.predicted.fill(0);
  let n = 0;
  for (let g = 0; g < k; g++) {
    const row = offset + g * w;
    let s = 0;
    for (let p = 0; p < w; p++) {
      const v = cells[row + p]!;
      s += v;
      if (p < k) out.predicted[p]! += v;
    }
    out.support[g] = s;
    out.tp[g] = cells[row + g]!;
    n += s;
  }
  out.n = n;
  out.parsed = cells[offset + k * w]!;
  return out;
}

/** Resolved label roles: indices into the label list (-1 when the protocol has none). */
export interface RoleIndices {
  neutral: number;
  positive: number;
  negative: number;
}

export function roleIndices(labels: readonly string[], roles: LabelRoles): RoleIndices {
  const find = (role: 'neutral' | 'positive' | 'negative'): number => {
    const name = roles[role];
    if (name === undefined) return -1;
    const i = labels.indexOf(name);
    if (i < 0) throw new InputError(`${role} label '${name}' is not one of the labels: ${labels.join(', ')}`);
    return i;
  };
  return { neutral: find('neutral'), positive: find('positive'), negative: find('negative') };
}

function classF1(t: ClassTotals, i: number): number {
  const den = t.support[i]! + t.predicted[i]!;
  return den > 0 ? (2 * t.tp[i]!) / den : 0;
}

function sumTp(t: ClassTotals): number {
  let s = 0;
  for (let i = 0; i < t.k; i++) s += t.tp[i]!;
  return s;
}

function microF1Excluding(t: ClassTotals, excluded: number): number {
  let tp = 0;
  let den = 0;
  for (let i = 0; i < t.k; i++) {
    if (i === excluded) continue;
    tp += t.tp[i]!;
    den += t.support[i]! + t.predicted[i]!;
  }
  return den > 0 ? (2 * tp) / den : 0;
}

type CountMetric = (t: ClassTotals, roles: RoleIndices) => number;

/** Built-in metrics as functions of class totals. */
export const countMetrics: Readonly<Record<MetricName, CountMetric>> = {
  accuracy: (t) => (t.n > 0 ? sumTp(t) / t.n : 0),
  wa: (t) => (t.n > 0 ? sumTp(t) / t.n : 0),
  macro_f1: (t) => {
    let s = 0;
    for (let i = 0; i < t.k; i++) s += classF1(t, i);
    return t.k > 0 ? s / t.k : 0;
  },
  weighted_f1: (t) => {
    let s = 0;
    let w = 0;
    for (let i = 0; i < t.k; i++) {
      s += t.support[i]! * classF1(t, i);
      w += t.support[i]!;
    }
    return w > 0 ? s / w : 0;
  },
  micro_f1: (t) => microF1Excluding(t, -1),
  micro_f1_excl_neutral: (t, r) => microF1Excluding(t, r.neutral),
  ua: (t) => {
    let s = 0;
    let m = 0;
    for (let i = 0; i < t.k; i++) {
      if (t.support[i]! > 0) {
        s += t.tp[i]! / t.support[i]!;
        m++;
      }
    }
    return m > 0 ? s / m : 0;
  },
  pos_neg_f1: (t, r) => (classF1(t, r.positive) + classF1(t, r.negative)) / 2,
  parse_rate: (t) => (t.n > 0 ? t.parsed / t.n : 0),
};

export function isBuiltinMetric(name: string): name is MetricName {
  return Object.hasOwn(countMetrics, name);
}

/** Whether a built-in metric can be computed for these label roles (e.g. pos_neg_f1 needs both poles). */
export function metricApplies(name: MetricName, roles: LabelRoles): boolean {
  if (name === 'micro_f1_excl_neutral') return roles.neutral !== undefined;
  if (name === 'pos_neg_f1') return roles.positive !== undefined && roles.negative !== undefined;
  return true;
}

/** Throws when a metric the caller asked for needs a label role the protocol lacks. */
export function assertApplicable(name: MetricName, roles: LabelRoles): void {
  if (!metricApplies(name, roles)) {
    const need = name === 'pos_neg_f1' ? 'positive and negative labels' : 'a neutral label';
    throw new InputError(`metric ${name} needs ${need}, and the protocol defines none`);
  }
}

/** Adds one outcome set to a count vector (at `offset`). */
export function addCounts(o: EncodedOutcomes, cells: Float64Array, offset = 0): Float64Array {
  const k = o.labels.length;
  const okCell = offset + k * (k + 1);
  for (let i = 0; i < o.gold.length; i++) {
    const p = o.pred[i]!;
    cells[offset + cellIndex(k, o.gold[i]!, p)]! += 1;
    if (o.parseOk ? o.parseOk[i] === 1 : p >= 0) cells[okCell]! += 1;
  }
  return cells;
}

export function countsOf(o: EncodedOutcomes): Float64Array {
  return addCounts(o, new Float64Array(countWidth(o.labels.length)));
}

// ---------------------------------------------------------------------------------------------
// Encoding records
// ---------------------------------------------------------------------------------------------

/** The least a record needs to be scored. */
export interface OutcomeRecord {
  id?: string;
  gold: string;
  pred: string | null;
  parse?: ParseStatus;
  /** A nearest-label guess: `pred` is scored, but the answer does not count as parsed. */
  lenient?: boolean;
}

/**
 * Gold and predicted labels as indices. A prediction outside `labels` (or null) becomes -1; a gold
 * label outside `labels` is bad input. `file` names the source in errors; record i is line i+1.
 */
export function encodeOutcomes(
  records: readonly OutcomeRecord[],
  labels: readonly string[],
  opts: { file?: string } = {},
): EncodedOutcomes {
  const index = new Map<string, number>();
  labels.forEach((l, i) => {
    if (index.has(l)) throw new InputError(`label '${l}' is listed twice in the label set`, opts.file);
    index.set(l, i);
  });
  const n = records.length;
  const gold = new Int32Array(n);
  const pred = new Int32Array(n);
  const parseOk = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const g = index.get(r.gold);
    if (g === undefined) {
      throw new InputError(
        `${r.id !== undefined ? `example '${r.id}': ` : ''}gold label '${r.gold}' is not one of the labels: ${labels.join(', ')}`,
        opts.file,
        i + 1,
      );
    }
    gold[i] = g;
    const p = r.pred === null ? -1 : (index.get(r.pred) ?? -1);
    pred[i] = p;
    parseOk[i] = (r.parse ?? (p >= 0 ? 'ok' : 'unparseable')) === 'ok' && !r.lenient ? 1 : 0;
  }
  return { labels, gold, pred, parseOk };
}

// ---------------------------------------------------------------------------------------------
// Registered metric definitions
// ---------------------------------------------------------------------------------------------

const descriptions: Record<MetricName, string> = {
  accuracy: 'Fraction of examples whose prediction equals the gold label (no-label answers are wrong).',
  macro_f1: 'Unweighted mean of per-class F1 over the protocol labels (zero_division=0).',
  weighted_f1: 'Per-class F1 averaged with gold support as weights.',
  micro_f1: 'F1 of pooled counts over the protocol labels; no-label answers are false negatives only.',
  micro_f1_excl_neutral: 'Micro F1 over every label except the neutral one (DailyDialog convention).',
  ua: 'Unweighted accuracy: mean recall over classes present in gold (balanced accuracy).',
  wa: 'Weighted accuracy: the same as accuracy.',
  pos_neg_f1: 'Mean of the F1 of the positive and the negative class (Mastodon convention).',
  parse_rate:
    "Fraction of answers whose parse status is 'ok' (parse_counts.ok / n); nearest-label guesses (lenient) are not parsed answers.",
};

/** The built-in metrics, for the registry. Each computes from counts, via `compute(encoded outcomes)`. */
export const builtinMetrics: MetricDefinition[] = METRIC_NAMES.map((name) => ({
  name,
  description: descriptions[name],
  compute(o: EncodedOutcomes, protocol: LabelRoles): number {
    assertApplicable(name, protocol);
    const k = o.labels.length;
    const totals = summariseCounts(countsOf(o), k, newTotals(k));
    return countMetrics[name](totals, roleIndices(o.labels, protocol));
  },
}));

// ---------------------------------------------------------------------------------------------
// A metrics file's contents from records
// ---------------------------------------------------------------------------------------------

/** Everything a MetricsFile holds except identity fields (task, adapter, seed) and `ci`. */
export interface ComputedMetrics {
  n: number;
  headline: MetricName;
  labels: string[];
  metrics: Partial<Record<MetricName, number>>;
  per_class: Record<string, PerClass>;
  confusion: MetricsFile['confusion'];
  parse_counts: ParseCounts;
  neutral?: string;
  positive?: string;
  negative?: string;
}

/** Metrics, per-class figures, confusion and parse counts from records already encoded. */
export function metricsFromOutcomes(
  o: EncodedOutcomes,
  protocol: ProtocolLike,
  parseCounts: ParseCounts,
): ComputedMetrics {
  for (const m of protocol.metrics) assertApplicable(m, protocol);
  assertApplicable(protocol.headline, protocol);
  const labels = [...o.labels];
  const k = labels.length;
  const cells = countsOf(o);
  const t = summariseCounts(cells, k, newTotals(k));
  const roles = roleIndices(labels, protocol);
  const metrics: Partial<Record<MetricName, number>> = {};
  for (const name of METRIC_NAMES) {
    if (metricApplies(name, protocol)) metrics[name] = countMetrics[name](t, roles);
  }
  const per_class: Record<string, PerClass> = {};
  labels.forEach((label, i) => {
    const tp = t.tp[i]!;
    per_class[label] = {
      precision: t.predicted[i]! > 0 ? tp / t.predicted[i]! : 0,
      recall: t.support[i]! > 0 ? tp / t.support[i]! : 0,
      f1: classF1(t, i),
      support: t.support[i]!,
    };
  });
  const matrix = labels.map((_, g) => Array.from(cells.subarray(g * (k + 1), (g + 1) * (k + 1))));
  const out: ComputedMetrics = {
    n: t.n,
    headline: protocol.headline,
    labels,
    metrics,
    per_class,
    confusion: { labels: [...labels], matrix },
    parse_counts: parseCounts,
  };
  if (protocol.neutral !== undefined) out.neutral = protocol.neutral;
  if (protocol.positive !== undefined) out.positive = protocol.positive;
  if (protocol.negative !== undefined) out.negative = protocol.negative;
  return out;
}

/** Sums parse counts; `lenient` appears only when some cell has guesses. */
export function addParseCounts(a: ParseCounts | undefined, b: ParseCounts): ParseCounts {
  const sum: ParseCounts = {
    ok: (a?.ok ?? 0) + b.ok,
    unparseable: (a?.unparseable ?? 0) + b.unparseable,
    error: (a?.error ?? 0) + b.error,
  };
  const lenient = (a?.lenient ?? 0) + (b.lenient ?? 0);
  if (lenient > 0) sum.lenient = lenient;
  return sum;
}

/**
 * Counts of each parse status; a record without one is 'ok' when its prediction is a label. An 'ok'
 * record marked `lenient` (a nearest-label guess) counts under `lenient`, a key present only when
 * there are guesses (files of runs without guessing keep their three keys).
 */
export function parseCounts(records: readonly OutcomeRecord[], labels: readonly string[]): ParseCounts {
  const set = new Set(labels);
  const counts: Record<ParseStatus, number> = { ok: 0, unparseable: 0, error: 0 };
  let lenient = 0;
  for (const r of records) {
    const status = r.parse ?? (r.pred !== null && set.has(r.pred) ? 'ok' : 'unparseable');
    if (status === 'ok' && r.lenient) lenient++;
    else counts[status]++;
  }
  return lenient > 0 ? { ...counts, lenient } : counts;
}

/**
 * n, metrics (every built-in that applies), per_class, confusion (rows = gold; columns = the labels
 * then `<none>`) and parse_counts. Throws InputError on an empty record list or an unknown gold label.
 */
export function computeMetrics(
  records: readonly (PredictionRecord | OutcomeRecord)[],
  protocol: ProtocolLike,
  opts: { file?: string } = {},
): ComputedMetrics {
  if (records.length === 0) throw new InputError('no predictions to score', opts.file);
  const o = encodeOutcomes(records, protocol.labels, opts);
  return metricsFromOutcomes(o, protocol, parseCounts(records, protocol.labels));
}

/** The name of the extra confusion column (answers that are no label). */
export const NONE_COLUMN = '<none>';
