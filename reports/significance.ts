/**
 * Significance of a row against a reference row on one task, from the two adapters' predictions on
 * the same examples (paired by id). The tests themselves live in harness/stats.ts; this module only
 * pairs the records and picks the test, behind one small interface so a caller can swap it.
 */
import { InputError } from '../harness/errors.ts';
import { encodeOutcomes } from '../harness/metrics.ts';
import { mcnemarExact, permutationTest } from '../harness/stats.ts';
import type { MetricName, MetricsFile, PredictionRecord } from '../harness/types.ts';
import type { Entry } from './aggregate.ts';

export interface PairedInput {
  labels: readonly string[];
  metric: MetricName;
  roles: Pick<MetricsFile, 'neutral' | 'positive' | 'negative'>;
  /** Records of the reference and the candidate, same examples in the same order. */
  reference: readonly PredictionRecord[];
  candidate: readonly PredictionRecord[];
}

export interface PairedTestResult {
  p: number;
  method: string;
}

export type PairedTest = (input: PairedInput) => PairedTestResult;

/** Keeps the examples both sides answered, in the reference's order. */
export function pairRecords(
  reference: readonly PredictionRecord[],
  candidate: readonly PredictionRecord[],
): { reference: PredictionRecord[]; candidate: PredictionRecord[]; unmatched: number } {
  const byId = new Map(candidate.map((r) => [r.id, r]));
  const out = { reference: [] as PredictionRecord[], candidate: [] as PredictionRecord[], unmatched: 0 };
  for (const r of reference) {
    const c = byId.get(r.id);
    if (!c) continue;
    if (c.gold !== r.gold) {
      throw new InputError(`example '${r.id}' has gold '${r.gold}' in one run and '${c.gold}' in the other`);
    }
    out.reference.push(r);
    out.candidate.push(c);
  }
  out.unmatched = reference.length + candidate.length - 2 * out.reference.length;
  return out;
}

/**
 * Default: approximate randomization on the metric asked for (10,000 swaps, fixed seed, so the
 * same files give the same markers), resampling whole dialogues when every record has one. The
 * caller's note says which metric that is (the headline in the leaderboard, the column's metric in
 * a paper layout).
 */
const PERMUTATION_METHOD =
  'paired permutation test on the metric compared (10,000 swaps; whole dialogues when records carry dialogue ids)';

export const permutationOnHeadline: PairedTest = (input) => {
  const a = encodeOutcomes(input.reference, input.labels);
  const b = encodeOutcomes(input.candidate, input.labels);
  const dialogueIds = input.reference.map((r) => r.dialogueId);
  const byDialogue = dialogueIds.every((d) => d !== undefined);
  const r = permutationTest(a, b, input.metric, input.roles, {
    permutations: 10_000,
    seed: 0,
    unit: byDialogue ? 'dialogue' : 'utterance',
    ...(byDialogue ? { dialogueIds } : {}),
  });
  return { p: r.p, method: PERMUTATION_METHOD };
};

/** Exact McNemar on per-example correctness (accuracy only, whatever the headline). */
export const mcnemarOnCorrectness: PairedTest = (input) => {
  const r = mcnemarExact(
    encodeOutcomes(input.reference, input.labels),
    encodeOutcomes(input.candidate, input.labels),
  );
  return { p: r.p, method: 'exact McNemar on per-example correctness' };
};

export type EntryTestOutcome =
  | { p: number; method: string; seed: number; pairs: number }
  | { missing: string };

/**
 * `test` of `candidate` against `reference` (the same task) on `metric`, on the lowest seed both
 * have: seeds are not pooled, that would count each example several times. When the pair cannot
 * be tested, `missing` says why.
 */
export function testEntries(
  reference: Entry,
  candidate: Entry,
  metric: MetricName,
  test: PairedTest,
): EntryTestOutcome {
  const seed = reference.cells.map((c) => c.seed).find((s) => candidate.cells.some((c) => c.seed === s));
  if (seed === undefined) return { missing: `no seed shared with ${reference.adapter}` };
  const a = reference.cells.find((c) => c.seed === seed)!;
  const b = candidate.cells.find((c) => c.seed === seed)!;
  if (!a.predictions || !b.predictions) return { missing: 'predictions not loaded' };
  const paired = pairRecords(a.predictions, b.predictions);
  if (paired.reference.length === 0) return { missing: 'no example ids in common' };
  const r = test({
    labels: a.metrics.labels,
    metric,
    roles: { neutral: a.metrics.neutral, positive: a.metrics.positive, negative: a.metrics.negative },
    reference: paired.reference,
    candidate: paired.candidate,
  });
  return { p: r.p, method: r.method, seed, pairs: paired.reference.length };
}
