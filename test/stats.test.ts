import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeMetrics, encodeOutcomes } from '../harness/metrics.ts';
import { Rng } from '../harness/random.ts';
import {
  binomialTwoSidedHalf,
  bootstrapDistribution,
  bootstrapIntervals,
  holm,
  inferProtocol,
  mcnemarExact,
  normalQuantile,
  pairedBootstrap,
  permutationTest,
  quantile,
  scoreRecords,
  seedMeanInterval,
} from '../harness/stats.ts';
import type { EncodedOutcomes, MetricDefinition } from '../harness/types.ts';
import { repoRoot } from './support/paths.ts';

const golden = JSON.parse(readFileSync(resolve(repoRoot, 'test/fixtures/golden/stats.json'), 'utf8')) as {
  mcnemar: { b: number; c: number; p: number }[];
  percentiles: { values: number[]; q: number[]; expected: number[] };
  student_t: { p: number; df: number; q: number }[];
  bootstrap_weighted_f1: { labels: string[]; gold: number[]; pred: number[]; low: number; high: number };
};

const LABELS = ['neutral', 'joy', 'anger', 'sadness'];

/** A synthetic test set: skewed gold, a classifier right with probability `acc`, dialogues of 5. */
function synthetic(n: number, acc: number, seed: number) {
  const rng = new Rng(seed);
  const weights = [0.5, 0.25, 0.15, 0.1];
  const records = [];
  for (let i = 0; i < n; i++) {
    let u = rng.next();
    let g = 0;
    while (g < weights.length - 1 && u >= weights[g]!) u -= weights[g++]!;
    const right = rng.next() < acc;
    const pred = right ? g : (g + 1 + rng.int(LABELS.length - 1)) % LABELS.length;
    records.push({
      id: `u${i}`,
      gold: LABELS[g]!,
      pred: LABELS[pred]! as string | null,
      dialogueId: `d${Math.floor(i / 5)}`,
    });
  }
  return records;
}

/** Candidate = baseline with a share of its correct answers turned wrong. */
function flipCorrect(records: ReturnType<typeof synthetic>, share: number, seed: number) {
  const rng = new Rng(seed);
  return records.map((r) => {
    if (r.pred === r.gold && rng.next() < share) {
      const g = LABELS.indexOf(r.gold);
      return { ...r, pred: LABELS[(g + 1) % LABELS.length]! };
    }
    return r;
  });
}

/** Candidate that loses `lose` correct answers and gains `gain` wrong ones, every `step`-th of each. */
function perturb(records: ReturnType<typeof synthetic>, lose: number, gain: number, step: number) {
  let right = 0;
  let wrong = 0;
  return records.map((r) => {
    if (r.pred === r.gold) {
      if (right++ % step === 0 && lose-- > 0)
        return { ...r, pred: LABELS[(LABELS.indexOf(r.gold) + 1) % LABELS.length]! };
    } else if (wrong++ % step === 0 && gain-- > 0) return { ...r, pred: r.gold };
    return r;
  });
}

function accuracyOf(o: EncodedOutcomes): number {
  let right = 0;
  for (let i = 0; i < o.gold.length; i++) if (o.gold[i] === o.pred[i]) right++;
  return right / o.gold.length;
}

