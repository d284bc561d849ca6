import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../harness/errors.ts';
import {
  builtinMetrics,
  computeMetrics,
  encodeOutcomes,
  METRIC_NAMES,
  type ProtocolLike,
} from '../harness/metrics.ts';
import type { MetricName, ParseStatus } from '../harness/types.ts';
import { repoRoot } from './support/paths.ts';

interface GoldenCase {
  name: string;
  labels: string[];
  gold: string[];
  pred: (string | null)[];
  parse: ParseStatus[] | null;
  neutral: string | null;
  positive: string | null;
  negative: string | null;
  expected: {
    metrics: Record<string, number>;
    per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
    confusion: number[][];
    parse_counts: Record<ParseStatus, number>;
  };
}

const golden = JSON.parse(readFileSync(resolve(repoRoot, 'test/fixtures/golden/metrics.json'), 'utf8')) as {
  cases: GoldenCase[];
};

function protocolOf(c: GoldenCase): ProtocolLike {
  const p: ProtocolLike = { labels: c.labels, metrics: ['accuracy'], headline: 'accuracy' };
  if (c.neutral !== null) p.neutral = c.neutral;
  if (c.positive !== null) p.positive = c.positive;
  if (c.negative !== null) p.negative = c.negative;
  return p;
}

function recordsOf(c: GoldenCase) {
  return c.gold.map((gold, i) => ({
    id: `e${i}`,
    gold,
    pred: c.pred[i]!,
    ...(c.parse ? { parse: c.parse[i]! } : {}),
  }));
}

describe('metrics against scikit-learn (test/fixtures/golden/metrics.json)', () => {
  it('has the varied cases the golden script promises', () => {
    const names = golden.cases.map((c) => c.name);
    for (const n of ['all-correct', 'all-wrong', 'single-example', 'class-never-predicted', 'pred-null'])
      expect(names).toContain(n);
    expect(golden.cases.find((c) => c.name === 'random-500')!.gold).toHaveLength(500);
    // The edge cases with label roles: the DailyDialog and Mastodon metrics are checked on them too.
    const withRoles = golden.cases.filter((c) => c.expected.metrics.pos_neg_f1 !== undefined);
    expect(withRoles.length).toBeGreaterThanOrEqual(10);
    for (const n of ['roles-all-correct', 'roles-all-wrong', 'roles-single-example', 'roles-pred-null'])
      expect(withRoles.map((c) => c.name)).toContain(n);
    expect(withRoles.every((c) => c.expected.metrics.micro_f1_excl_neutral !== undefined)).toBe(true);
  });

  for (const c of golden.cases) {
    it(`${c.name}: every metric, per-class figure and confusion cell`, () => {
      const got = computeMetrics(recordsOf(c), protocolOf(c));
      expect(got.n).toBe(c.gold.length);
      expect(Object.keys(got.metrics).sort()).toEqual(Object.keys(c.expected.metrics).sort());
      for (const [name, value] of Object.entries(c.expected.metrics)) {
        expect(Math.abs(got.metrics[name as MetricName]! - value), name).toBeLessThan(1e-9);
      }
      for (const label of c.labels) {
        const e = c.expected.per_class[label]!;
        const g = got.per_class[label]!;
        expect(Math.abs(g.precision - e.precision), `${label} precision`).toBeLessThan(1e-9);
        expect(Math.abs(g.recall - e.recall), `${label} recall`).toBeLessThan(1e-9);
        expect(Math.abs(g.f1 - e.f1), `${label} f1`).toBeLessThan(1e-9);
        expect(g.support).toBe(e.support);
      }
      expect(got.confusion.labels).toEqual(c.labels);
      expect(got.confusion.matrix).toEqual(c.expected.confusion);
      expect(got.parse_counts).toEqual(c.expected.parse_counts);
    });
  }

  it('the registered MetricDefinitions agree with computeMetrics on the random case', () => {
    const c = golden.cases.find((x) => x.name === 'random-500')!;
    const o = encodeOutcomes(recordsOf(c), c.labels);
    for (const def of builtinMetrics) {
      if (def.name === 'pos_neg_f1') continue; // no poles in this case
      const want = c.expected.metrics[def.name]!;
      expect(Math.abs(def.compute(o, protocolOf(c)) - want), def.name).toBeLessThan(1e-9);
    }
    expect(builtinMetrics.map((m) => m.name)).toEqual(METRIC_NAMES);
  });
});

