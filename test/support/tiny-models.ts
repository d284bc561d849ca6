/**
 * Tiny real models for the ONNX adapter tests: folders laid out as `optimum-cli export onnx` writes
 * them (model.onnx, tokenizer.json, tokenizer_config.json, config.json), with seeded known weights,
 * and plain TypeScript forward passes of the same weights that the tests compare the adapters with.
 * The references share nothing with the adapters: no batching, no padding, no KV cache.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { OnnxGraphBuilder } from '../../harness/inference/onnx-graph.ts';
import { Rng } from '../../harness/random.ts';
import { encodeSafetensors, type SafetensorsDtype } from '../../harness/safetensors.ts';

/** Words of the test vocabulary (lower case; BertNormalizer lowercases the input). */
export const WORDS = [
  'classify',
  'the',
  'sentiment',
  'of',
  'sentence',
  'to',
  'joy',
  'anger',
  'sadness',
  'neutral',
  'or',
  ',',
  ':',
  'i',
  'am',
  'so',
  'happy',
  'today',
  'you',
  'make',
  'me',
  'angry',
  'sad',
  'it',
  'is',
  'fine',
  'very',
  '[',
  ']',
  'user',
  'assistant',
  'a',
  'b',
  'emotion',
  'what',
  'a',
  '##ness',
  'glad',
  'ok',
  '.',
  '!',
  '?',
];

export interface Vocab {
  tokens: Record<string, number>;
  size: number;
}

function buildVocab(specials: readonly string[]): Vocab {
  const tokens: Record<string, number> = {};
  for (const t of [...specials, ...WORDS]) if (!(t in tokens)) tokens[t] = Object.keys(tokens).length;
  return { tokens, size: Object.keys(tokens).length };
}

const addedToken = (id: number, content: string) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

/** A BERT-like WordPiece tokenizer.json over `vocab` (whole words, lower-cased). */
function tokenizerJson(vocab: Vocab, specials: readonly string[], postProcessor: unknown): unknown {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((s) => addedToken(vocab.tokens[s]!, s)),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: postProcessor,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: specials[1],
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: vocab.tokens,
    },
  };
}

