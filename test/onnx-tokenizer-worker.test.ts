import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeExample,
  type InputFormat,
  specialTokenIds,
} from '../adapters/onnx-classifier/input-format.ts';
import { loadModelFolder } from '../adapters/onnx-classifier/model-folder.ts';
import { TokenizerWorker } from '../adapters/onnx-classifier/tokenizer-worker.ts';
import type { Example } from '../harness/types.ts';
import { writeClassifierFolder } from './support/tiny-models.ts';

const dir = join(mkdtempSync(join(tmpdir(), 'ee-tokw-')), 'model');
writeClassifierFolder(dir, {});
const folder = await loadModelFolder(dir, 'model.onnx');
const worker = new TokenizerWorker(folder.tokenizerJson, folder.tokenizerConfig);
afterAll(() => worker.close());

const turn = (i: number) => ({
  id: `t${i}`,
  speaker: i % 2 ? 'Ross' : 'Rachel',
  text: `i am so happy today number ${i} .`,
});
const examples: Example[] = [0, 1, 2, 3, 7, 12].map((k) => ({
  id: `e${k}`,
  text: k === 12 ? Array.from({ length: 80 }, () => 'happy').join(' ') : `oh no i am sad ${k} !`,
  speaker: 'Joey',
  context: Array.from({ length: k }, (_, i) => turn(i)),
  label: 'joy',
}));

describe('tokenizer worker', () => {
  for (const mode of ['pair', 'inline'] as const) {
    it(`encodes exactly like the in-thread encoder (${mode}, context dropped and target cut when too long)`, async () => {
      const format: InputFormat = {
        contextTurns: 8,
        speakers: true,
        mode,
        separator: ' ',
        targetMarker: '>> ',
        maxLength: 48,
      };
      const specials = specialTokenIds(folder.tokenizer);
      const expected = examples.map((e) => encodeExample(e, folder.tokenizer, format, specials));
      // The cases include examples that fit, ones that drop turns, and one whose target alone is too long.
      expect(expected.some((e) => e.droppedTurns > 0)).toBe(true);
      expect(expected.some((e) => e.truncated)).toBe(true);
      expect(expected.some((e) => e.droppedTurns === 0 && !e.truncated)).toBe(true);
      expect(await worker.encode(examples, folder.tokenizer, format, specials)).toEqual(expected);
    });
  }
});

describe('the worker does the encoding', () => {
  it('examples that fit are never tokenized on this thread; only a too-long one is redone here', async () => {
    // A main-thread tokenizer that counts its calls: the worker's answers must not come from it.
    let calls = 0;
    const counting = new Proxy(folder.tokenizer, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'encode' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls++;
          return value.apply(target, args);
        };
      },
    });
    const format: InputFormat = {
      contextTurns: 0,
      speakers: false,
      mode: 'pair',
      separator: ' ',
      targetMarker: '',
      maxLength: 48,
    };
    const specials = specialTokenIds(folder.tokenizer);
    const fit = examples.filter((e) => e.id !== 'e12');
    expect(await worker.encode(fit, counting, format, specials)).toEqual(
      fit.map((e) => encodeExample(e, folder.tokenizer, format, specials)),
    );
    expect(calls).toBe(0);
    // e12's target alone is longer than maxLength: the worker's attempt is too long, redone here.
    await worker.encode(examples, counting, format, specials);
    expect(calls).toBeGreaterThan(0);
  });
});

describe('tokenizer worker failure', () => {
  it('a worker that crashes (here: a tokenizer it cannot load) is redone on this thread, with one warning', async () => {
    const warnings: string[] = [];
    const broken = new TokenizerWorker({ not: 'a tokenizer' }, folder.tokenizerConfig, (m) =>
      warnings.push(m),
    );
    try {
      const format: InputFormat = {
        contextTurns: 2,
        speakers: true,
        mode: 'pair',
        separator: ' ',
        targetMarker: '',
        maxLength: 48,
      };
      const specials = specialTokenIds(folder.tokenizer);
      const expected = examples.map((e) => encodeExample(e, folder.tokenizer, format, specials));
      expect(await broken.encode(examples, folder.tokenizer, format, specials)).toEqual(expected);
      expect(await broken.encode(examples, folder.tokenizer, format, specials)).toEqual(expected);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^onnx-classifier: the tokenizer worker failed \(.+\); tokenizing on the main thread$/,
      );
    } finally {
      await broken.close();
    }
  });
});

describe('tokenizer worker lifetime', () => {
  it('keeps the process alive while a request is pending, and not once it is idle and never closed', () => {
    // Unreferenced throughout, the process would exit before the answer (status 13, no output);
    // referenced throughout, it would never exit (killed by the timeout).
    const root = resolve(import.meta.dirname, '..');
    const script = join(mkdtempSync(join(tmpdir(), 'ee-tokw-')), 'lifetime.mts');
    writeFileSync(
      script,
      [
        `import { loadModelFolder } from ${JSON.stringify(join(root, 'adapters/onnx-classifier/model-folder.ts'))};`,
        `import { specialTokenIds } from ${JSON.stringify(join(root, 'adapters/onnx-classifier/input-format.ts'))};`,
        `import { TokenizerWorker } from ${JSON.stringify(join(root, 'adapters/onnx-classifier/tokenizer-worker.ts'))};`,
        `const folder = await loadModelFolder(${JSON.stringify(dir)}, 'model.onnx');`,
        'const w = new TokenizerWorker(folder.tokenizerJson, folder.tokenizerConfig);',
        "const format = { contextTurns: 0, speakers: false, mode: 'pair', separator: ' ', targetMarker: '', maxLength: 32 };",
        "const out = await w.encode([{ id: 'a', text: 'oh no i am sad', speaker: 'x', context: [] }], folder.tokenizer, format, specialTokenIds(folder.tokenizer));",
        "console.log('encoded', out.length, 'with', out[0].ids.length, 'ids');",
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^encoded 1 with [1-9]\d* ids$/m);
  }, 40_000);
});
