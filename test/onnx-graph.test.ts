import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getSession, ort, releaseSessions, runSession } from '../harness/inference/onnx.ts';
import { float, OnnxGraphBuilder } from '../harness/inference/onnx-graph.ts';

const dir = mkdtempSync(join(tmpdir(), 'onnx-graph-'));
afterAll(releaseSessions);

function save(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** y = softmax(x W + b) with W = [[1, 2], [3, 4], [5, 6]], b = [0.5, -0.5]; plus the row l2 norm. */
function tinyModel(): OnnxGraphBuilder {
  const b = new OnnxGraphBuilder({ name: 'tiny' });
  const x = b.input('x', 'float32', ['batch', 3]);
  const w = b.initializer('w', Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2]);
  const bias = b.initializer('b', Float32Array.of(0.5, -0.5), [2]);
  const logits = b.op('Gemm', [x, w, bias], { alpha: float(1), beta: float(1) }, 'logits');
  b.op('Softmax', [logits], { axis: 1 }, 'probs');
  b.op('ReduceL2', [x], { axes: [1], keepdims: 1 }, 'norm');
  b.output('logits', 'float32', ['batch', 2]);
  b.output('probs', 'float32', ['batch', 2]);
  b.output('norm', 'float32', ['batch', 1]);
  return b;
}

describe('OnnxGraphBuilder', () => {
  it('writes a model that ONNX Runtime runs, with hand-computed results', async () => {
    const handle = await getSession(save('tiny.onnx', tinyModel().toBytes()), { device: 'cpu' });
    expect(handle.inputNames).toEqual(['x']);
    expect([...handle.outputNames].sort()).toEqual(['logits', 'norm', 'probs']);
    // Row 1: x = (1, 0, 0) -> logits (1.5, 1.5) -> probs (0.5, 0.5); norm 1.
    // Row 2: x = (3, 4, 0) -> logits (3 + 12 + 0.5, 6 + 16 - 0.5) = (15.5, 21.5); norm 5.
    const out = await runSession(handle, {
      x: new ort.Tensor('float32', Float32Array.of(1, 0, 0, 3, 4, 0), [2, 3]),
    });
    expect([...(out.logits!.data as Float32Array)]).toEqual([1.5, 1.5, 15.5, 21.5]);
    expect([...(out.norm!.data as Float32Array)]).toEqual([1, 5]);
    const p = out.probs!.data as Float32Array;
    expect(p[0]).toBeCloseTo(0.5, 7);
    expect(p[2]).toBeCloseTo(1 / (1 + Math.exp(6)), 7);
    expect(p[3]).toBeCloseTo(1 / (1 + Math.exp(-6)), 7);
  });

  it('gives identical bytes for identical calls (no timestamps)', () => {
    expect(Buffer.from(tinyModel().toBytes()).equals(Buffer.from(tinyModel().toBytes()))).toBe(true);
  });

  it('stores initializers little-endian and keeps int64 tensors exact', async () => {
    const b = new OnnxGraphBuilder({ name: 'gather' });
    const idx = b.input('idx', 'int64', [2]);
    const table = b.initializer('table', BigInt64Array.of(10n, -20n, 2n ** 40n), [3]);
    b.op('Gather', [table, idx], { axis: 0 }, 'out');
    b.output('out', 'int64', [2]);
    const handle = await getSession(save('gather.onnx', b.toBytes()), { device: 'cpu' });
    const out = await runSession(handle, { idx: new ort.Tensor('int64', BigInt64Array.of(2n, 1n), [2]) });
    expect([...(out.out!.data as BigInt64Array)]).toEqual([2n ** 40n, -20n]);
  });

  it('writes metadata_props', async () => {
    const b = tinyModel().metadata('emotion-eval.labels', '["a","b"]');
    const bytes = b.toBytes();
    const text = Buffer.from(bytes).toString('latin1');
    expect(text).toContain('emotion-eval.labels');
    expect(text).toContain('["a","b"]');
  });

  it('rejects a name defined twice and initializer data that does not fill its dims', () => {
    const b = new OnnxGraphBuilder({ name: 'bad' });
    b.input('x', 'float32', [1]);
    expect(() => b.initializer('x', Float32Array.of(1), [1])).toThrow(/defined twice/);
    expect(() => b.initializer('w', Float32Array.of(1, 2, 3), [2, 2])).toThrow(
      /3 values do not fill dims \[2, 2\]/,
    );
  });
});
