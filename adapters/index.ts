import type { AdapterFactory } from '../harness/types.ts';
import { majorityFactory, tfidfLogregFactory } from './baselines/index.ts';
import { onnxCausalLmFactory } from './onnx-causal-lm/index.ts';
import { onnxClassifierFactory } from './onnx-classifier/index.ts';
import { openaiAdapterFactory } from './openai/index.ts';

/** Every built-in adapter type. Add one line per adapter family. */
// biome-ignore lint/suspicious/noExplicitAny: factories have heterogeneous config types.
export const builtinAdapters: AdapterFactory<any>[] = [
  openaiAdapterFactory,
  onnxClassifierFactory,
  onnxCausalLmFactory,
  majorityFactory,
  tfidfLogregFactory,
];
