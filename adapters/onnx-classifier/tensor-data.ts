/**
 * Float tensors in and out of fp32 and fp16 models: ONNX Runtime hands fp16 data over as raw
 * 16-bit words, so reading logits and feeding prefixes convert here.
 */

import { ort } from '../../harness/inference/onnx.ts';
import { floatToHalf, halfToFloat } from '../../harness/safetensors.ts';

export type FloatType = 'float32' | 'float16';

/** The tensor's values as Float32Array (a view when already fp32). */
export function toFloat32(tensor: ort.Tensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') {
    const raw = tensor.data as unknown as ArrayLike<number>;
    // Node may hand back a Float16Array (values) or a Uint16Array (bits).
    if (raw instanceof Uint16Array) return Float32Array.from(raw, halfToFloat);
    return Float32Array.from(raw);
  }
  throw new Error(`expected a float tensor, got ${tensor.type}`);
}

/** A float tensor of the model's element type from fp32 values. */
export function floatTensor(type: FloatType, values: Float32Array, dims: readonly number[]): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', values, dims);
  return new ort.Tensor('float16', Uint16Array.from(values, floatToHalf), dims);
}
