import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxCausalLmFactory } from '../adapters/onnx-causal-lm/index.ts';
import { InputError } from '../harness/errors.ts';
import { releaseSessions } from '../harness/inference/onnx.ts';
import type { AdapterEnv, CellContext, Example, PromptTemplate, Protocol } from '../harness/types.ts';
import {
  type DecoderWeights,
  type PrefixWeights,
  randomPrefix,
  referenceLabelScore,
  writeDecoderFolder,
  writePrefixCheckpoint,
} from './support/tiny-models.ts';

const root = mkdtempSync(join(tmpdir(), 'onnx-causal-lm-'));
const log = { info: () => {}, warn: () => {} };
const env: AdapterEnv = { baseDir: root, log, device: 'cpu', cacheDir: join(root, 'cache') };

/** Label names of one, two and three tokens, so multi-token continuations are exercised. */
const protocol: Protocol = {
  id: 'tiny-4',
  dataset: 'tiny',
  description: 'test protocol',
  labels: ['joy', 'anger', 'sadness', 'neutral'],
  labelNames: { joy: 'happy', anger: 'angry', sadness: 'so sad', neutral: 'it is fine' },
  splits: { test: ['test'] },
  mapLabel: (u) => ({ label: u.label ?? '' }),
  headline: 'accuracy',
  metrics: ['accuracy'],
  hasContext: false,
};

const template: PromptTemplate = {
  id: 'tiny-template',
  description: 'sentence then a cue',
  hash: 'tiny-template-v1',
  render: ({ example }) => ({
    messages: [{ role: 'user', content: `classify the sentiment of the sentence : ${example.text}` }],
    text: `classify the sentiment of the sentence : ${example.text} . emotion :`,
  }),
};

const texts = [
  'i am so happy today',
  'you make me angry',
  'sad',
  'it is fine , ok ?',
  'what a very glad day you make',
  'i am angry ! you are so sad',
  'ok',
];
const examples: Example[] = texts.map((text, i) => ({ id: `e${i}`, text, context: [], label: 'joy' }));

function ctxFor(labels = protocol.labels): CellContext {
  return {
    task: { id: 'tiny-4', protocol, split: 'test', examples, dropped: {}, files: [], dataDir: root },
    protocol,
    labels,
    seed: 1,
    workDir: root,
    log,
    loadSplit: async () => examples,
  };
}

let w: DecoderWeights;
let prefix: PrefixWeights;
const modelDir = join(root, 'model');
const prefixDir = join(root, 'prefix');

/** Ids by plain vocabulary look-up (whole-word vocabulary), independent of the tokenizer library. */
function ids(text: string): number[] {
  return text
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => w.vocab.tokens[word] ?? w.vocab.tokens['<unk>']!);
}
const BOS = () => w.vocab.tokens['<s>']!;

beforeAll(() => {
  w = writeDecoderFolder(modelDir, {
    loraConfig: { peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] },
  });
  prefix = randomPrefix(w, 3);
  writePrefixCheckpoint(prefixDir, prefix, { layers: w.layers, heads: w.heads, tokenDim: w.dim });
});

afterAll(async () => {
  await releaseSessions();
  rmSync(root, { recursive: true, force: true });
});

async function adapterWith(raw: Record<string, unknown>) {
  const config = onnxCausalLmFactory.parseConfig({ model: 'model', ...raw });
  return onnxCausalLmFactory.create({ ...config, id: 'lm', template }, env);
}