function uniform(rng: Rng, n: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * scale;
  return out;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------------
// Sequence classifier: embeddings (+ token types), masked mean pooling, tanh layer, linear head.

export const CLASSIFIER_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const;

export interface ClassifierWeights {
  vocab: Vocab;
  dim: number;
  hidden: number;
  labels: string[];
  embeddings: Float32Array; // [vocab, dim]
  typeEmbeddings: Float32Array; // [2, dim]
  w1: Float32Array; // [dim, hidden]
  b1: Float32Array;
  w2: Float32Array; // [hidden, labels]
  b2: Float32Array;
  /** Per-token tanh layers before pooling ([dim, dim] each): none in the tests, some in the bench. */
  tokenLayers: Float32Array[];
}

export interface ClassifierFolderOptions {
  seed?: number;
  labels?: string[];
  /** Write config.json without id2label (an error case). */
  omitId2label?: boolean;
  /** Whether the graph takes token_type_ids (BERT does, RoBERTa does not). */
  tokenTypes?: boolean;
  /** vocab_size written in config.json (defaults to the tokenizer's; smaller is an error case). */
  configVocabSize?: number;
  /** Rows of the graph's embedding table, when not the tokenizer's vocabulary (an error case). */
  embeddingRows?: number;
  /** Write config.json without vocab_size (so only the graph can tell a mismatch). */
  omitVocabSize?: boolean;
  /** Extra file: adapter_config.json of a merged LoRA. */
  loraConfig?: Record<string, unknown>;
  /** Sizes (the bench uses a bigger graph so inference, not tokenization, dominates). */
  dim?: number;
  hidden?: number;
  tokenLayers?: number;
}

export function writeClassifierFolder(dir: string, options: ClassifierFolderOptions = {}): ClassifierWeights {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(options.seed ?? 7);
  const labels = options.labels ?? ['joy', 'anger', 'sadness', 'neutral'];
  const vocab = buildVocab(CLASSIFIER_SPECIALS);
  const dim = options.dim ?? 6;
  const hidden = options.hidden ?? 5;
  const w: ClassifierWeights = {
    vocab,
    dim,
    hidden,
    labels,
    embeddings: uniform(rng, (options.embeddingRows ?? vocab.size) * dim, 1),
    typeEmbeddings: uniform(rng, 2 * dim, 0.5),
    w1: uniform(rng, dim * hidden, 1),
    b1: uniform(rng, hidden, 0.2),
    w2: uniform(rng, hidden * labels.length, 1.5),
    b2: uniform(rng, labels.length, 0.2),
    tokenLayers: Array.from({ length: options.tokenLayers ?? 0 }, () =>
      uniform(rng, dim * dim, 1 / Math.sqrt(dim)),
    ),
  };
  const tokenTypes = options.tokenTypes ?? true;
  const g = new OnnxGraphBuilder({ name: 'tiny-classifier', opset: 14, irVersion: 8 });
  g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  g.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);
  if (tokenTypes) g.input('token_type_ids', 'int64', ['batch_size', 'sequence_length']);
  g.initializer('E', w.embeddings, [options.embeddingRows ?? vocab.size, dim]);
  let emb = g.op('Gather', ['E', 'input_ids']);
  if (tokenTypes) {
    g.initializer('T', w.typeEmbeddings, [2, dim]);
    emb = g.op('Add', [emb, g.op('Gather', ['T', 'token_type_ids'])]);
  }
  w.tokenLayers.forEach((m, i) => {
    g.initializer(`L${i}`, m, [dim, dim]);
    emb = g.op('Tanh', [g.op('MatMul', [emb, `L${i}`])]);
  });
  g.initializer('axis1', BigInt64Array.of(1n), [1]);
  g.initializer('axis2', BigInt64Array.of(2n), [1]);
  const mask = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: 1 }), 'axis2']);
  const summed = g.op('ReduceSum', [g.op('Mul', [emb, mask]), 'axis1'], { keepdims: 0 });
  const count = g.op('ReduceSum', [mask, 'axis1'], { keepdims: 0 });
  const pooled = g.op('Div', [summed, count]);
  g.initializer('W1', w.w1, [dim, hidden]);
  g.initializer('B1', w.b1, [hidden]);
  g.initializer('W2', w.w2, [hidden, labels.length]);
  g.initializer('B2', w.b2, [labels.length]);
  const h = g.op('Tanh', [g.op('Add', [g.op('MatMul', [pooled, 'W1']), 'B1'])]);
  g.op('Add', [g.op('MatMul', [h, 'W2']), 'B2'], undefined, 'logits');
  g.output('logits', 'float32', ['batch_size', labels.length]);
  writeFileSync(join(dir, 'model.onnx'), g.toBytes());

  const post = {
    type: 'TemplateProcessing',
    single: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
    ],
    pair: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
      { SpecialToken: { id: '[SEP]', type_id: 1 } },
    ],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [vocab.tokens['[CLS]']], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [vocab.tokens['[SEP]']], tokens: ['[SEP]'] },
    },
  };
  writeJson(join(dir, 'tokenizer.json'), tokenizerJson(vocab, CLASSIFIER_SPECIALS, post));
  writeJson(join(dir, 'tokenizer_config.json'), {
    model_max_length: 512,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    do_lower_case: true,
    tokenizer_class: 'BertTokenizer',
  });
  const config: Record<string, unknown> = {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: options.configVocabSize ?? vocab.size,
    hidden_size: dim,
    type_vocab_size: 2,
  };
  if (options.omitVocabSize) delete config.vocab_size;
  if (!options.omitId2label) {
    config.id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
    config.label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  }
  writeJson(join(dir, 'config.json'), config);
  if (options.loraConfig) writeJson(join(dir, 'adapter_config.json'), options.loraConfig);
  return w;
}

