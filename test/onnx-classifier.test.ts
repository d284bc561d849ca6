import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinAdapters } from '../adapters/index.ts';
import { onnxClassifierFactory } from '../adapters/onnx-classifier/index.ts';
import { encodeExample, specialTokenIds } from '../adapters/onnx-classifier/input-format.ts';
import { loadModelFolder } from '../adapters/onnx-classifier/model-folder.ts';
import { InputError, RuntimeFailure } from '../harness/errors.ts';
import {
  BatchSizer,
  bucketByLength,
  learnedBatchSize,
  paddingStats,
  resetLearnedBatchSizes,
} from '../harness/inference/length-buckets.ts';
import { releaseSessions } from '../harness/inference/onnx.ts';
import type { AdapterEnv, CellContext, Example, Protocol } from '../harness/types.ts';
import {
  type ClassifierWeights,
  classifierReference,
  softmax,
  writeClassifierFolder,
} from './support/tiny-models.ts';

const root = mkdtempSync(join(tmpdir(), 'onnx-classifier-'));
const log = { info: () => {}, warn: () => {} };
const env: AdapterEnv = { baseDir: root, log, device: 'cpu', cacheDir: join(root, 'cache') };

function protocolWith(labels: string[]): Protocol {
  return {
    id: 'tiny',
    dataset: 'tiny',
    description: 'test protocol',
    labels,
    splits: { test: ['test'] },
    mapLabel: (u) => ({ label: u.label ?? '' }),
    headline: 'accuracy',
    metrics: ['accuracy'],
    hasContext: true,
  };
}
const protocol = protocolWith(['Joy', 'Anger', 'Sadness', 'Neutral']);

const examples: Example[] = [
  { id: 'a', text: 'I am so happy today', speaker: 'A', context: [], label: 'Joy' },
  {
    id: 'b',
    text: 'you make me angry',
    speaker: 'B',
    context: [
      { id: 'b0', speaker: 'A', text: 'it is fine' },
      { id: 'b1', speaker: 'B', text: 'what ?' },
    ],
    label: 'Anger',
  },
  { id: 'c', text: 'sad', speaker: 'A', context: [{ id: 'c0', speaker: 'B', text: 'ok' }], label: 'Sadness' },
  { id: 'd', text: 'it is fine , ok ? very glad', context: [], label: 'Neutral' },
  { id: 'e', text: 'glad', speaker: 'B', context: [], label: 'Joy' },
  { id: 'f', text: 'what a day ! i am angry', speaker: 'A', context: [], label: 'Anger' },
  {
    id: 'g',
    text: 'ok .',
    speaker: 'B',
    context: [{ id: 'g0', speaker: 'A', text: 'you are sad' }],
    label: 'Neutral',
  },
];

function ctxFor(p: Protocol = protocol): CellContext {
  return {
    task: { id: 'tiny', protocol: p, split: 'test', examples, dropped: {}, files: [], dataDir: root },
    protocol: p,
    labels: p.labels,
    seed: 1,
    workDir: root,
    log,
    loadSplit: async () => examples,
  };
}

let w: ClassifierWeights;
const word = (x: string) => w.vocab.tokens[x] ?? w.vocab.tokens[x.toLowerCase()] ?? w.vocab.tokens['[UNK]']!;
const words = (text: string) => text.split(/\s+/).filter(Boolean).map(word);

beforeAll(() => {
  w = writeClassifierFolder(join(root, 'model'), {
    loraConfig: { peft_type: 'LORA', r: 4, lora_alpha: 16, target_modules: ['query', 'value'] },
  });
});

afterAll(async () => {
  await releaseSessions();
  rmSync(root, { recursive: true, force: true });
});

async function adapterWith(raw: Record<string, unknown>) {
  const config = onnxClassifierFactory.parseConfig({ model: 'model', ...raw });
  return onnxClassifierFactory.create({ ...config, id: 'clf' }, env);
}

