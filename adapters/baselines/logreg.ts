/**
 * Multinomial logistic regression with L2 regularisation on sparse rows, fitted by full-batch
 * L-BFGS from zero. No randomness is involved, so a fit is a pure function of the data and options.
 *
 * Objective (weights W: V x K, intercepts b: K, not penalised):
 *   f(W, b) = (1/n) * sum_i -log softmax(x_i W + b)[y_i]  +  ||W||^2 / (2 C n)
 * This is scikit-learn's LogisticRegression(C) objective  C * sum_i CE_i + ||W||^2 / 2  divided by
 * C * n (the same minimiser; recent scikit-learn versions minimise exactly this scaled form), so a
 * given C means the same model in both. Dividing by n keeps the gradient tolerance meaningful
 * whatever the training-set size.
 */
import type { CsrMatrix } from './tfidf-features.ts';

export interface LogRegModel {
  features: number;
  classes: number;
  /** Feature-major: weights[j * classes + k]. */
  weights: Float64Array;
  bias: Float64Array;
}

export interface LogRegOptions {
  /** Inverse regularisation strength, as in scikit-learn. */
  C: number;
  maxIter: number;
  /** Stop when the largest gradient component of f falls below this. */
  tol: number;
  /** L-BFGS memory (pairs kept). */
  history: number;
  /** Starting point [W (feature-major), b] (default zero), e.g. the fit of a neighbouring C. */
  init?: Float64Array;
}

export const DEFAULT_LOGREG_OPTIONS: Omit<LogRegOptions, 'C'> = { maxIter: 2000, tol: 1e-6, history: 10 };

export interface LogRegFit {
  model: LogRegModel;
  iterations: number;
  converged: boolean;
  /** Largest absolute gradient component at the returned point. */
  gradientNorm: number;
  objective: number;
}

/** Value and gradient of f at params = [W (feature-major), b]. */
export function objectiveAndGradient(
  X: CsrMatrix,
  y: Int32Array,
  classes: number,
  C: number,
  params: Float64Array,
  gradient: Float64Array,
): number {
  const K = classes;
  const V = X.cols;
  const n = X.rows;
  const biasOffset = V * K;
  gradient.fill(0);
  const z = new Float64Array(K);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) z[k] = params[biasOffset + k]!;
    const start = X.indptr[i]!;
    const end = X.indptr[i + 1]!;
    for (let p = start; p < end; p++) {
      const base = X.indices[p]! * K;
      const v = X.values[p]!;
      for (let k = 0; k < K; k++) z[k]! += v * params[base + k]!;
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) if (z[k]! > max) max = z[k]!;
    const yi = y[i]!;
    // -log p_y = log(sum_k exp(z_k - max)) - (z_y - max): stable for any logit scale.
    const zy = z[yi]! - max;
    let sum = 0;
    for (let k = 0; k < K; k++) {
      z[k] = Math.exp(z[k]! - max);
      sum += z[k]!;
    }
    loss += Math.log(sum) - zy;
    // Residual r = p - onehot(y), scattered into the gradient: G += x_i^T r.
    for (let k = 0; k < K; k++) z[k] = z[k]! / sum - (k === yi ? 1 : 0);
    for (let p = start; p < end; p++) {
      const base = X.indices[p]! * K;
      const v = X.values[p]!;
      for (let k = 0; k < K; k++) gradient[base + k]! += v * z[k]!;
    }
    for (let k = 0; k < K; k++) gradient[biasOffset + k]! += z[k]!;
  }
  const inv = 1 / n;
  const reg = 1 / (C * n);
  let sq = 0;
  for (let j = 0; j < biasOffset; j++) {
    const w = params[j]!;
    sq += w * w;
    gradient[j] = gradient[j]! * inv + reg * w;
  }
  for (let k = 0; k < K; k++) gradient[biasOffset + k] = gradient[biasOffset + k]! * inv;
  return loss * inv + 0.5 * reg * sq;
}