/** Plain forward pass: logits for one unpadded sequence. */
export function classifierReference(
  w: ClassifierWeights,
  ids: readonly number[],
  typeIds?: readonly number[],
): number[] {
  const pooled = new Array<number>(w.dim).fill(0);
  ids.forEach((id, t) => {
    let x = Float64Array.from(
      { length: w.dim },
      (_, k) => w.embeddings[id * w.dim + k]! + (typeIds ? w.typeEmbeddings[typeIds[t]! * w.dim + k]! : 0),
    );
    for (const m of w.tokenLayers) x = matVec(x, m, w.dim, w.dim).map(Math.tanh);
    for (let k = 0; k < w.dim; k++) pooled[k]! += x[k]!;
  });
  for (let k = 0; k < w.dim; k++) pooled[k]! /= ids.length;
  const h: number[] = [];
  for (let j = 0; j < w.hidden; j++) {
    let s = w.b1[j]!;
    for (let k = 0; k < w.dim; k++) s += pooled[k]! * w.w1[k * w.hidden + j]!;
    h.push(Math.tanh(s));
  }
  return w.labels.map((_, c) => {
    let s = w.b2[c]!;
    for (let j = 0; j < w.hidden; j++) s += h[j]! * w.w2[j * w.labels.length + c]!;
    return s;
  });
}

export function softmax(xs: readonly number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

// ---------------------------------------------------------------------------------------------------
// Causal decoder in the Optimum `text-generation-with-past` layout.

export const DECODER_SPECIALS = ['<pad>', '<unk>', '<s>', '</s>'] as const;

export interface DecoderWeights {
  vocab: Vocab;
  dim: number;
  heads: number;
  /** Key/value heads: fewer than `heads` is grouped-query attention (Llama 2 70B, Llama 3, Mistral). */
  kvHeads: number;
  headDim: number;
  layers: number;
  ffn: number;
  maxPositions: number;
  embeddings: Float32Array; // [vocab, dim]
  positions: Float32Array; // [maxPositions, dim]
  perLayer: {
    wq: Float32Array;
    wk: Float32Array; // [dim, kvHeads * headDim]
    wv: Float32Array; // [dim, kvHeads * headDim]
    wo: Float32Array;
    w1: Float32Array;
    w2: Float32Array;
  }[];
  lmHead: Float32Array; // [dim, vocab]
}

export interface DecoderFolderOptions {
  seed?: number;
  layers?: number;
  heads?: number;
  /** Key/value heads (default `heads`); a divisor of `heads` gives grouped-query attention. */
  kvHeads?: number;
  headDim?: number;
  /** vocab_size written in config.json (defaults to the tokenizer's). */
  configVocabSize?: number;
  chatTemplate?: string;
  /** adapter_config.json of a merged LoRA beside the model. */
  loraConfig?: Record<string, unknown>;
  maxPositions?: number;
  ffn?: number;
  /** fp16 interface, as an fp16 export has: past inputs, presents and logits in float16 (math in fp32). */
  float16?: boolean;
}

export const TEST_CHAT_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}[ {{ m['role'] }} ] : {{ m['content'] }} {% endfor %}{% if add_generation_prompt %}[ assistant ] :{% endif %}";

