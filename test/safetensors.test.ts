import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../harness/errors.ts';
import {
  encodeSafetensors,
  floatToHalf,
  halfToFloat,
  parseSafetensors,
  readSafetensors,
} from '../harness/safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file assembled byte by byte: u64 LE header length, JSON header, data. */
function handMade(header: unknown, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors reader', () => {
  it('decodes F32, F16 and BF16 from hand-written bytes', async () => {
    // F32 1.5 = 0x3FC00000; F16 1.0 = 0x3C00, -2.0 = 0xC000, 2^-24 = 0x0001 (subnormal), 65504 = 0x7BFF;
    // BF16 1.0 = 0x3F80, -3.5 = 0xC060.
    const bytes = handMade(
      {
        __metadata__: { format: 'pt' },
        a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        h: { dtype: 'F16', shape: [2, 2], data_offsets: [4, 12] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [12, 16] },
      },
      [0x00, 0x00, 0xc0, 0x3f, 0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x7b, 0x80, 0x3f, 0x60, 0xc0],
    );
    const path = join(dir, 'hand.safetensors');
    writeFileSync(path, bytes);
    const file = await readSafetensors(path);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(Array.from(file.tensors.get('a')!.data)).toEqual([1.5]);
    expect(file.tensors.get('h')!.shape).toEqual([2, 2]);
    expect(Array.from(file.tensors.get('h')!.data)).toEqual([1, -2, 2 ** -24, 65504]);
    expect(Array.from(file.tensors.get('b')!.data)).toEqual([1, -3.5]);
    expect(file.tensors.get('b')!.dtype).toBe('BF16');
  });

  it('encodes what it reads (8-byte aligned header), in every dtype', () => {
    const values = [0.5, -1.25, 3, 0];
    const bytes = encodeSafetensors(
      {
        x: { dtype: 'F32', shape: [2, 2], data: values },
        y: { dtype: 'F16', shape: [4], data: values },
        z: { dtype: 'BF16', shape: [4, 1], data: values },
      },
      { note: 'test' },
    );
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const file = parseSafetensors(bytes);
    for (const k of ['x', 'y', 'z']) expect(Array.from(file.tensors.get(k)!.data)).toEqual(values);
    expect(file.tensors.get('z')!.shape).toEqual([4, 1]);
    expect(file.metadata).toEqual({ note: 'test' });
  });

  it('half-precision conversion rounds to nearest even', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(1e6)).toBe(0x7c00); // overflow to infinity
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    // 0.1 lies between 0x2E66 (0.0999755859375) and 0x2E67 (0.10003662109375); the first is nearer.
    expect(floatToHalf(0.1)).toBe(0x2e66);
    expect(halfToFloat(0x2e66)).toBe(0.0999755859375);
    // 1 + 2^-11 is exactly halfway between 1 (even mantissa) and 1 + 2^-10: ties go to even.
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00);
  });
});

describe('safetensors reader rejects malformed files with the file name', () => {
  const bad = (bytes: Uint8Array, pattern: RegExp) => {
    let err: unknown;
    try {
      parseSafetensors(bytes, 'model.safetensors');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^model\.safetensors: not a valid safetensors file: /);
    expect((err as Error).message).toMatch(pattern);
  };

  it('shorter than the header length field', () =>
    bad(new Uint8Array(5), /5 bytes, fewer than the 8-byte header length/));

  it('header length beyond the file', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, 1000n, true);
    bad(b, /header length 1000 exceeds the 8 bytes after it/);
  });

  it('header that is not JSON', () => {
    const b = handMade({}, []);
    b.set(new TextEncoder().encode('{x'), 8);
    bad(b, /header is not UTF-8 JSON/);
  });

  it('unsupported dtype', () =>
    bad(
      handMade({ t: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Array(8).fill(0)),
      /tensor 't' has dtype "I64"; supported: F32, F16, BF16/,
    ));

  it('shape and offsets that disagree', () =>
    bad(
      handMade({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0)),
      /needs 12 bytes but data_offsets span 8/,
    ));

  it('data past the end of the file', () =>
    bad(
      handMade({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Array(8).fill(0)),
      /ends at byte 16 but the data section has 8 bytes/,
    ));

  it('overlapping tensors', () =>
    bad(
      handMade(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        },
        new Array(8).fill(0),
      ),
      /tensors 'a' and 'b' overlap/,
    ));

  it('a negative dimension', () =>
    bad(
      handMade({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, []),
      /has shape \[-1\]; expected a list of non-negative integers/,
    ));

  it('a missing file', async () => {
    await expect(readSafetensors(join(dir, 'absent.safetensors'))).rejects.toThrow(
      /absent\.safetensors: safetensors file not found/,
    );
  });
});
