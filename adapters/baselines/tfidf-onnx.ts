/**
 * Exports a fitted TF-IDF + logistic-regression model as an ONNX graph, so the baseline is scored
 * by the same ONNX Runtime path as every other in-process model. The TypeScript side only counts
 * in-vocabulary n-grams; the graph does the rest:
 *
 *   counts [batch, V] -> tf (raw, or 1 + ln(count) for count > 0) -> * idf -> row l2 norm
 *     -> Gemm(W [V, K], b [K]) -> Softmax -> probabilities [batch, K]
 */
import { OnnxGraphBuilder } from '../../harness/inference/onnx-graph.ts';
import type { LogRegModel } from './logreg.ts';

export const INPUT_NAME = 'counts';
export const OUTPUT_NAME = 'probabilities';

export interface TfidfGraphSpec {
  idf: Float64Array;
  sublinearTf: boolean;
  model: LogRegModel;
  labels: readonly string[];
}

export function tfidfLogregGraph(spec: TfidfGraphSpec): Uint8Array {
  const V = spec.idf.length;
  const K = spec.labels.length;
  if (spec.model.features !== V || spec.model.classes !== K) {
    throw new Error(`model shape ${spec.model.features}x${spec.model.classes} does not match V=${V}, K=${K}`);
  }
  const b = new OnnxGraphBuilder({ name: 'tfidf_logreg' });
  b.metadata('emotion-eval.labels', JSON.stringify(spec.labels));
  b.metadata('emotion-eval.sublinear_tf', String(spec.sublinearTf));
  const counts = b.input(INPUT_NAME, 'float32', ['batch', V]);
  let tf = counts;
  if (spec.sublinearTf) {
    // 1 + ln(c) for c >= 1 and 0 for c = 0, without Log(0): Sign(c) + Log(Max(c, 1)).
    const one = b.scalar('one', 1);
    tf = b.op('Add', [b.op('Sign', [counts]), b.op('Log', [b.op('Max', [counts, one])])]);
  }
  const idf = b.initializer('idf', Float32Array.from(spec.idf), [V]);
  const x = b.op('Mul', [tf, idf]);
  // Rows with no known term have norm 0; the floor keeps them at 0 (as scikit-learn does) not NaN.
  const norm = b.op('Max', [
    b.op('ReduceL2', [x], { axes: [1], keepdims: 1 }),
    b.scalar('norm_floor', 1e-12),
  ]);
  const xn = b.op('Div', [x, norm]);
  const W = b.initializer('weights', Float32Array.from(spec.model.weights), [V, K]);
  const bias = b.initializer('bias', Float32Array.from(spec.model.bias), [K]);
  const logits = b.op('Gemm', [xn, W, bias], {}, 'logits');
  b.op('Softmax', [logits], { axis: 1 }, OUTPUT_NAME);
  b.output(OUTPUT_NAME, 'float32', ['batch', K]);
  return b.toBytes();
}