describe('onnx-classifier predictions equal a TypeScript forward pass of the same weights', () => {
  for (const batchSize of [1, 7, 'auto'] as const) {
    it(`target alone, batch ${batchSize}`, async () => {
      const adapter = await adapterWith({ batchSize, maxPadding: 1000 });
      const ctx = ctxFor();
      await adapter.prepare?.(ctx);
      const preds = await adapter.predict(examples, ctx);
      expect(preds.map((p) => p.id)).toEqual(examples.map((e) => e.id));
      for (const [i, pred] of preds.entries()) {
        const ids = [word('[CLS]'), ...words(examples[i]!.text), word('[SEP]')];
        const probs = softmax(
          classifierReference(
            w,
            ids,
            ids.map(() => 0),
          ),
        );
        protocol.labels.forEach((label, k) => {
          expect(Math.abs(pred.scores![label]! - probs[k]!)).toBeLessThan(1e-5);
        });
        const best = protocol.labels[probs.indexOf(Math.max(...probs))];
        expect(pred.label).toBe(best);
        expect(pred.raw).toBe(w.labels[probs.indexOf(Math.max(...probs))]);
      }
    });
  }

  it('with 2 previous turns and speakers as a first segment (token types 0 then 1)', async () => {
    const adapter = await adapterWith({ batchSize: 7, maxPadding: 1000, context: { turns: 2 } });
    const ctx = ctxFor();
    const preds = await adapter.predict(examples, ctx);
    for (const [i, pred] of preds.entries()) {
      const e = examples[i]!;
      const turn = (s: string | undefined, t: string) => (s ? [word(s), word(':'), ...words(t)] : words(t));
      const ctxIds = e.context.slice(-2).flatMap((c) => turn(c.speaker, c.text));
      const target = turn(e.speaker, e.text);
      const ids =
        ctxIds.length > 0
          ? [word('[CLS]'), ...ctxIds, word('[SEP]'), ...target, word('[SEP]')]
          : [word('[CLS]'), ...target, word('[SEP]')];
      const types =
        ctxIds.length > 0 ? [...ctxIds.map(() => 0), 0, 0, ...target.map(() => 1), 1] : ids.map(() => 0);
      const probs = softmax(classifierReference(w, ids, types));
      protocol.labels.forEach((label, k) => {
        expect(Math.abs(pred.scores![label]! - probs[k]!)).toBeLessThan(1e-5);
      });
    }
  });

  it('a graph without token_type_ids (RoBERTa-like) gets none', async () => {
    const wr = writeClassifierFolder(join(root, 'model-roberta'), { tokenTypes: false, seed: 3 });
    const adapter = await adapterWith({ model: 'model-roberta' });
    const preds = await adapter.predict(examples.slice(0, 2), ctxFor());
    const ids = [wr.vocab.tokens['[CLS]']!, ...words(examples[0]!.text), wr.vocab.tokens['[SEP]']!];
    const probs = softmax(classifierReference(wr, ids));
    expect(Math.abs(preds[0]!.scores!.Joy! - probs[0]!)).toBeLessThan(1e-5);
  });

  it('labelMap collapses model labels onto protocol labels by summing probabilities', async () => {
    const p3 = protocolWith(['positive', 'negative', 'neutral']);
    const adapter = await adapterWith({
      labelMap: { joy: 'positive', anger: 'negative', sadness: 'negative', neutral: 'neutral' },
    });
    const ctx = ctxFor(p3);
    await adapter.prepare?.(ctx);
    const [pred] = await adapter.predict(examples.slice(1, 2), ctx);
    const ids = [word('[CLS]'), ...words(examples[1]!.text), word('[SEP]')];
    const probs = softmax(
      classifierReference(
        w,
        ids,
        ids.map(() => 0),
      ),
    );
    expect(pred!.scores!.positive).toBeCloseTo(probs[0]!, 6);
    expect(pred!.scores!.negative).toBeCloseTo(probs[1]! + probs[2]!, 6);
    expect(pred!.scores!.neutral).toBeCloseTo(probs[3]!, 6);
  });

  it('records LoRA facts, device, batch size and padding (capped at maxPadding)', async () => {
    const adapter = await adapterWith({ batchSize: 7 });
    await adapter.predict(examples, ctxFor());
    const facts = adapter.facts!();
    expect(facts.padding_ratio as number).toBeLessThanOrEqual(1.1);
    expect(facts.lora).toEqual({
      peft_type: 'LORA',
      r: 4,
      lora_alpha: 16,
      target_modules: ['query', 'value'],
    });
    expect(facts.device).toBe('cpu');
    expect(facts.batch_size).toBe(7);
    expect(facts.model_labels).toEqual(['joy', 'anger', 'sadness', 'neutral']);
    expect(facts.padding_ratio as number).toBeGreaterThanOrEqual(1);
  });
});

describe('registration', () => {
  it('both ONNX adapter types are built-in', () => {
    const types = builtinAdapters.map((f) => f.type);
    expect(types).toContain('onnx-classifier');
    expect(types).toContain('onnx-causal-lm');
  });
});