export function writeDecoderFolder(dir: string, options: DecoderFolderOptions = {}): DecoderWeights {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(options.seed ?? 11);
  const vocab = buildVocab(DECODER_SPECIALS);
  const layers = options.layers ?? 2;
  const heads = options.heads ?? 2;
  const kvHeads = options.kvHeads ?? heads;
  if (heads % kvHeads !== 0) throw new Error(`kvHeads ${kvHeads} must divide heads ${heads}`);
  const headDim = options.headDim ?? 4;
  const dim = heads * headDim;
  const kvDim = kvHeads * headDim;
  const ffn = options.ffn ?? 12;
  const maxPositions = options.maxPositions ?? 128;
  const fanIn = Math.sqrt(8 / dim);
  const w: DecoderWeights = {
    vocab,
    dim,
    heads,
    kvHeads,
    headDim,
    layers,
    ffn,
    maxPositions,
    embeddings: uniform(rng, vocab.size * dim, 1),
    positions: uniform(rng, maxPositions * dim, 0.3),
    // Scales shrink with width so bigger bench graphs keep log-probabilities in a sane range (1 at test size).
    perLayer: Array.from({ length: layers }, () => ({
      wq: uniform(rng, dim * dim, 0.8 * fanIn),
      wk: uniform(rng, dim * kvDim, 0.8 * fanIn),
      wv: uniform(rng, dim * kvDim, 0.8 * fanIn),
      wo: uniform(rng, dim * dim, 0.5 * fanIn),
      w1: uniform(rng, dim * ffn, 0.6 * fanIn),
      w2: uniform(rng, ffn * dim, 0.4 * Math.sqrt(12 / ffn)),
    })),
    lmHead: uniform(rng, dim * vocab.size, 1.2 * fanIn),
  };

  const g = new OnnxGraphBuilder({ name: 'tiny-decoder', opset: 14, irVersion: 8 });
  g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  g.input('attention_mask', 'int64', ['batch_size', 'past_sequence_length + sequence_length']);
  g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  for (let l = 0; l < layers; l++) {
    g.input(`past_key_values.${l}.key`, 'float32', ['batch_size', kvHeads, 'past_sequence_length', headDim]);
    g.input(`past_key_values.${l}.value`, 'float32', [
      'batch_size',
      kvHeads,
      'past_sequence_length',
      headDim,
    ]);
  }
  g.initializer('E', w.embeddings, [vocab.size, dim]);
  g.initializer('P', w.positions, [maxPositions, dim]);
  let x = g.op('Add', [g.op('Gather', ['E', 'input_ids']), g.op('Gather', ['P', 'position_ids'])]);
  // Mask: query i (absolute past + i) may see key j when j <= past + i and attention_mask[b, j] = 1.
  g.initializer('one_idx', BigInt64Array.of(1n), []);
  g.initializer('zero_i', BigInt64Array.of(0n), []);
  g.initializer('one_i', BigInt64Array.of(1n), []);
  g.initializer('ax0', BigInt64Array.of(0n), [1]);
  g.initializer('ax1', BigInt64Array.of(1n), [1]);
  g.initializer('ax12', BigInt64Array.of(1n, 2n), [2]);
  const S = g.op('Gather', [g.op('Shape', ['input_ids']), 'one_idx'], { axis: 0 });
  const T = g.op('Gather', [g.op('Shape', ['attention_mask']), 'one_idx'], { axis: 0 });
  const past = g.op('Sub', [T, S]);
  const iAbs = g.op('Unsqueeze', [g.op('Add', [g.op('Range', ['zero_i', S, 'one_i']), past]), 'ax1']);
  const jRow = g.op('Unsqueeze', [g.op('Range', ['zero_i', T, 'one_i']), 'ax0']);
  const causal = g.op('LessOrEqual', [jRow, iAbs]);
  const am = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: 9 }), 'ax12']);
  const allowed = g.op('And', [causal, am]);
  g.scalar('zero_f', 0);
  g.scalar('neg_f', -1e9);
  g.scalar('scale', 1 / Math.sqrt(headDim));
  const bias = g.op('Where', [allowed, 'zero_f', 'neg_f']);
  g.initializer('split_shape', BigInt64Array.of(0n, 0n, BigInt(heads), BigInt(headDim)), [4]);
  g.initializer('split_kv_shape', BigInt64Array.of(0n, 0n, BigInt(kvHeads), BigInt(headDim)), [4]);
  g.initializer('merge_shape', BigInt64Array.of(0n, 0n, BigInt(dim)), [3]);
  const heads4 = (v: string, shape = 'split_shape') =>
    g.op('Transpose', [g.op('Reshape', [v, shape])], { perm: [0, 2, 1, 3] });
  // Grouped-query attention as transformers' repeat_kv: query head h reads key/value head
  // floor(h / (heads / kvHeads)); [B, kvH, T, d] -> [B, kvH, group, T, d] -> [B, heads, T, d].
  const group = heads / kvHeads;
  g.initializer('ax2', BigInt64Array.of(2n), [1]);
  g.initializer('kv_repeats', BigInt64Array.of(1n, 1n, BigInt(group), 1n, 1n), [5]);
  g.initializer('kv_heads_shape', BigInt64Array.of(0n, BigInt(heads), -1n, BigInt(headDim)), [4]);
  const repeatKv = (t: string) =>
    group === 1
      ? t
      : g.op('Reshape', [g.op('Tile', [g.op('Unsqueeze', [t, 'ax2']), 'kv_repeats']), 'kv_heads_shape']);
  for (let l = 0; l < layers; l++) {
    const p = w.perLayer[l]!;
    for (const [n, data] of Object.entries({ wq: p.wq, wo: p.wo }))
      g.initializer(`${n}_${l}`, data, [dim, dim]);
    for (const [n, data] of Object.entries({ wk: p.wk, wv: p.wv }))
      g.initializer(`${n}_${l}`, data, [dim, kvDim]);
    g.initializer(`w1_${l}`, p.w1, [dim, ffn]);
    g.initializer(`w2_${l}`, p.w2, [ffn, dim]);
    const q = heads4(g.op('MatMul', [x, `wq_${l}`]));
    const k = heads4(g.op('MatMul', [x, `wk_${l}`]), 'split_kv_shape');
    const v = heads4(g.op('MatMul', [x, `wv_${l}`]), 'split_kv_shape');
    const kAll = g.op('Concat', [`past_key_values.${l}.key`, k], { axis: 2 }, `present.${l}.key`);
    const vAll = g.op('Concat', [`past_key_values.${l}.value`, v], { axis: 2 }, `present.${l}.value`);
    const scores = g.op('Add', [
      g.op('Mul', [
        g.op('MatMul', [q, g.op('Transpose', [repeatKv(kAll)], { perm: [0, 1, 3, 2] })]),
        'scale',
      ]),
      bias,
    ]);
    const probs = g.op('Softmax', [scores], { axis: -1 });
    const ctx = g.op('Reshape', [
      g.op('Transpose', [g.op('MatMul', [probs, repeatKv(vAll)])], { perm: [0, 2, 1, 3] }),
      'merge_shape',
    ]);
    x = g.op('Add', [x, g.op('MatMul', [ctx, `wo_${l}`])]);
    x = g.op('Add', [x, g.op('MatMul', [g.op('Tanh', [g.op('MatMul', [x, `w1_${l}`])]), `w2_${l}`])]);
  }
  g.initializer('LM', w.lmHead, [dim, vocab.size]);
  g.op('MatMul', [x, 'LM'], undefined, 'logits');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', vocab.size]);
  for (let l = 0; l < layers; l++) {
    g.output(`present.${l}.key`, 'float32', [
      'batch_size',
      kvHeads,
      'past_sequence_length + sequence_length',
      headDim,
    ]);
    g.output(`present.${l}.value`, 'float32', [
      'batch_size',
      kvHeads,
      'past_sequence_length + sequence_length',
      headDim,
    ]);
  }
  const bytes = g.toBytes();
  writeFileSync(join(dir, 'model.onnx'), options.float16 ? float16Interface(bytes, layers) : bytes);

  const post = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '<s>', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { '<s>': { id: '<s>', ids: [vocab.tokens['<s>']], tokens: ['<s>'] } },
  };
  writeJson(join(dir, 'tokenizer.json'), tokenizerJson(vocab, DECODER_SPECIALS, post));
  writeJson(join(dir, 'tokenizer_config.json'), {
    model_max_length: maxPositions,
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    chat_template: options.chatTemplate ?? TEST_CHAT_TEMPLATE,
  });
  writeJson(join(dir, 'config.json'), {
    architectures: ['TinyForCausalLM'],
    model_type: 'tiny',
    vocab_size: options.configVocabSize ?? vocab.size,
    hidden_size: dim,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    max_position_embeddings: maxPositions,
    bos_token_id: vocab.tokens['<s>'],
    eos_token_id: vocab.tokens['</s>'],
    pad_token_id: vocab.tokens['<pad>'],
  });
  if (options.loraConfig) writeJson(join(dir, 'adapter_config.json'), options.loraConfig);
  return w;
}