/**
 * Fits the model by L-BFGS (two-loop recursion) with a backtracking Armijo line search. The
 * objective is convex, so curvature pairs with s.y > 0 are the norm; pairs that fail it are skipped.
 */
export function fitLogReg(
  X: CsrMatrix,
  y: Int32Array,
  classes: number,
  options: Partial<LogRegOptions> & { C: number },
): LogRegFit {
  const opts = { ...DEFAULT_LOGREG_OPTIONS, ...options };
  if (!(opts.C > 0)) throw new Error(`logistic regression: C must be > 0 (got ${opts.C})`);
  if (y.length !== X.rows) throw new Error(`logistic regression: ${X.rows} rows but ${y.length} labels`);
  const D = X.cols * classes + classes;
  const x = new Float64Array(D);
  if (opts.init) {
    if (opts.init.length !== D)
      throw new Error(`logistic regression: init has ${opts.init.length} values, expected ${D}`);
    x.set(opts.init);
  }
  const g = new Float64Array(D);
  let f = objectiveAndGradient(X, y, classes, opts.C, x, g);
  // Rare and frequent n-grams differ in curvature by orders of magnitude; a fixed diagonal
  // preconditioner (the Hessian's diagonal at the start) evens them out for L-BFGS.
  const hInv = inverseDiagonalCurvature(X, classes, opts.C, x);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(opts.history);
  const d = new Float64Array(D);
  const xNew = new Float64Array(D);
  const gNew = new Float64Array(D);
  let iterations = 0;
  let gInf = infNorm(g);
  while (gInf > opts.tol && iterations < opts.maxIter) {
    // Direction d = -H g by the two-loop recursion.
    d.set(g);
    for (let m = S.length - 1; m >= 0; m--) {
      const a = rho[m]! * dot(S[m]!, d);
      alpha[m] = a;
      axpy(-a, Y[m]!, d);
    }
    // Initial inverse Hessian: the diagonal preconditioner, scaled by the latest curvature pair
    // (the first step is a plain diagonal-Newton step).
    let gamma = 1;
    if (S.length > 0) {
      const last = S.length - 1;
      gamma = dot(S[last]!, Y[last]!) / weightedDot(Y[last]!, Y[last]!, hInv);
    }
    for (let j = 0; j < D; j++) d[j]! *= gamma * hInv[j]!;
    for (let m = 0; m < S.length; m++) {
      const b = rho[m]! * dot(Y[m]!, d);
      axpy(alpha[m]! - b, S[m]!, d);
    }
    scale(-1, d);
    let slope = dot(g, d);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let j = 0; j < D; j++) d[j] = -g[j]! * hInv[j]!;
      slope = dot(g, d);
    }
    let step = 1;
    let fNew = Number.NaN;
    let accepted = false;
    for (let tries = 0; tries < 60; tries++) {
      for (let j = 0; j < D; j++) xNew[j] = x[j]! + step * d[j]!;
      fNew = objectiveAndGradient(X, y, classes, opts.C, xNew, gNew);
      if (!Number.isFinite(fNew)) {
        step *= 0.5;
        continue;
      }
      if (fNew <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      // Near the optimum the decrease falls below f's rounding error and Armijo cannot be judged;
      // then accept on the slope instead (Hager and Zhang's approximate Wolfe conditions).
      const slopeNew = dot(gNew, d);
      if (fNew <= f + 1e-13 * Math.abs(f) && slopeNew >= 0.9 * slope && slopeNew <= (2e-4 - 1) * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    iterations++;
    if (!accepted) break;
    // Once the memory is full the oldest pair is dropped and its buffers reused (no allocation).
    let s: Float64Array;
    let yv: Float64Array;
    if (S.length === opts.history) {
      s = S.shift()!;
      yv = Y.shift()!;
      rho.shift();
    } else {
      s = new Float64Array(D);
      yv = new Float64Array(D);
    }
    for (let j = 0; j < D; j++) {
      s[j] = xNew[j]! - x[j]!;
      yv[j] = gNew[j]! - g[j]!;
    }
    const sy = dot(s, yv);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(yv, yv))) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
    }
    x.set(xNew);
    g.set(gNew);
    f = fNew;
    gInf = infNorm(g);
  }
  const V = X.cols;
  return {
    model: {
      features: V,
      classes,
      weights: x.slice(0, V * classes),
      bias: x.slice(V * classes),
    },
    iterations,
    converged: gInf <= opts.tol,
    gradientNorm: gInf,
    objective: f,
  };
}