describe('k-shot', () => {
  it('draws the shots from train with the run seed, puts them in the prompt, and scores like the reference', async () => {
    // A template that writes each demonstration as "<text> . emotion : <label name>" before the example.
    const shotTemplate: PromptTemplate = {
      id: 'tiny-shots',
      description: 'demonstrations then the sentence',
      hash: 'tiny-shots-v1',
      render: ({ example, shots, protocol: p }) => {
        const demos = shots.map((d) => `${d.text} . emotion : ${p.labelNames![d.label]} .`).join(' ');
        const text = `${demos} ${example.text} . emotion :`.trim();
        return { messages: [{ role: 'user', content: text }], text };
      },
    };
    const train: Example[] = [
      { id: 't0', text: 'so glad', context: [], label: 'joy' },
      { id: 't1', text: 'you are angry', context: [], label: 'anger' },
      { id: 't2', text: 'i am sad', context: [], label: 'sadness' },
      { id: 't3', text: 'ok fine', context: [], label: 'neutral' },
      { id: 't4', text: 'happy day', context: [], label: 'joy' },
    ];
    const config = onnxCausalLmFactory.parseConfig({ model: 'model', shots: 2 });
    const run = async (seed: number) => {
      const adapter = await onnxCausalLmFactory.create(
        { ...config, id: 'lm-shots', template: shotTemplate },
        env,
      );
      const ctx = { ...ctxFor(), seed, loadSplit: async () => train };
      const facts = (await adapter.prepare!(ctx)) as { shots: string[] };
      return { facts, preds: await adapter.predict(examples.slice(0, 3), ctx) };
    };
    const a = await run(1);
    expect(a.facts.shots).toHaveLength(2);
    expect(new Set(a.facts.shots).size).toBe(2);
    for (const id of a.facts.shots) expect(train.map((t) => t.id)).toContain(id);
    // The same seed draws the same shots; some other seed draws others.
    expect((await run(1)).facts.shots).toEqual(a.facts.shots);
    const others = await Promise.all([2, 3, 4, 5].map(async (seed) => (await run(seed)).facts.shots.join()));
    expect(others.some((o) => o !== a.facts.shots.join())).toBe(true);
    const shots = a.facts.shots.map((id) => train.find((t) => t.id === id)!);
    for (const [i, pred] of a.preds.entries()) {
      const demos = shots.map((d) => `${d.text} . emotion : ${protocol.labelNames![d.label]} .`).join(' ');
      const prompt = [BOS(), ...ids(`${demos} ${texts[i]} . emotion :`)];
      for (const label of protocol.labels) {
        const want = referenceLabelScore(w, prompt, ids(protocol.labelNames![label]!));
        expect(Math.abs(pred.scores![label]! - want)).toBeLessThan(1e-5);
      }
    }
  });

  it('more shots than train examples is bad input', async () => {
    const config = onnxCausalLmFactory.parseConfig({ model: 'model', shots: 9 });
    const adapter = await onnxCausalLmFactory.create({ ...config, id: 'lm-shots', template }, env);
    const err = await Promise.resolve()
      .then(() => adapter.prepare!(ctxFor()))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(
      /shots: 9 demonstrations asked for, but train has only 7 examples/,
    );
  });
});

describe('grouped-query attention (fewer key/value heads than query heads, as Llama 3 and Mistral)', () => {
  // PEFT saves a prefix for such a model with num_attention_heads = key/value heads and token_dim =
  // kvHeads * head_dim; the cache holds kvHeads heads, and query head h reads kv head h / group.
  const gqaDir = join(root, 'model-gqa');
  const gqaPrefixDir = join(root, 'prefix-gqa');
  let g: DecoderWeights;
  let gp: PrefixWeights;
  beforeAll(() => {
    g = writeDecoderFolder(gqaDir, { heads: 4, kvHeads: 2, headDim: 3, seed: 23 });
    gp = randomPrefix(g, 2, 9);
    writePrefixCheckpoint(gqaPrefixDir, gp, {
      layers: g.layers,
      heads: g.kvHeads,
      tokenDim: g.kvHeads * g.headDim,
    });
  });
  for (const kvReuse of [true, false]) {
    for (const withPrefix of [false, true]) {
      for (const batchSize of [1, 7]) {
        it(`kvReuse=${kvReuse} prefix=${withPrefix} batch=${batchSize}`, async () => {
          const config = onnxCausalLmFactory.parseConfig({
            model: 'model-gqa',
            kvReuse,
            batchSize,
            maxPadding: 1000,
            ...(withPrefix ? { prefix: 'prefix-gqa' } : {}),
          });
          const adapter = await onnxCausalLmFactory.create({ ...config, id: 'gqa', template }, env);
          const ctx = ctxFor();
          await adapter.prepare?.(ctx);
          const preds = await adapter.predict(examples, ctx);
          const gids = (text: string) =>
            text
              .split(/\s+/)
              .filter(Boolean)
              .map((word) => g.vocab.tokens[word] ?? g.vocab.tokens['<unk>']!);
          for (const [i, pred] of preds.entries()) {
            const prompt = [
              g.vocab.tokens['<s>']!,
              ...gids(`classify the sentiment of the sentence : ${texts[i]} . emotion :`),
            ];
            for (const label of protocol.labels) {
              const want = referenceLabelScore(
                g,
                prompt,
                gids(protocol.labelNames![label]!),
                withPrefix ? gp : undefined,
              );
              expect(Math.abs(pred.scores![label]! - want)).toBeLessThan(1e-5);
            }
          }
        });
      }
    }
  }

  it("a prefix saved with every query head (not PEFT's key/value-head form) is a clear error", async () => {
    const wrong = join(root, 'prefix-gqa-wrong');
    writePrefixCheckpoint(wrong, randomPrefix({ ...g, kvHeads: g.heads }, 2), {
      layers: g.layers,
      heads: g.heads,
      tokenDim: g.dim,
    });
    const config = onnxCausalLmFactory.parseConfig({ model: 'model-gqa', prefix: 'prefix-gqa-wrong' });
    const err = await Promise.resolve()
      .then(() => onnxCausalLmFactory.create({ ...config, id: 'gqa', template }, env))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/prefix-gqa-wrong/);
    expect((err as InputError).message).toMatch(/head/);
  });
});