/**
 * Rewrites a decoder so its past inputs, presents and logits are float16 (Cast nodes at the
 * boundary), which is what the adapter sees from an fp16 export.
 */
function float16Interface(bytes: Uint8Array, layers: number): Uint8Array {
  const { onnx } = onnxProto;
  const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const nodes = graph.node!;
  const setType = (v: { type?: { tensorType?: { elemType?: number | null } | null } | null }) => {
    v.type!.tensorType!.elemType = FLOAT16;
  };
  const casts: InstanceType<typeof onnx.NodeProto>[] = [];
  for (let l = 0; l < layers; l++) {
    for (const kv of ['key', 'value']) {
      const name = `past_key_values.${l}.${kv}`;
      for (const n of nodes) n.input = n.input!.map((x) => (x === name ? `${name}_f32` : x));
      casts.push(
        onnx.NodeProto.create({
          name: `cast_${name}`,
          opType: 'Cast',
          input: [name],
          output: [`${name}_f32`],
          attribute: [
            onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: 1 }),
          ],
        }),
      );
    }
  }
  for (const v of graph.input!) if (v.name!.startsWith('past_key_values.')) setType(v);
  const tail: InstanceType<typeof onnx.NodeProto>[] = [];
  for (const v of graph.output!) {
    const name = v.name!;
    for (const n of nodes) n.output = n.output!.map((x) => (x === name ? `${name}_f32` : x));
    // Graph nodes that read the fp32 value (e.g. attention reading present.N.key) keep reading it.
    for (const n of nodes) n.input = n.input!.map((x) => (x === name ? `${name}_f32` : x));
    tail.push(
      onnx.NodeProto.create({
        name: `cast_${name}`,
        opType: 'Cast',
        input: [`${name}_f32`],
        output: [name],
        attribute: [
          onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT16 }),
        ],
      }),
    );
    setType(v);
  }
  graph.node = [...casts, ...nodes, ...tail];
  return onnx.ModelProto.encode(model).finish();
}