describe('exact tests and corrections against SciPy', () => {
  it('binomial two-sided p at 1/2 matches scipy.stats.binomtest', () => {
    for (const { b, c, p } of golden.mcnemar) {
      const got = binomialTwoSidedHalf(Math.min(b, c), b + c);
      if (p === 0) expect(got).toBeLessThan(1e-300);
      else expect(Math.abs(got - p) / p, `b=${b} c=${c}`).toBeLessThan(1e-9);
    }
  });

  it("McNemar's test counts the discordant pairs", () => {
    // 10 examples, gold all 'joy'. Baseline right on 0-5, candidate right on 4-9:
    // baseline-only = 0..3 (4), candidate-only = 6..9 (4)
    const gold = Array<string>(10).fill('joy');
    const a = encodeOutcomes(
      gold.map((g, i) => ({ gold: g, pred: i <= 5 ? 'joy' : 'anger' })),
      LABELS,
    );
    const b = encodeOutcomes(
      gold.map((g, i) => ({ gold: g, pred: i >= 4 ? 'joy' : null })),
      LABELS,
    );
    const r = mcnemarExact(a, b);
    expect(r.baselineOnly).toBe(4);
    expect(r.candidateOnly).toBe(4);
    expect(r.p).toBe(1);
  });

  it('Holm adjustment, worked by hand', () => {
    // sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    const got = holm([0.01, 0.04, 0.03, 0.005]);
    const want = [0.03, 0.06, 0.06, 0.02];
    for (const [i, p] of got.entries()) expect(p).toBeCloseTo(want[i]!, 12);
    expect(holm([0.5, 0.6])).toEqual([1, 1]);
    expect(holm([0.2])).toEqual([0.2]);
    expect(holm([])).toEqual([]);
  });

  it('quantiles interpolate like numpy.percentile', () => {
    const sorted = [...golden.percentiles.values].sort((x, y) => x - y);
    golden.percentiles.q.forEach((q, i) => {
      expect(Math.abs(quantile(sorted, q) - golden.percentiles.expected[i]!)).toBeLessThan(1e-12);
    });
  });

  it('seed-mean t interval uses the Student t quantile (scipy.stats.t.ppf)', () => {
    const t975df2 = golden.student_t.find((s) => s.p === 0.975 && s.df === 2)!.q;
    const { mean, ci } = seedMeanInterval([0.5, 0.6, 0.7]);
    expect(mean).toBeCloseTo(0.6, 12);
    expect(ci!.high - mean).toBeCloseTo((t975df2 * 0.1) / Math.sqrt(3), 9);
    expect(seedMeanInterval([0.4]).ci).toBeUndefined();
  });
});

