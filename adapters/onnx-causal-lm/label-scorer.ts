/**
 * Label scoring with a causal decoder: the score of a label is the sum of the log-probabilities of
 * its tokens after the prompt. Two paths give the same numbers:
 *
 * - KV reuse: the batch of prompts runs once; its present key/values are copied to one row per
 *   (example, label), and only the label tokens run on top of them. The first label token's
 *   probability comes from the prompt's last position, so single-token labels need no second pass.
 * - Full rescoring: prompt + label per (example, label), from scratch (tests and the bench).
 *
 * Rows of different lengths are padded left or right; the attention mask hides padding and the
 * position ids count real tokens only, so padding never changes a score. A prefix-tuning prefix is
 * fed as past key values in front of everything, with its virtual tokens in the mask and positions
 * starting after them, as PEFT does.
 */
import { ort, runSession } from '../../harness/inference/onnx.ts';
import { floatTensor, toFloat32 } from '../onnx-classifier/tensor-data.ts';
import type { DecoderModel } from './decoder-model.ts';

export interface ScoreRequest {
  prompt: readonly number[];
  /** Token ids of each label's verbalisation (at least one token each). */
  labels: readonly (readonly number[])[];
}

export interface Prefix {
  virtualTokens: number;
  /** Per layer, [kvHeads, virtualTokens, headDim]. */
  keys: Float32Array[];
  values: Float32Array[];
}

export interface ScorerOptions {
  padId: number;
  padding: 'left' | 'right';
  prefix?: Prefix;
  kvReuse: boolean;
}

/** Per request, per label: [sum of log-probabilities, per-token log-probabilities]. */
export type LabelLogProbs = number[][][];

type Raw = Float32Array | Uint16Array;

interface Past {
  length: number;
  /** Per layer key and value, [rows, kvHeads, length, headDim] in the model's element type. */
  keys: Raw[];
  values: Raw[];
}

interface Row {
  tokens: readonly number[];
  /** Position id of the first token (after the prefix and any cached prompt). */
  firstPosition: number;
  /** Which of the past positions this row may attend to (1) or not (0). */
  pastMask: Uint8Array;
}

interface ForwardResult {
  logits: Float32Array;
  width: number;
  vocab: number;
  /** Padded index of each row's first real token. */
  offsets: number[];
  presents: { keys: Raw[]; values: Raw[] };
}

export async function scoreLabels(
  model: DecoderModel,
  requests: readonly ScoreRequest[],
  options: ScorerOptions,
): Promise<LabelLogProbs> {
  return options.kvReuse ? scoreWithReuse(model, requests, options) : scoreFull(model, requests, options);
}

async function scoreWithReuse(
  model: DecoderModel,
  requests: readonly ScoreRequest[],
  options: ScorerOptions,
): Promise<LabelLogProbs> {
  const V = options.prefix?.virtualTokens ?? 0;
  const prefixMask = new Uint8Array(V).fill(1);
  const first = await forward(
    model,
    requests.map((r) => ({ tokens: r.prompt, firstPosition: V, pastMask: prefixMask })),
    prefixPast(model, options.prefix, requests.length),
    options,
  );
  const out: LabelLogProbs = requests.map((r, b) => {
    const last = first.offsets[b]! + r.prompt.length - 1;
    const lse = logSumExp(first.logits, (b * first.width + last) * first.vocab, first.vocab);
    return r.labels.map((label) => [first.logits[(b * first.width + last) * first.vocab + label[0]!]! - lse]);
  });
  // Labels of two or more tokens continue from the cached prompt: one row per (example, label).
  const rows: { b: number; l: number }[] = [];
  requests.forEach((r, b) => {
    r.labels.forEach((label, l) => {
      if (label.length > 1) rows.push({ b, l });
    });
  });
  if (rows.length > 0) {
    const promptPast = V + first.width;
    const masks = requests.map((r, b) => {
      const m = new Uint8Array(promptPast);
      m.fill(1, 0, V);
      m.fill(1, V + first.offsets[b]!, V + first.offsets[b]! + r.prompt.length);
      return m;
    });
    const past = gatherPast(
      model,
      first.presents,
      promptPast,
      rows.map((r) => r.b),
    );
    const second = await forward(
      model,
      rows.map(({ b, l }) => ({
        tokens: requests[b]!.labels[l]!.slice(0, -1),
        firstPosition: V + requests[b]!.prompt.length,
        pastMask: masks[b]!,
      })),
      past,
      { ...options, padding: 'right' },
    );
    rows.forEach(({ b, l }, r) => {
      const label = requests[b]!.labels[l]!;
      for (let j = 1; j < label.length; j++) {
        const at = (r * second.width + second.offsets[r]! + j - 1) * second.vocab;
        out[b]![l]!.push(second.logits[at + label[j]!]! - logSumExp(second.logits, at, second.vocab));
      }
    });
  }
  return out.map((labels) => labels.map((tokens) => [tokens.reduce((a, x) => a + x, 0), ...tokens]));
}