describe('onnx-causal-lm label scores match a TypeScript reference forward pass', () => {
  for (const kvReuse of [true, false]) {
    for (const withPrefix of [false, true]) {
      for (const batchSize of [1, 7]) {
        for (const padding of ['left', 'right'] as const) {
          it(`kvReuse=${kvReuse} prefix=${withPrefix} batch=${batchSize} padding=${padding}`, async () => {
            const adapter = await adapterWith({
              kvReuse,
              batchSize,
              padding,
              // No padding cap: one batch of 7 prompts of different lengths exercises the padding.
              maxPadding: 1000,
              ...(withPrefix ? { prefix: 'prefix' } : {}),
            });
            const ctx = ctxFor();
            await adapter.prepare?.(ctx);
            const preds = await adapter.predict(examples, ctx);
            expect(preds.map((p) => p.id)).toEqual(examples.map((e) => e.id));
            for (const [i, pred] of preds.entries()) {
              const prompt = [
                BOS(),
                ...ids(`classify the sentiment of the sentence : ${texts[i]} . emotion :`),
              ];
              const expected: Record<string, number> = {};
              for (const label of protocol.labels) {
                expected[label] = referenceLabelScore(
                  w,
                  prompt,
                  ids(protocol.labelNames![label]!),
                  withPrefix ? prefix : undefined,
                );
                expect(Math.abs(pred.scores![label]! - expected[label]!)).toBeLessThan(1e-5);
              }
              const best = protocol.labels.reduce((a, b) => (expected[b]! > expected[a]! ? b : a));
              expect(pred.label).toBe(best);
              expect(pred.parse).toBe('ok');
            }
          });
        }
      }
    }
  }

  it('an fp16 export (float16 past, presents and logits) scores within fp16 rounding of the reference', async () => {
    writeDecoderFolder(join(root, 'model-fp16'), { float16: true });
    for (const kvReuse of [true, false]) {
      const adapter = await adapterWith({
        model: 'model-fp16',
        prefix: 'prefix',
        kvReuse,
        batchSize: 7,
        maxPadding: 1000,
      });
      expect(adapter.facts!().kv_dtype).toBe('float16');
      const preds = await adapter.predict(examples, ctxFor());
      for (const [i, pred] of preds.entries()) {
        const prompt = [BOS(), ...ids(`classify the sentiment of the sentence : ${texts[i]} . emotion :`)];
        for (const label of protocol.labels) {
          const ref = referenceLabelScore(w, prompt, ids(protocol.labelNames![label]!), prefix);
          // Logits and cached keys/values pass through float16 (observed error below 1e-3).
          expect(Math.abs(pred.scores![label]! - ref)).toBeLessThan(0.01);
        }
      }
    }
  });

  it('a bfloat16 prefix checkpoint (as trained in bf16) is widened and scores like the reference', async () => {
    // Values representable in bf16 (top 16 bits of a float32), so writing them loses nothing.
    const bits = new DataView(new ArrayBuffer(4));
    const bf16 = (x: number) => {
      bits.setFloat32(0, x);
      bits.setUint32(0, bits.getUint32(0) & 0xffff0000);
      return bits.getFloat32(0);
    };
    const p16: PrefixWeights = {
      virtualTokens: 2,
      promptEmbeddings: randomPrefix(w, 2, 9).promptEmbeddings.map(bf16),
    };
    writePrefixCheckpoint(
      join(root, 'prefix-bf16'),
      p16,
      { layers: w.layers, heads: w.heads, tokenDim: w.dim },
      { dtype: 'BF16' },
    );
    const adapter = await adapterWith({ prefix: 'prefix-bf16', batchSize: 7 });
    const preds = await adapter.predict(examples, ctxFor());
    for (const [i, pred] of preds.entries()) {
      const prompt = [BOS(), ...ids(`classify the sentiment of the sentence : ${texts[i]} . emotion :`)];
      for (const label of protocol.labels) {
        const ref = referenceLabelScore(w, prompt, ids(protocol.labelNames![label]!), p16);
        expect(Math.abs(pred.scores![label]! - ref)).toBeLessThan(1e-5);
      }
    }
    expect((adapter.facts!().prefix as { dtype: string }).dtype).toBe('BF16');
  });

  it('the prefix changes the scores (it is really fed)', async () => {
    const plain = await adapterWith({ batchSize: 7 });
    const tuned = await adapterWith({ batchSize: 7, prefix: 'prefix' });
    const ctx = ctxFor();
    const a = await plain.predict(examples, ctx);
    const b = await tuned.predict(examples, ctx);
    expect(Math.abs(a[0]!.scores!.joy! - b[0]!.scores!.joy!)).toBeGreaterThan(1e-3);
  });

  it('chat: true renders tokenizer_config chat_template and scores after it', async () => {
    const adapter = await adapterWith({ chat: true, batchSize: 7 });
    const ctx = ctxFor();
    await adapter.prepare?.(ctx);
    const preds = await adapter.predict(examples, ctx);
    for (const [i, pred] of preds.entries()) {
      // "{{ bos_token }}[ user ] : <content> [ assistant ] :" with no extra BOS from the tokenizer.
      const prompt = [
        BOS(),
        ...ids(`[ user ] : classify the sentiment of the sentence : ${texts[i]} [ assistant ] :`),
      ];
      for (const label of protocol.labels) {
        const ref = referenceLabelScore(w, prompt, ids(protocol.labelNames![label]!));
        expect(Math.abs(pred.scores![label]! - ref)).toBeLessThan(1e-5);
      }
    }
  });

  it('scoring: mean divides by the number of label tokens', async () => {
    const sum = await adapterWith({ batchSize: 7 });
    const mean = await adapterWith({ batchSize: 7, scoring: 'mean' });
    const ctx = ctxFor();
    const [s] = await sum.predict(examples.slice(0, 1), ctx);
    const [m] = await mean.predict(examples.slice(0, 1), ctx);
    expect(m!.scores!.neutral).toBeCloseTo(s!.scores!.neutral! / 3, 10);
    expect(m!.scores!.sadness).toBeCloseTo(s!.scores!.sadness! / 2, 10);
  });

  it('records merged-LoRA and prefix facts, device and batch size', async () => {
    const adapter = await adapterWith({ prefix: 'prefix' });
    const ctx = ctxFor();
    await adapter.predict(examples, ctx);
    const facts = adapter.facts!();
    expect(facts.lora).toEqual({
      peft_type: 'LORA',
      r: 8,
      lora_alpha: 16,
      target_modules: ['q_proj', 'v_proj'],
    });
    expect(facts.prefix).toMatchObject({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 3, num_layers: 2 });
    expect(facts.device).toBe('cpu');
    expect(facts.batch_size).toBe(16);
    expect(facts.layers).toBe(2);
    expect(facts.kv_heads).toBe(2);
    expect(facts.head_dim).toBe(4);
  });

  it('fingerprint changes with the prefix and the template, not with batch size', async () => {
    const a = await adapterWith({ batchSize: 1 });
    const b = await adapterWith({ batchSize: 7 });
    const c = await adapterWith({ prefix: 'prefix' });
    expect(a.fingerprint()).toBe(b.fingerprint());
    expect(a.fingerprint()).not.toBe(c.fingerprint());
    expect(a.fingerprint()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a prompt longer than the model allows is an error prediction, not a crash', async () => {
    const adapter = await adapterWith({ maxLength: 12 });
    const ctx = ctxFor();
    const preds = await adapter.predict(examples.slice(0, 2), ctx);
    expect(preds[0]!.parse).toBe('error');
    expect(preds[0]!.label).toBeNull();
    expect(preds[0]!.error).toMatch(/more than the model's 12/);
  });
});

describe('onnx-causal-lm bad input is a clear InputError (exit code 2)', () => {
  async function expectInputError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(pattern);
  }

  it('prefix with the wrong number of layers', async () => {
    const dir = join(root, 'prefix-layers');
    writePrefixCheckpoint(dir, randomPrefix({ ...w, layers: 3 }, 3), {
      layers: 3,
      heads: w.heads,
      tokenDim: w.dim,
    });
    await expectInputError(
      adapterWith({ prefix: 'prefix-layers' }),
      /adapter_config\.json: num_layers is 3 but the model has 2 layers/,
    );
  });

  it('prefix with the wrong number of heads', async () => {
    const dir = join(root, 'prefix-heads');
    writePrefixCheckpoint(dir, prefix, { layers: w.layers, heads: 4, tokenDim: w.dim });
    await expectInputError(
      adapterWith({ prefix: 'prefix-heads' }),
      /num_attention_heads is 4 but the model has 2 key\/value heads/,
    );
  });

  it('prefix with the wrong token_dim', async () => {
    const dir = join(root, 'prefix-dim');
    writePrefixCheckpoint(dir, prefix, { layers: w.layers, heads: w.heads, tokenDim: 12 });
    await expectInputError(
      adapterWith({ prefix: 'prefix-dim' }),
      /token_dim is 12 but the model's key\/value width is 8/,
    );
  });

  it('prefix tensor whose shape disagrees with adapter_config.json', async () => {
    const dir = join(root, 'prefix-shape');
    writePrefixCheckpoint(
      dir,
      prefix,
      { layers: w.layers, heads: w.heads, tokenDim: w.dim },
      { shape: [6, 16] },
    );
    await expectInputError(
      adapterWith({ prefix: 'prefix-shape' }),
      /adapter_model\.safetensors: tensor 'prompt_embeddings' has shape \[6, 16\], expected \[3, 32\]/,
    );
  });

  it('a LoRA adapter_config given as a prefix', async () => {
    const dir = join(root, 'prefix-lora');
    writePrefixCheckpoint(dir, prefix, { layers: w.layers, heads: w.heads, tokenDim: w.dim });
    const cfgPath = join(dir, 'adapter_config.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), peft_type: 'LORA' }),
    );
    await expectInputError(
      adapterWith({ prefix: 'prefix-lora' }),
      /peft_type is 'LORA': a LoRA adapter must be merged/,
    );
  });

  it('a tokenizer whose vocabulary exceeds the model embedding', async () => {
    const dir = join(root, 'model-bad-tokenizer');
    writeDecoderFolder(dir);
    const path = join(dir, 'tokenizer.json');
    const tok = JSON.parse(readFileSync(path, 'utf8'));
    tok.model.vocab.extraword = w.vocab.size + 4;
    writeFileSync(path, JSON.stringify(tok));
    await expectInputError(
      adapterWith({ model: 'model-bad-tokenizer' }),
      new RegExp(
        `tokenizer\\.json: tokenizer\\.json produces token ids up to ${w.vocab.size + 4} but the model's embedding has ${w.vocab.size} rows`,
      ),
    );
  });

  it('config.json that disagrees with the graph', async () => {
    const dir = join(root, 'model-bad-config');
    writeDecoderFolder(dir, { configVocabSize: 10 });
    await expectInputError(
      adapterWith({ model: 'model-bad-config' }),
      /config\.json gives vocabulary size 10 but the ONNX model has/,
    );
  });

  it('chat: true without a chat_template', async () => {
    const dir = join(root, 'model-no-chat');
    writeDecoderFolder(dir);
    const path = join(dir, 'tokenizer_config.json');
    const cfg = JSON.parse(readFileSync(path, 'utf8'));
    delete cfg.chat_template;
    writeFileSync(path, JSON.stringify(cfg));
    await expectInputError(adapterWith({ model: 'model-no-chat', chat: true }), /has no chat_template/);
  });

  it('config errors name the key path', () => {
    expect(() => onnxCausalLmFactory.parseConfig({ model: 'm', padding: 'middle' })).toThrow(/padding/);
    expect(() => onnxCausalLmFactory.parseConfig({ model: 'm', batchSize: 0 })).toThrow(/batchSize/);
    expect(() => onnxCausalLmFactory.parseConfig({ modle: 'm' })).toThrow(/model/);
  });
});