describe('metrics worked by hand', () => {
  // gold: a a a b b c ; pred: a a b b null a
  // a: tp 2, predicted 3, support 3 -> P 2/3 R 2/3 F1 2/3
  // b: tp 1, predicted 2, support 2 -> P 1/2 R 1/2 F1 1/2
  // c: tp 0, predicted 0, support 1 -> 0
  const records = [
    { gold: 'a', pred: 'a' },
    { gold: 'a', pred: 'a' },
    { gold: 'a', pred: 'b' },
    { gold: 'b', pred: 'b' },
    { gold: 'b', pred: null, parse: 'unparseable' as const },
    { gold: 'c', pred: 'a' },
  ];
  const protocol: ProtocolLike = {
    labels: ['a', 'b', 'c'],
    metrics: ['accuracy', 'macro_f1'],
    headline: 'macro_f1',
    neutral: 'c',
  };
  const got = computeMetrics(records, protocol);

  it('accuracy counts a null prediction as wrong', () => {
    expect(got.metrics.accuracy).toBeCloseTo(3 / 6, 12);
    expect(got.metrics.wa).toBeCloseTo(3 / 6, 12);
  });
  it('macro, weighted and micro F1', () => {
    expect(got.metrics.macro_f1).toBeCloseTo((2 / 3 + 1 / 2 + 0) / 3, 12);
    expect(got.metrics.weighted_f1).toBeCloseTo((3 * (2 / 3) + 2 * (1 / 2)) / 6, 12);
    // micro: tp 3, predicted 5 (null is no class), support 6 -> 2*3/(5+6)
    expect(got.metrics.micro_f1).toBeCloseTo(6 / 11, 12);
    // excluding c: tp 3, predicted 5, support 5 -> 6/10
    expect(got.metrics.micro_f1_excl_neutral).toBeCloseTo(0.6, 12);
  });
  it('ua is the mean recall, parse_rate the share of ok answers', () => {
    expect(got.metrics.ua).toBeCloseTo((2 / 3 + 1 / 2 + 0) / 3, 12);
    expect(got.metrics.parse_rate).toBeCloseTo(5 / 6, 12);
    expect(got.parse_counts).toEqual({ ok: 5, unparseable: 1, error: 0 });
  });
  it('confusion rows are gold, the last column counts no-label answers', () => {
    expect(got.confusion.matrix).toEqual([
      [2, 1, 0, 0],
      [0, 1, 0, 1],
      [1, 0, 0, 0],
    ]);
  });
  it('writes the label roles so compare can recompute', () => {
    expect(got.neutral).toBe('c');
    expect(got.positive).toBeUndefined();
  });
});

describe('bad input', () => {
  it('a gold label outside the label set is an InputError naming file and line', () => {
    expect(() =>
      encodeOutcomes(
        [
          { gold: 'a', pred: 'a' },
          { id: 'x7', gold: 'zz', pred: 'a' },
        ],
        ['a', 'b'],
        { file: 'p.jsonl' },
      ),
    ).toThrowError(/p\.jsonl:2: example 'x7': gold label 'zz' is not one of the labels: a, b/);
  });
  it('a prediction outside the label set is -1, not an error', () => {
    const o = encodeOutcomes([{ gold: 'a', pred: 'A' }], ['a', 'b']);
    expect(Array.from(o.pred)).toEqual([-1]);
  });
  it('a metric needing a neutral label on a protocol without one is an InputError', () => {
    expect(() =>
      computeMetrics([{ gold: 'a', pred: 'a' }], {
        labels: ['a'],
        metrics: ['micro_f1_excl_neutral'],
        headline: 'accuracy',
      }),
    ).toThrow(InputError);
  });
  it('no records is an InputError', () => {
    expect(() => computeMetrics([], { labels: ['a'], metrics: [], headline: 'accuracy' })).toThrow(
      /no predictions/,
    );
  });
});
