/**
 * `emotion-eval score --json` on JSONL files of {id, gold, pred} agrees with scikit-learn (the golden
 * values written by scripts/golden_metrics.py) to 1e-9 on every metric it prints.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.ts';
import { repoRoot } from './support/paths.ts';

interface GoldenCase {
  name: string;
  labels: string[];
  gold: string[];
  pred: (string | null)[];
  parse: string[] | null;
  neutral: string | null;
  positive: string | null;
  negative: string | null;
  expected: { metrics: Record<string, number>; per_class: Record<string, Record<string, number>> };
}

const golden = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/golden/metrics.json'), 'utf8')) as {
  cases: GoldenCase[];
};
// Without --protocol, score's labels are the sorted gold labels and no label is neutral: the cases
// whose label set is exactly that are scored the same way scikit-learn scored them.
const comparable = golden.cases.filter(
  (c) =>
    c.neutral === null &&
    c.positive === null &&
    // `score` without --protocol infers the labels as scikit-learn does: gold and predicted labels.
    JSON.stringify([...new Set([...c.gold, ...c.pred.filter((p) => p !== null)])].sort()) ===
      JSON.stringify(c.labels),
);

describe('score --json against scikit-learn', () => {
  it('has golden cases to compare', () => {
    expect(comparable.length).toBeGreaterThanOrEqual(4);
  });

  for (const c of comparable) {
    it(`${c.name}: every printed metric within 1e-9`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'ee-score-'));
      const file = join(dir, 'p.jsonl');
      const lines = c.gold.map((g, i) =>
        JSON.stringify({ id: `x${i}`, gold: g, pred: c.pred[i], ...(c.parse ? { parse: c.parse[i] } : {}) }),
      );
      writeFileSync(file, `${lines.join('\n')}\n`);
      const r = cli(['score', '--predictions', file, '--json', '--resamples', '0']);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as {
        metrics: Record<string, number>;
        per_class: Record<string, Record<string, number>>;
      };
      const printed = Object.keys(out.metrics);
      expect(printed.length).toBeGreaterThan(0);
      for (const name of printed) {
        expect(c.expected.metrics[name], `${name} has a golden value`).toBeDefined();
        expect(Math.abs(out.metrics[name]! - c.expected.metrics[name]!), name).toBeLessThan(1e-9);
      }
      for (const [label, stats] of Object.entries(c.expected.per_class)) {
        for (const k of ['precision', 'recall', 'f1', 'support']) {
          expect(Math.abs(out.per_class[label]![k]! - stats[k]!), `${label}.${k}`).toBeLessThan(1e-9);
        }
      }
    });
  }
});

describe('score: answers that are no label', () => {
  it('without a parse field, an answer outside the protocol labels is unparseable and wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-score-'));
    const file = join(dir, 'p.jsonl');
    const rows = [
      { id: 'a', gold: 'neutral', pred: 'calm' },
      { id: 'b', gold: 'joy', pred: 'Joy' },
      { id: 'c', gold: 'anger', pred: 'anger' },
    ];
    writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const r = cli(['score', '--predictions', file, '--protocol', 'meld-7', '--json', '--resamples', '0']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      parse_counts: Record<string, number>;
      metrics: Record<string, number>;
    };
    // Only "anger" is one of meld-7's labels (they are case-sensitive, as a run records them).
    expect(out.parse_counts).toEqual({ ok: 1, unparseable: 2, error: 0 });
    expect(out.metrics.parse_rate).toBeCloseTo(1 / 3, 12);
    expect(out.metrics.accuracy).toBeCloseTo(1 / 3, 12);
  });
});