describe('onnx-classifier input formatting drops the oldest context first, never the target', () => {
  it('drops turns oldest first, then cuts the target keeping [SEP]', async () => {
    const folder = await loadModelFolder(join(root, 'model'), 'model.onnx');
    const specials = specialTokenIds(folder.tokenizer);
    const e: Example = {
      id: 'x',
      text: 'i am so happy today',
      speaker: 'A',
      context: [
        { id: '1', speaker: 'B', text: 'what a day' },
        { id: '2', speaker: 'A', text: 'ok' },
      ],
      label: 'Joy',
    };
    const fmt = {
      contextTurns: 2,
      speakers: true,
      mode: 'pair' as const,
      separator: ' ',
      targetMarker: '',
      maxLength: 64,
    };
    // Full: [CLS] B : what a day A : ok [SEP] A : i am so happy today [SEP] = 1 + 8 + 1 + 7 + 1 = 18 tokens.
    expect(encodeExample(e, folder.tokenizer, fmt, specials).ids).toHaveLength(18);
    // 13 tokens: the oldest turn (5 tokens) goes, "A : ok" stays.
    const one = encodeExample(e, folder.tokenizer, { ...fmt, maxLength: 13 }, specials);
    expect(one.droppedTurns).toBe(1);
    expect(one.ids).toEqual([
      word('[CLS]'),
      word('A'),
      word(':'),
      word('ok'),
      word('[SEP]'),
      ...words('A : i am so happy today'),
      word('[SEP]'),
    ]);
    // 9 tokens: both turns go; target alone is [CLS] + 7 + [SEP] = 9.
    const none = encodeExample(e, folder.tokenizer, { ...fmt, maxLength: 9 }, specials);
    expect(none.droppedTurns).toBe(2);
    expect(none.truncated).toBe(false);
    expect(none.ids).toEqual([word('[CLS]'), ...words('A : i am so happy today'), word('[SEP]')]);
    // 6 tokens: the target is cut at the end, its closing [SEP] kept.
    const cut = encodeExample(e, folder.tokenizer, { ...fmt, maxLength: 6 }, specials);
    expect(cut.truncated).toBe(true);
    expect(cut.ids).toEqual([word('[CLS]'), ...words('A : i am'), word('[SEP]')]);
  });

  it('inline mode joins turns and marks the target', async () => {
    const folder = await loadModelFolder(join(root, 'model'), 'model.onnx');
    const specials = specialTokenIds(folder.tokenizer);
    const e: Example = {
      id: 'x',
      text: 'sad',
      speaker: 'A',
      context: [{ id: '1', speaker: 'B', text: 'ok' }],
      label: 'Joy',
    };
    const fmt = {
      contextTurns: 1,
      speakers: false,
      mode: 'inline' as const,
      separator: ' , ',
      targetMarker: ': ',
      maxLength: 64,
    };
    expect(encodeExample(e, folder.tokenizer, fmt, specials).ids).toEqual([
      word('[CLS]'),
      word('ok'),
      word(','),
      word(':'),
      word('sad'),
      word('[SEP]'),
    ]);
  });
});

describe('onnx-classifier bad input is a clear InputError (exit code 2)', () => {
  async function inputError(promise: Promise<unknown>): Promise<InputError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    return err as InputError;
  }

  it('missing id2label', async () => {
    writeClassifierFolder(join(root, 'model-no-labels'), { omitId2label: true });
    const err = await inputError(adapterWith({ model: 'model-no-labels' }));
    expect(err.message).toMatch(/model-no-labels\/config\.json: config\.json has no id2label/);
  });

  it('a protocol label no model label maps to, at prepare time', async () => {
    const adapter = await adapterWith({});
    const p = protocolWith(['Joy', 'Anger', 'Sadness', 'Neutral', 'Surprise']);
    const err = await inputError(Promise.resolve().then(() => adapter.prepare!(ctxFor(p))));
    expect(err.message).toMatch(
      /protocol label 'Surprise' has no model label mapped to it \(model labels: joy, anger, sadness, neutral\); set labelMap/,
    );
  });

  it('a labelMap naming a label the model does not have', async () => {
    const adapter = await adapterWith({ labelMap: { joyful: 'Joy' } });
    const err = await inputError(Promise.resolve().then(() => adapter.prepare!(ctxFor())));
    expect(err.message).toMatch(/labelMap names model label 'joyful'/);
  });

  it('a tokenizer whose vocabulary exceeds the model embedding', async () => {
    writeClassifierFolder(join(root, 'model-small-vocab'), { configVocabSize: 20 });
    const err = await inputError(adapterWith({ model: 'model-small-vocab' }));
    expect(err.message).toMatch(
      /tokenizer\.json: tokenizer\.json produces token ids up to \d+ but the model's embedding has 20 rows/,
    );
  });

  it('a tokenizer larger than the graph when config.json has no vocab_size: bad input, not a retry loop', async () => {
    const dir = join(root, 'model-no-vocab-size');
    const w = writeClassifierFolder(dir, { embeddingRows: 8, omitVocabSize: true });
    expect(w.vocab.size).toBeGreaterThan(8);
    const adapter = await adapterWith({ model: 'model-no-vocab-size', batchSize: 'auto' });
    await adapter.prepare!(ctxFor());
    const err = await inputError(adapter.predict(examples.slice(0, 3), ctxFor()));
    expect(err.message).toMatch(
      /model\.onnx: a token id is outside the model's embedding table; does tokenizer\.json belong to this model\?/,
    );
  });

  it('a missing model folder', async () => {
    const err = await inputError(adapterWith({ model: 'nowhere' }));
    expect(err.message).toMatch(/nowhere: model folder not found/);
  });

  it('config errors name the key path', () => {
    expect(() => onnxClassifierFactory.parseConfig({ model: 'm', context: { turns: -1 } })).toThrow(
      /context\.turns/,
    );
    expect(() => onnxClassifierFactory.parseConfig({ model: 'm', labelMap: { a: 3 } })).toThrow(
      /labelMap\.a/,
    );
  });
});

