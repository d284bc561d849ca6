/**
 * A small reader (and writer, for tests and tools) of the safetensors format: an 8-byte little-endian
 * header length N, N bytes of JSON mapping tensor names to {dtype, shape, data_offsets} (offsets
 * relative to the byte buffer after the header), then the raw little-endian data. Floating-point
 * tensors are returned as Float32Array whatever their stored precision (F32, F16, BF16): the adapters
 * only need them to build ONNX inputs. No maintained npm reader exists, and the format is small.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from './errors.ts';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** Reads and validates a .safetensors file; every problem is one InputError naming the file. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    throw new InputError('safetensors file not found or unreadable', path);
  }
  return parseSafetensors(bytes, path);
}

export function parseSafetensors(bytes: Uint8Array, name = '<safetensors>'): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new InputError(`not a valid safetensors file: ${msg}`, name);
  };
  if (bytes.byteLength < 8) fail(`file has ${bytes.byteLength} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.byteLength - 8)) {
    fail(`header length ${headerLength} exceeds the ${bytes.byteLength - 8} bytes after it`);
  }
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    fail(`header is not UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (entry && typeof entry === 'object' && !Array.isArray(entry))
        metadata = entry as Record<string, string>;
      else fail('__metadata__ is not an object');
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!e || typeof e !== 'object') fail(`entry '${key}' is not an object`);
    const dtype = e!.dtype;
    if (typeof dtype !== 'string' || !(dtype in BYTES)) {
      fail(`tensor '${key}' has dtype ${JSON.stringify(dtype)}; supported: F32, F16, BF16`);
    }
    const shape = e!.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor '${key}' has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
    }
    const offsets = e!.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(
        `tensor '${key}' has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with begin <= end`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength)
      fail(`tensor '${key}' ends at byte ${end} but the data section has ${dataLength} bytes`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const width = BYTES[dtype as SafetensorsDtype];
    if (count * width !== end - begin) {
      fail(
        `tensor '${key}' (${dtype} ${JSON.stringify(shape)}) needs ${count * width} bytes but data_offsets span ${end - begin}`,
      );
    }
    spans.push([begin, end, key]);
    tensors.set(key, {
      dtype: dtype as SafetensorsDtype,
      shape: shape as number[],
      data: decode(bytes.subarray(dataStart + begin, dataStart + end), dtype as SafetensorsDtype),
    });
  }
  // Overlapping tensors mean a corrupt or hand-edited file; the format forbids them.
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) fail(`tensors '${spans[i - 1]![2]}' and '${spans[i]![2]}' overlap`);
  }
  return { tensors, metadata };
}

function decode(raw: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(raw.byteLength / BYTES[dtype]);
  for (let i = 0; i < out.length; i++) {
    if (dtype === 'F32') out[i] = view.getFloat32(i * 4, true);
    else if (dtype === 'F16') out[i] = halfToFloat(view.getUint16(i * 2, true));
    else out[i] = bf16ToFloat(view.getUint16(i * 2, true));
  }
  return out;
}

const scratch = new DataView(new ArrayBuffer(4));

/** bfloat16 is the top half of a float32. */
export function bf16ToFloat(bits: number): number {
  scratch.setUint32(0, (bits & 0xffff) << 16);
  return scratch.getFloat32(0);
}

/** IEEE 754 binary16 to a JS number (subnormals, infinities and NaN included). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** A number to IEEE 754 binary16 bits, rounding to nearest even (used to feed fp16 models). */
export function floatToHalf(value: number): number {
  scratch.setFloat32(0, value);
  const x = scratch.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  return sign | (half + (rem > 0x1000 || (rem === 0x1000 && half & 1) ? 1 : 0));
}

/** Encodes tensors as a safetensors file (tests write prefix checkpoints with it). */
export function encodeSafetensors(
  tensors: Record<string, { dtype: SafetensorsDtype; shape: number[]; data: ArrayLike<number> }>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name]!;
    const size = t.data.length * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces to an 8-byte boundary, as the reference writer does.
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name]!;
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i]!;
      if (t.dtype === 'F32') {
        view.setFloat32(pos, v, true);
        pos += 4;
      } else if (t.dtype === 'F16') {
        view.setUint16(pos, floatToHalf(v), true);
        pos += 2;
      } else {
        scratch.setFloat32(0, v);
        view.setUint16(pos, scratch.getUint32(0) >>> 16, true);
        pos += 2;
      }
    }
  }
  return out;
}