/** A learned prefix: per layer, key and value of shape [kvHeads, virtualTokens, headDim]. */
export interface PrefixWeights {
  virtualTokens: number;
  /** As PEFT saves it: [virtualTokens, layers * 2 * kvHeads * headDim]. */
  promptEmbeddings: Float32Array;
}

export function randomPrefix(w: DecoderWeights, virtualTokens: number, seed = 5): PrefixWeights {
  const rng = new Rng(seed);
  return {
    virtualTokens,
    promptEmbeddings: uniform(rng, virtualTokens * w.layers * 2 * w.kvHeads * w.headDim, 1),
  };
}

/** Writes a PEFT prefix-tuning checkpoint folder (adapter_config.json + adapter_model.safetensors). */
export function writePrefixCheckpoint(
  dir: string,
  prefix: PrefixWeights,
  config: { layers: number; heads: number; tokenDim: number },
  options: { dtype?: SafetensorsDtype; key?: string; shape?: number[] } = {},
): void {
  mkdirSync(dir, { recursive: true });
  writeJson(join(dir, 'adapter_config.json'), {
    peft_type: 'PREFIX_TUNING',
    task_type: 'CAUSAL_LM',
    num_virtual_tokens: prefix.virtualTokens,
    num_layers: config.layers,
    num_attention_heads: config.heads,
    token_dim: config.tokenDim,
    prefix_projection: false,
    inference_mode: true,
  });
  const shape = options.shape ?? [
    prefix.virtualTokens,
    prefix.promptEmbeddings.length / prefix.virtualTokens,
  ];
  writeFileSync(
    join(dir, 'adapter_model.safetensors'),
    encodeSafetensors({
      [options.key ?? 'prompt_embeddings']: {
        dtype: options.dtype ?? 'F32',
        shape,
        data: prefix.promptEmbeddings,
      },
    }),
  );
}

function matVec(x: Float64Array, m: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const xv = x[r]!;
    for (let c = 0; c < cols; c++) out[c]! += xv * m[r * cols + c]!;
  }
  return out;
}