describe('bootstrap CIs', () => {
  const records = synthetic(2000, 0.7, 1);
  const o = encodeOutcomes(records, LABELS);
  const dialogueIds = records.map((r) => r.dialogueId);

  it('the count fast path equals scoring each materialised resample (plugin path)', () => {
    // A plugin metric that re-scores records with computeMetrics (checked against scikit-learn).
    const slow: MetricDefinition = {
      name: 'weighted_f1_by_records',
      description: 'weighted F1 recomputed from records',
      compute: (x) =>
        computeMetrics(
          Array.from(x.gold, (g, i) => ({
            gold: LABELS[g]!,
            pred: x.pred[i]! < 0 ? null : LABELS[x.pred[i]!]!,
          })),
          { labels: LABELS, metrics: [], headline: 'accuracy' },
        ).metrics.weighted_f1!,
    };
    for (const unit of ['dialogue', 'utterance'] as const) {
      const d = bootstrapDistribution(
        o,
        ['weighted_f1', slow],
        {},
        { resamples: 50, seed: 3, unit, dialogueIds },
      );
      expect(d.unit).toBe(unit);
      const fast = d.values.weighted_f1!;
      const ref = d.values.weighted_f1_by_records!;
      for (let i = 0; i < fast.length; i++) expect(Math.abs(fast[i]! - ref[i]!)).toBeLessThan(1e-12);
    }
  });

  it('an accuracy CI has the width the normal approximation predicts and holds the estimate', () => {
    const acc = accuracyOf(o);
    const ci = bootstrapIntervals(o, ['accuracy'], {}, { unit: 'utterance', seed: 5 }).accuracy!;
    const expected = 2 * normalQuantile(0.975) * Math.sqrt((acc * (1 - acc)) / o.gold.length);
    expect(ci.high - ci.low).toBeGreaterThan(0.85 * expected);
    expect(ci.high - ci.low).toBeLessThan(1.15 * expected);
    expect(ci.low).toBeLessThan(acc);
    expect(ci.high).toBeGreaterThan(acc);
    expect(ci).toMatchObject({
      level: 0.95,
      method: 'percentile-bootstrap',
      resamples: 1000,
      unit: 'utterance',
    });
  });

  it('a weighted-F1 CI lands within Monte Carlo error of a 20,000-resample scikit-learn bootstrap', () => {
    const ref = golden.bootstrap_weighted_f1;
    const x = encodeOutcomes(
      ref.gold.map((g, i) => ({ gold: ref.labels[g]!, pred: ref.labels[ref.pred[i]!]! })),
      ref.labels,
    );
    const ci = bootstrapIntervals(x, ['weighted_f1'], {}, { resamples: 5000, seed: 8 }).weighted_f1!;
    // The standard error of a 2.5% quantile from 5,000 resamples is about 0.001 here.
    expect(Math.abs(ci.low - ref.low)).toBeLessThan(0.005);
    expect(Math.abs(ci.high - ref.high)).toBeLessThan(0.005);
  });

  it('resamples whole dialogues: identical dialogues give a degenerate CI, utterances do not', () => {
    // Every dialogue: 3 right, 1 wrong -> any resample of dialogues has accuracy exactly 0.75.
    const recs = [];
    for (let d = 0; d < 100; d++)
      for (let j = 0; j < 4; j++)
        recs.push({ gold: 'joy', pred: j < 3 ? 'joy' : 'anger', dialogueId: `d${d}` });
    const x = encodeOutcomes(recs, LABELS);
    const ids = recs.map((r) => r.dialogueId);
    const byDialogue = bootstrapIntervals(x, ['accuracy'], {}, { dialogueIds: ids, resamples: 200 })
      .accuracy!;
    expect(byDialogue.unit).toBe('dialogue');
    expect(byDialogue.low).toBeCloseTo(0.75, 12);
    expect(byDialogue.high).toBeCloseTo(0.75, 12);
    const byUtterance = bootstrapIntervals(
      x,
      ['accuracy'],
      {},
      { dialogueIds: ids, unit: 'utterance', resamples: 200 },
    ).accuracy!;
    expect(byUtterance.high - byUtterance.low).toBeGreaterThan(0.03);
  });

  it('falls back to utterances when no example has a dialogue id, and is reproducible per seed', () => {
    const a = bootstrapIntervals(o, ['macro_f1'], {}, { resamples: 100, seed: 9 }).macro_f1!;
    const b = bootstrapIntervals(o, ['macro_f1'], {}, { resamples: 100, seed: 9 }).macro_f1!;
    const c = bootstrapIntervals(o, ['macro_f1'], {}, { resamples: 100, seed: 10 }).macro_f1!;
    expect(a.unit).toBe('utterance');
    expect(a).toEqual(b);
    expect(a.low === c.low && a.high === c.high).toBe(false);
  });

  it('rejects a metric needing a neutral label when none is defined', () => {
    expect(() => bootstrapIntervals(o, ['micro_f1_excl_neutral'], {}, { resamples: 2 })).toThrow(/neutral/);
  });
});