describe('length buckets and automatic batch size', () => {
  it('buckets sorted lengths and counts padding (hand-worked)', () => {
    const lengths = [5, 1, 4, 2, 3, 9];
    // Sorted: 1(i1) 2(i3) 3(i4) 4(i2) 5(i0) 9(i5) -> batches of 2.
    const batches = bucketByLength(lengths, { batchSize: 2 });
    expect(batches).toEqual([
      [1, 3],
      [4, 2],
      [0, 5],
    ]);
    // Padded: 2*2 + 4*2 + 9*2 = 30; real: 24.
    expect(paddingStats(lengths, batches)).toEqual({
      realTokens: 24,
      paddedTokens: 30,
      ratio: 30 / 24,
      batches: 3,
    });
    // Unsorted batches of 2 in input order would pad to 5*2 + 4*2 + 9*2 = 36.
    expect(
      paddingStats(lengths, [
        [0, 1],
        [2, 3],
        [4, 5],
      ]).paddedTokens,
    ).toBe(36);
  });

  it('maxPadding closes a batch before it pads too much (hand-worked)', () => {
    // Sorted 1,1,1 (padded 3 = real 3); adding 2 pads 4 x 2 = 8 > 1.5 x 5: close. Then 2,2; adding 10
    // pads 30 > 1.5 x 14: close.
    const lengths = [1, 1, 1, 2, 2, 10];
    const batches = bucketByLength(lengths, { batchSize: 8, maxPadding: 1.5 });
    expect(batches).toEqual([[0, 1, 2], [3, 4], [5]]);
    expect(paddingStats(lengths, batches).ratio).toBe(1);
  });

  it('maxTokens caps rows x longest row', () => {
    const batches = bucketByLength([10, 10, 10, 2, 2, 2], { batchSize: 8, maxTokens: 20 });
    expect(batches).toEqual([[3, 4, 5], [0, 1], [2]]);
  });

  it('halves on failure, retries the same rows, and remembers the size per model', async () => {
    resetLearnedBatchSizes();
    const sizer = new BatchSizer('model-x', 'auto', 8);
    const seen: number[] = [];
    const out = await sizer.runAll([...Array(11).keys()], async (chunk) => {
      if (chunk.length > 3) throw new RuntimeFailure('out of memory');
      seen.push(chunk.length);
      return chunk.map((x) => x * 10);
    });
    expect(out).toEqual([...Array(11).keys()].map((x) => x * 10));
    expect(seen).toEqual([2, 2, 2, 2, 2, 1]);
    expect(sizer.size).toBe(2);
    expect(learnedBatchSize('model-x')).toBe(2);
    expect(new BatchSizer('model-x', 'auto', 8).size).toBe(2);
    expect(new BatchSizer('model-y', 'auto', 8).size).toBe(8);
  });

  it('a fixed batch size never hides a failure', async () => {
    const sizer = new BatchSizer('model-z', 4);
    await expect(
      sizer.runAll([1, 2, 3, 4, 5], async () => {
        throw new RuntimeFailure('boom');
      }),
    ).rejects.toThrow(/boom/);
  });
});