async function scoreFull(
  model: DecoderModel,
  requests: readonly ScoreRequest[],
  options: ScorerOptions,
): Promise<LabelLogProbs> {
  const V = options.prefix?.virtualTokens ?? 0;
  const prefixMask = new Uint8Array(V).fill(1);
  const rows: { b: number; l: number }[] = [];
  requests.forEach((r, b) => {
    r.labels.forEach((_, l) => {
      rows.push({ b, l });
    });
  });
  const res = await forward(
    model,
    rows.map(({ b, l }) => ({
      tokens: [...requests[b]!.prompt, ...requests[b]!.labels[l]!.slice(0, -1)],
      firstPosition: V,
      pastMask: prefixMask,
    })),
    prefixPast(model, options.prefix, rows.length),
    options,
  );
  const out: LabelLogProbs = requests.map((r) => r.labels.map(() => [0]));
  rows.forEach(({ b, l }, r) => {
    const req = requests[b]!;
    const label = req.labels[l]!;
    const tokens: number[] = [];
    for (let j = 0; j < label.length; j++) {
      const at = (r * res.width + res.offsets[r]! + req.prompt.length - 1 + j) * res.vocab;
      tokens.push(res.logits[at + label[j]!]! - logSumExp(res.logits, at, res.vocab));
    }
    out[b]![l] = [tokens.reduce((a, x) => a + x, 0), ...tokens];
  });
  return out;
}

/** One padded run of the decoder over `rows` on top of `past`. */
async function forward(
  model: DecoderModel,
  rows: readonly Row[],
  past: Past,
  options: ScorerOptions,
): Promise<ForwardResult> {
  const R = rows.length;
  const S = Math.max(1, ...rows.map((r) => r.tokens.length));
  const P = past.length;
  const ids = new BigInt64Array(R * S).fill(BigInt(options.padId));
  const positions = new BigInt64Array(R * S).fill(1n);
  const mask = new BigInt64Array(R * (P + S));
  const offsets: number[] = [];
  rows.forEach((row, r) => {
    const offset = options.padding === 'left' ? S - row.tokens.length : 0;
    offsets.push(offset);
    for (let p = 0; p < P; p++) mask[r * (P + S) + p] = BigInt(row.pastMask[p] ?? 0);
    row.tokens.forEach((tok, t) => {
      ids[r * S + offset + t] = BigInt(tok);
      positions[r * S + offset + t] = BigInt(row.firstPosition + t);
      mask[r * (P + S) + P + offset + t] = 1n;
    });
  });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [R, S]),
    attention_mask: new ort.Tensor('int64', mask, [R, P + S]),
  };
  if (model.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', positions, [R, S]);
  if (model.hasUseCacheBranch)
    feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.of(P > 0 ? 1 : 0), [1]);
  const pastDims = [R, model.kvHeads, P, model.headDim];
  for (let l = 0; l < model.layers; l++) {
    feeds[`past_key_values.${l}.key`] = new ort.Tensor(model.kvType, past.keys[l]!, pastDims);
    feeds[`past_key_values.${l}.value`] = new ort.Tensor(model.kvType, past.values[l]!, pastDims);
  }
  const result = await runSession(model.handle, feeds);
  const logitsTensor = result.logits!;
  const vocab = logitsTensor.dims[2]!;
  const keys: Raw[] = [];
  const values: Raw[] = [];
  for (let l = 0; l < model.layers; l++) {
    keys.push(result[`present.${l}.key`]!.data as Raw);
    values.push(result[`present.${l}.value`]!.data as Raw);
  }
  return { logits: toFloat32(logitsTensor), width: S, vocab, offsets, presents: { keys, values } };
}

/** The prefix repeated for `rows` rows (or an empty past when there is no prefix). */
function prefixPast(model: DecoderModel, prefix: Prefix | undefined, rows: number): Past {
  const V = prefix?.virtualTokens ?? 0;
  const block = model.kvHeads * V * model.headDim;
  const expand = (perLayer: Float32Array): Raw => {
    const one = floatTensor(model.kvType, perLayer, [perLayer.length]).data as Raw;
    const out = model.kvType === 'float16' ? new Uint16Array(rows * block) : new Float32Array(rows * block);
    for (let r = 0; r < rows; r++) out.set(one as never, r * block);
    return out;
  };
  const keys: Raw[] = [];
  const values: Raw[] = [];
  for (let l = 0; l < model.layers; l++) {
    keys.push(prefix ? expand(prefix.keys[l]!) : emptyRaw(model));
    values.push(prefix ? expand(prefix.values[l]!) : emptyRaw(model));
  }
  return { length: V, keys, values };
}

function emptyRaw(model: DecoderModel): Raw {
  return model.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
}

/** Copies each source row's present key/values to the rows that continue from it. */
function gatherPast(
  model: DecoderModel,
  presents: { keys: Raw[]; values: Raw[] },
  length: number,
  sources: readonly number[],
): Past {
  const block = model.kvHeads * length * model.headDim;
  const gather = (src: Raw): Raw => {
    const out = new (src.constructor as { new (n: number): Raw })(sources.length * block);
    sources.forEach((b, r) => {
      out.set(src.subarray(b * block, (b + 1) * block) as never, r * block);
    });
    return out;
  };
  return { length, keys: presents.keys.map(gather), values: presents.values.map(gather) };
}

function logSumExp(xs: Float32Array, start: number, n: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = start; i < start + n; i++) if (xs[i]! > m) m = xs[i]!;
  let z = 0;
  for (let i = start; i < start + n; i++) z += Math.exp(xs[i]! - m);
  return m + Math.log(z);
}