describe('paired tests find planted regressions and only those', () => {
  const baseRecords = synthetic(2000, 0.7, 11);
  const base = encodeOutcomes(baseRecords, LABELS);
  const worse = encodeOutcomes(flipCorrect(baseRecords, 0.05, 12), LABELS);
  const ids = baseRecords.map((r) => r.dialogueId);

  it('a candidate with 5% of correct answers flipped is flagged by every test', () => {
    const perm = permutationTest(
      base,
      worse,
      'weighted_f1',
      {},
      { permutations: 2000, seed: 1, dialogueIds: ids },
    );
    expect(perm.delta).toBeLessThan(0);
    expect(perm.p).toBeLessThan(0.01);
    expect(perm.unit).toBe('dialogue');
    const boot = pairedBootstrap(base, worse, 'weighted_f1', {}, { seed: 1, dialogueIds: ids });
    expect(boot.ci.high).toBeLessThan(0);
    expect(boot.p).toBeLessThan(0.01);
    expect(boot.ci.low).toBeLessThan(boot.delta);
    const mc = mcnemarExact(base, worse);
    expect(mc.candidateOnly).toBe(0);
    expect(mc.baselineOnly).toBeGreaterThan(40);
    expect(mc.p).toBeLessThan(1e-9);
  });

  it('two runs of identical predictions are not flagged', () => {
    const same = encodeOutcomes(baseRecords, LABELS);
    const perm = permutationTest(base, same, 'macro_f1', {}, { permutations: 500, dialogueIds: ids });
    expect(perm.delta).toBe(0);
    expect(perm.p).toBe(1);
    const boot = pairedBootstrap(base, same, 'macro_f1', {}, { resamples: 200, dialogueIds: ids });
    expect(boot.ci.low).toBe(0);
    expect(boot.ci.high).toBe(0);
    expect(boot.p).toBe(1);
    expect(mcnemarExact(base, same).p).toBe(1);
  });

  it('two runs of the same model that differ only by noise are flagged at about the nominal rate', () => {
    // Each "run" answers every example right with probability 0.7, independently: the null is true,
    // so at alpha 0.05 about 5% of the comparisons may be flagged (and a real 10-point gap nearly
    // always is, so the test has power and does not pass by never rejecting).
    const n = 400;
    const trials = 60;
    const run = (rng: Rng, gold: number[], acc: number) =>
      encodeOutcomes(
        gold.map((g, i) => ({
          id: `e${i}`,
          gold: LABELS[g]!,
          pred: LABELS[rng.next() < acc ? g : (g + 1 + rng.int(LABELS.length - 1)) % LABELS.length]!,
        })),
        LABELS,
      );
    let nullFlags = 0;
    let realFlags = 0;
    for (let t = 0; t < trials; t++) {
      const rng = new Rng(1000 + t);
      const gold = Array.from({ length: n }, () => rng.int(LABELS.length));
      const a = run(rng, gold, 0.7);
      const opts = { permutations: 400, seed: t, unit: 'utterance' as const };
      if (permutationTest(a, run(rng, gold, 0.7), 'macro_f1', {}, opts).p < 0.05) nullFlags++;
      if (permutationTest(a, run(rng, gold, 0.6), 'macro_f1', {}, opts).p < 0.05) realFlags++;
    }
    // Binomial(60, 0.05): 9 or more flags has probability below 0.5%.
    expect(nullFlags).toBeLessThanOrEqual(8);
    expect(realFlags).toBeGreaterThanOrEqual(48);
  });

  it('the accuracy permutation p equals the exact McNemar p up to Monte Carlo error', () => {
    // For accuracy at the utterance level, swapping pairs is a fair coin on each discordant pair,
    // so the randomization test is McNemar's exact test.
    const mild = encodeOutcomes(perturb(baseRecords, 70, 45, 3), LABELS);
    const mc = mcnemarExact(base, mild);
    expect(mc).toMatchObject({ baselineOnly: 70, candidateOnly: 45 });
    expect(mc.p).toBeGreaterThan(0.01);
    expect(mc.p).toBeLessThan(0.05);
    const perm = permutationTest(
      base,
      mild,
      'accuracy',
      {},
      { permutations: 10_000, seed: 4, unit: 'utterance' },
    );
    expect(Math.abs(perm.p - mc.p)).toBeLessThan(0.01);
  });

  it('the permutation p-value is stable to 0.01 across seeds at 10,000 permutations', () => {
    const mild = encodeOutcomes(perturb(baseRecords, 70, 45, 4), LABELS);
    const ps = [1, 2, 3].map(
      (seed) =>
        permutationTest(base, mild, 'macro_f1', {}, { permutations: 10_000, seed, dialogueIds: ids }).p,
    );
    expect(Math.max(...ps) - Math.min(...ps)).toBeLessThan(0.01);
    expect(ps[0]).toBeGreaterThan(0.0005);
  });

  it('the paired bootstrap CI of an accuracy difference has the normal-approximation width', () => {
    const mild = encodeOutcomes(flipCorrect(baseRecords, 0.03, 15), LABELS);
    const boot = pairedBootstrap(base, mild, 'accuracy', {}, { unit: 'utterance', seed: 2 });
    const n = base.gold.length;
    const { baselineOnly: b, candidateOnly: c } = mcnemarExact(base, mild);
    expect(boot.delta).toBeCloseTo((c - b) / n, 12);
    const sd = Math.sqrt((b + c) / n ** 2 - (c - b) ** 2 / n ** 3);
    const width = boot.ci.high - boot.ci.low;
    expect(width).toBeGreaterThan(0.85 * 2 * normalQuantile(0.975) * sd);
    expect(width).toBeLessThan(1.15 * 2 * normalQuantile(0.975) * sd);
  });

  it('a plugin metric takes the materialised path and agrees with the built-in one', () => {
    const mild = encodeOutcomes(perturb(baseRecords, 70, 45, 3), LABELS);
    const plugin: MetricDefinition = { name: 'acc_plugin', description: 'accuracy', compute: accuracyOf };
    const a = permutationTest(base, mild, plugin, {}, { permutations: 3000, seed: 5, unit: 'utterance' });
    const b = permutationTest(base, mild, 'accuracy', {}, { permutations: 3000, seed: 5, unit: 'utterance' });
    expect(a.delta).toBeCloseTo(b.delta, 12);
    expect(Math.abs(a.p - b.p)).toBeLessThan(0.03);
  });

  it('sets over different gold labels cannot be paired', () => {
    const other = encodeOutcomes(synthetic(2000, 0.7, 99), LABELS);
    expect(() => mcnemarExact(base, other)).toThrow(/different gold labels/);
  });
});

