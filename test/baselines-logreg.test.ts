import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitLogReg, objectiveAndGradient, predictProba } from '../adapters/baselines/logreg.ts';
import type { CsrMatrix } from '../adapters/baselines/tfidf-features.ts';
import { repoRoot } from './support/paths.ts';

/**
 * Written by scripts/golden_logreg.py: scikit-learn's LogisticRegression(multinomial, lbfgs,
 * fit_intercept) on a fixed 60 x 8 dataset for C in {0.1, 1, 10}. scikit-learn minimises
 * C * sum_i CE_i + ||W||^2 / 2; our objective is that divided by C * n, so the same C gives the
 * same optimum, and the objective values in the golden are on our scale.
 */
interface GoldenFit {
  C: number;
  coef: number[][];
  intercept: number[];
  proba: number[][];
  objective: number;
  gradient_inf_norm: number;
}
const golden = JSON.parse(readFileSync(`${repoRoot}/test/fixtures/golden/logreg.json`, 'utf8')) as {
  logreg: { X: number[][]; y: number[]; classes: number; fits: GoldenFit[] };
};

function csr(rows: number[][]): CsrMatrix {
  const indptr = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (const row of rows) {
    row.forEach((v, j) => {
      if (v !== 0) {
        indices.push(j);
        values.push(v);
      }
    });
    indptr.push(values.length);
  }
  return {
    rows: rows.length,
    cols: rows[0]!.length,
    indptr: Int32Array.from(indptr),
    indices: Int32Array.from(indices),
    values: Float64Array.from(values),
  };
}

const X = csr(golden.logreg.X);
const y = Int32Array.from(golden.logreg.y);
const K = golden.logreg.classes;

describe('objectiveAndGradient', () => {
  it('matches a hand-worked value: one example, zero weights, C = 1', () => {
    // p = 1/K for every class: loss = ln K; gradient of b_k = 1/K - [k = y].
    const one = csr([[2, 0]]);
    const params = new Float64Array(2 * 3 + 3);
    const g = new Float64Array(params.length);
    const f = objectiveAndGradient(one, Int32Array.of(1), 3, 1, params, g);
    expect(f).toBeCloseTo(Math.log(3), 14);
    expect([...g.slice(6)].map((v) => +v.toFixed(12))).toEqual([
      +(1 / 3).toFixed(12),
      +(-2 / 3).toFixed(12),
      +(1 / 3).toFixed(12),
    ]);
    // Weights of feature 0 (value 2): 2 * (p - y); feature 1 is absent: 0.
    expect(g[0]).toBeCloseTo(2 / 3, 12);
    expect(g[1]).toBeCloseTo(-4 / 3, 12);
    expect(g[3]).toBe(0);
  });

  it('gradient equals central finite differences at a random point', () => {
    const D = X.cols * K + K;
    const params = Float64Array.from({ length: D }, (_, i) => Math.sin(3 * i + 1) * 0.7);
    const g = new Float64Array(D);
    objectiveAndGradient(X, y, K, 0.5, params, g);
    const scratch = new Float64Array(D);
    for (const j of [0, 5, 13, D - 4, D - 1]) {
      const h = 1e-6;
      const plus = Float64Array.from(params);
      plus[j]! += h;
      const minus = Float64Array.from(params);
      minus[j]! -= h;
      const numeric =
        (objectiveAndGradient(X, y, K, 0.5, plus, scratch) -
          objectiveAndGradient(X, y, K, 0.5, minus, scratch)) /
        (2 * h);
      expect(Math.abs(numeric - g[j]!)).toBeLessThan(1e-8);
    }
  });
});

describe('fitLogReg reaches the optimum scikit-learn finds', () => {
  for (const ref of golden.logreg.fits) {
    it(`C = ${ref.C}`, () => {
      const fit = fitLogReg(X, y, K, { C: ref.C, tol: 1e-9 });
      expect(fit.converged).toBe(true);
      expect(fit.gradientNorm).toBeLessThan(1e-9);
      // At least as low as scikit-learn's objective (which stopped at gradient ~1e-6).
      expect(fit.objective).toBeLessThanOrEqual(ref.objective + 1e-12);
      expect(fit.objective).toBeGreaterThan(ref.objective - 1e-8);
      // The optimum is unique in W and in probabilities; intercepts only up to a shared shift
      // (the softmax ignores it), so both sides are compared centred.
      let maxW = 0;
      ref.coef.forEach((row, j) => {
        row.forEach((v, k) => {
          maxW = Math.max(maxW, Math.abs(v - fit.model.weights[j * K + k]!));
        });
      });
      expect(maxW).toBeLessThan(1e-3);
      const centre = (b: ArrayLike<number>) => {
        const m = Array.from(b).reduce((a, v) => a + v, 0) / b.length;
        return Array.from(b, (v) => v - m);
      };
      centre(fit.model.bias).forEach((v, k) => {
        expect(v).toBeCloseTo(centre(ref.intercept)[k]!, 3);
      });
      const proba = predictProba(X, fit.model);
      let maxP = 0;
      ref.proba.forEach((row, i) => {
        row.forEach((v, k) => {
          maxP = Math.max(maxP, Math.abs(v - proba[i * K + k]!));
        });
      });
      expect(maxP).toBeLessThan(1e-4);
    });
  }

  it('warm starts converge to the same optimum as a cold start', () => {
    const cold = fitLogReg(X, y, K, { C: 10, tol: 1e-10 });
    const from = fitLogReg(X, y, K, { C: 1, tol: 1e-10 });
    const init = new Float64Array(cold.model.weights.length + K);
    init.set(from.model.weights);
    init.set(from.model.bias, from.model.weights.length);
    const warm = fitLogReg(X, y, K, { C: 10, tol: 1e-10, init });
    expect(warm.converged).toBe(true);
    warm.model.weights.forEach((v, i) => {
      expect(v).toBeCloseTo(cold.model.weights[i]!, 6);
    });
  });

  it('is a pure function of its inputs (bit-identical refits)', () => {
    const a = fitLogReg(X, y, K, { C: 1 });
    const b = fitLogReg(X, y, K, { C: 1 });
    expect(Buffer.from(a.model.weights.buffer).equals(Buffer.from(b.model.weights.buffer))).toBe(true);
  });

  it('rejects C <= 0', () => {
    expect(() => fitLogReg(X, y, K, { C: 0 })).toThrow(/C must be > 0/);
  });
});