/** Class probabilities [rows, K] in float64 (the reference forward pass the ONNX graph must match). */
export function predictProba(X: CsrMatrix, model: LogRegModel): Float64Array {
  const K = model.classes;
  const out = new Float64Array(X.rows * K);
  for (let i = 0; i < X.rows; i++) {
    const z = out.subarray(i * K, (i + 1) * K);
    z.set(model.bias);
    for (let p = X.indptr[i]!; p < X.indptr[i + 1]!; p++) {
      const base = X.indices[p]! * K;
      const v = X.values[p]!;
      for (let k = 0; k < K; k++) z[k]! += v * model.weights[base + k]!;
    }
    softmaxInPlace(z);
  }
  return out;
}

export function softmaxInPlace(z: Float64Array | Float32Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < z.length; k++) if (z[k]! > max) max = z[k]!;
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    z[k] = Math.exp(z[k]! - max);
    sum += z[k]!;
  }
  for (let k = 0; k < z.length; k++) z[k] = z[k]! / sum;
}

/** Index of the largest value; ties go to the lowest index (the protocol's label order). */
export function argmax(values: ArrayLike<number>, start = 0, length = values.length - start): number {
  let best = 0;
  for (let k = 1; k < length; k++) if (values[start + k]! > values[start + best]!) best = k;
  return best;
}

/**
 * 1 / diag(Hessian of f) at params: for weight (j, k), mean_i x_ij^2 p_ik (1 - p_ik) + 1/(C n);
 * for intercept k, mean_i p_ik (1 - p_ik) (floored, as it may vanish when one class dominates).
 */
export function inverseDiagonalCurvature(
  X: CsrMatrix,
  classes: number,
  C: number,
  params: Float64Array,
): Float64Array {
  const K = classes;
  const n = X.rows;
  const biasOffset = X.cols * K;
  const h = new Float64Array(biasOffset + K);
  const z = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) z[k] = params[biasOffset + k]!;
    const start = X.indptr[i]!;
    const end = X.indptr[i + 1]!;
    for (let p = start; p < end; p++) {
      const base = X.indices[p]! * K;
      const v = X.values[p]!;
      for (let k = 0; k < K; k++) z[k]! += v * params[base + k]!;
    }
    softmaxInPlace(z);
    for (let k = 0; k < K; k++) z[k] = z[k]! * (1 - z[k]!);
    for (let p = start; p < end; p++) {
      const base = X.indices[p]! * K;
      const v2 = X.values[p]! * X.values[p]!;
      for (let k = 0; k < K; k++) h[base + k]! += v2 * z[k]!;
    }
    for (let k = 0; k < K; k++) h[biasOffset + k]! += z[k]!;
  }
  const reg = 1 / (C * n);
  for (let j = 0; j < biasOffset; j++) h[j] = 1 / (h[j]! / n + reg);
  for (let k = 0; k < K; k++) h[biasOffset + k] = 1 / Math.max(h[biasOffset + k]! / n, 1e-8);
  return h;
}

function weightedDot(a: Float64Array, b: Float64Array, w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]! * w[i]!;
  return s;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += a * x[i]!;
}

function scale(a: number, x: Float64Array): void {
  for (let i = 0; i < x.length; i++) x[i]! *= a;
}

function infNorm(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    if (a > m) m = a;
  }
  return m;
}