describe('scoreRecords', () => {
  it('gives a CI for every metric computed, around the point estimate', () => {
    const records = synthetic(500, 0.6, 21);
    const s = scoreRecords(records, {
      labels: LABELS,
      neutral: 'neutral',
      headline: 'weighted_f1',
      metrics: ['weighted_f1', 'micro_f1_excl_neutral', 'accuracy'],
    });
    // Every metric that applies (a neutral label but no poles: no pos_neg_f1), not only the reported set.
    expect(Object.keys(s.ci).sort()).toEqual(Object.keys(s.metrics).sort());
    expect(Object.keys(s.ci).sort()).toEqual([
      'accuracy',
      'macro_f1',
      'micro_f1',
      'micro_f1_excl_neutral',
      'parse_rate',
      'ua',
      'wa',
      'weighted_f1',
    ]);
    for (const [name, ci] of Object.entries(s.ci)) {
      const v = s.metrics[name as keyof typeof s.metrics]!;
      expect(ci.low).toBeLessThanOrEqual(v);
      expect(ci.high).toBeGreaterThanOrEqual(v);
      expect(ci.unit).toBe('dialogue');
    }
    expect(s.n).toBe(500);
    expect(s.neutral).toBe('neutral');
  });

  it('without a protocol the labels are the sorted gold and predicted labels, and there is no neutral', () => {
    const p = inferProtocol([
      { gold: 'b', pred: 'a' },
      { gold: 'a', pred: 'zzz' },
      { gold: 'c', pred: null },
    ]);
    // As scikit-learn without labels=: a class only ever predicted is a class (with zero support).
    expect(p.labels).toEqual(['a', 'b', 'c', 'zzz']);
    expect(p.neutral).toBeUndefined();
    const s = scoreRecords([{ gold: 'a', pred: 'a' }], p, { resamples: 10 });
    expect(s.ci.macro_f1).toBeDefined();
    expect(s.metrics.micro_f1_excl_neutral).toBeUndefined();
  });
});