/**
 * Log-probabilities of the next token after each position of `tokens` (one unpadded sequence,
 * computed from scratch), with an optional learned prefix in front: positions then start at the
 * number of virtual tokens and every position attends to the whole prefix, as PEFT does.
 */
export function decoderReference(
  w: DecoderWeights,
  tokens: readonly number[],
  prefix?: PrefixWeights,
): Float64Array[] {
  const V = prefix?.virtualTokens ?? 0;
  const n = tokens.length;
  let xs: Float64Array[] = tokens.map((id, t) => {
    const x = new Float64Array(w.dim);
    for (let k = 0; k < w.dim; k++) x[k] = w.embeddings[id * w.dim + k]! + w.positions[(V + t) * w.dim + k]!;
    return x;
  });
  const hd = w.headDim;
  const kvDim = w.kvHeads * hd;
  const group = w.heads / w.kvHeads;
  for (let l = 0; l < w.layers; l++) {
    const p = w.perLayer[l]!;
    const qs = xs.map((x) => matVec(x, p.wq, w.dim, w.dim));
    const ks = xs.map((x) => matVec(x, p.wk, w.dim, kvDim));
    const vs = xs.map((x) => matVec(x, p.wv, w.dim, kvDim));
    // Prefix keys/values of this layer: PEFT's view(V, layers*2, kvHeads, headDim), key = 2l, value = 2l + 1.
    const prefixRow = (v: number, kv: 0 | 1, g: number, d: number) =>
      prefix!.promptEmbeddings[v * w.layers * 2 * kvDim + ((2 * l + kv) * w.kvHeads + g) * hd + d]!;
    const next: Float64Array[] = [];
    for (let i = 0; i < n; i++) {
      const ctx = new Float64Array(w.dim);
      for (let h = 0; h < w.heads; h++) {
        // The key/value head this query head shares with the others of its group.
        const g = Math.floor(h / group);
        const scores: number[] = [];
        const values: number[][] = [];
        for (let v = 0; v < V; v++) {
          let s = 0;
          for (let d = 0; d < hd; d++) s += qs[i]![h * hd + d]! * prefixRow(v, 0, g, d);
          scores.push(s / Math.sqrt(hd));
          values.push(Array.from({ length: hd }, (_, d) => prefixRow(v, 1, g, d)));
        }
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let d = 0; d < hd; d++) s += qs[i]![h * hd + d]! * ks[j]![g * hd + d]!;
          scores.push(s / Math.sqrt(hd));
          values.push(Array.from({ length: hd }, (_, d) => vs[j]![g * hd + d]!));
        }
        const probs = softmax(scores);
        for (let d = 0; d < hd; d++)
          ctx[h * hd + d] = probs.reduce((acc, pr, idx) => acc + pr * values[idx]![d]!, 0);
      }
      const attn = matVec(ctx, p.wo, w.dim, w.dim);
      const x1 = xs[i]!.map((v, k) => v + attn[k]!);
      const hidden = matVec(x1, p.w1, w.dim, w.ffn).map(Math.tanh);
      const mlp = matVec(hidden, p.w2, w.ffn, w.dim);
      next.push(x1.map((v, k) => v + mlp[k]!));
    }
    xs = next;
  }
  return xs.map((x) => {
    const logits = Array.from(matVec(x, w.lmHead, w.dim, w.vocab.size));
    const m = Math.max(...logits);
    const z = Math.log(logits.reduce((a, b) => a + Math.exp(b - m), 0)) + m;
    return Float64Array.from(logits, (v) => v - z);
  });
}

/** Sum of log-probabilities of `label` token ids following `prompt` ids (reference scoring). */
export function referenceLabelScore(
  w: DecoderWeights,
  prompt: readonly number[],
  label: readonly number[],
  prefix?: PrefixWeights,
): number {
  const lp = decoderReference(w, [...prompt, ...label], prefix);
  let s = 0;
  label.forEach((tok, j) => {
    s += lp[prompt.length - 1 + j]![tok]!;
  });
  return s;
}
