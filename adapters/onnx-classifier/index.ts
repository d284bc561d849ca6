/**
 * `onnx-classifier`: a Hugging Face sequence-classification model exported to ONNX
 * (`optimum-cli export onnx --task text-classification`), run in-process by ONNX Runtime. Model
 * labels (config.json id2label) map to the protocol's labels by config; probabilities come from a
 * softmax over the logits, summed per protocol label when several model labels map to one.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../../harness/errors.ts';
import { hashValue } from '../../harness/hash.ts';
import { BatchSizer, lengthOrder } from '../../harness/inference/length-buckets.ts';
import { getSession, type OnnxSession, ort, runSession } from '../../harness/inference/onnx.ts';
import type {
  Adapter,
  AdapterEnv,
  AdapterFactory,
  CellContext,
  Example,
  Prediction,
} from '../../harness/types.ts';
import { type InputFormat, specialTokenIds } from './input-format.ts';
import {
  batchSizeSchema,
  checkVocabulary,
  deviceSchema,
  loadModelFolder,
  type ModelFolder,
  padTokenId,
  parseWith,
  resolvePath,
} from './model-folder.ts';
import { toFloat32 } from './tensor-data.ts';
import { TokenizerWorker } from './tokenizer-worker.ts';

const schema = z
  .object({
    /** Folder written by optimum-cli (relative to the config file). */
    model: z.string().min(1),
    modelFile: z.string().min(1).default('model.onnx'),
    /** Model label (config.json id2label value) -> protocol label. Default: same name, case-insensitive. */
    labelMap: z.record(z.string(), z.string()).optional(),
    /** Longest input in tokens, special tokens included (default: tokenizer_config model_max_length, at most 512). */
    maxLength: z.number().int().min(4).optional(),
    context: z
      .object({
        turns: z.number().int().min(0).default(0),
        speakers: z.boolean().default(true),
        mode: z.enum(['pair', 'inline']).default('pair'),
        separator: z.string().default(' '),
        targetMarker: z.string().default(''),
      })
      .strict()
      .default({ turns: 0, speakers: true, mode: 'pair', separator: ' ', targetMarker: '' }),
    batchSize: batchSizeSchema.default('auto'),
    /** Upper bound when the batch size is found automatically. */
    maxBatchSize: z.number().int().positive().default(32),
    /** A batch closes early rather than exceed this padded / real token ratio (length bucketing). */
    maxPadding: z.number().min(1).default(1.1),
    device: deviceSchema.optional(),
    threads: z.number().int().positive().optional(),
  })
  .strict();

export type OnnxClassifierConfig = z.infer<typeof schema>;

export const onnxClassifierFactory: AdapterFactory<OnnxClassifierConfig> = {
  type: 'onnx-classifier',
  description:
    'Sequence-classification model exported with optimum-cli (model.onnx + tokenizer.json + config.json), run by ONNX Runtime on CUDA or CPU',
  parseConfig: (raw) => parseWith(schema, raw, 'onnx-classifier'),
  create: (config, env) => createOnnxClassifier(config, env),
};

/** Model labels in id order, from config.json id2label (required: without it the outputs mean nothing). */
export function readId2label(folder: ModelFolder): string[] {
  const file = join(folder.dir, 'config.json');
  const raw = folder.config.id2label;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError('config.json has no id2label: cannot tell which output is which label', file);
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  const labels: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const v = (raw as Record<string, unknown>)[String(i)];
    if (typeof v !== 'string') {
      throw new InputError(
        `id2label must map 0..${entries.length - 1} to label names; key "${i}" is missing or not a string`,
        file,
      );
    }
    labels.push(v);
  }
  return labels;
}

/**
 * For each model label, the protocol label it counts for (or undefined: ignored). Every protocol
 * label must receive at least one model label: an unmapped one is an error, not a silent zero.
 */
export function mapModelLabels(
  modelLabels: readonly string[],
  protocolLabels: readonly string[],
  labelMap: Record<string, string> | undefined,
  where: string,
): (number | undefined)[] {
  const byLower = new Map(protocolLabels.map((l, i) => [l.toLowerCase(), i]));
  if (labelMap) {
    const known = new Set(modelLabels.map((l) => l.toLowerCase()));
    for (const [from, to] of Object.entries(labelMap)) {
      if (!known.has(from.toLowerCase())) {
        throw new InputError(
          `labelMap names model label '${from}', which the model does not have (model labels: ${modelLabels.join(', ')})`,
          where,
        );
      }
      if (!byLower.has(to.toLowerCase())) {
        throw new InputError(
          `labelMap maps '${from}' to '${to}', which is not a protocol label (labels: ${protocolLabels.join(', ')})`,
          where,
        );
      }
    }
  }
  const mapLower = labelMap
    ? new Map(Object.entries(labelMap).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]))
    : undefined;
  const mapping = modelLabels.map((m) => {
    const target = mapLower ? mapLower.get(m.toLowerCase()) : m.toLowerCase();
    return target === undefined ? undefined : byLower.get(target);
  });
  const covered = new Set(mapping.filter((i): i is number => i !== undefined));
  const missing = protocolLabels.filter((_, i) => !covered.has(i));
  if (missing.length > 0) {
    throw new InputError(
      `protocol label${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} ha${missing.length > 1 ? 've' : 's'} no model label mapped to ${missing.length > 1 ? 'them' : 'it'} (model labels: ${modelLabels.join(', ')}); set labelMap`,
      where,
    );
  }
  return mapping;
}

export async function createOnnxClassifier(
  config: OnnxClassifierConfig & { id: string },
  env: AdapterEnv,
): Promise<Adapter> {
  const dir = resolvePath(env.baseDir, config.model);
  const folder = await loadModelFolder(dir, config.modelFile);
  const modelLabels = readId2label(folder);
  const vocabSize = typeof folder.config.vocab_size === 'number' ? folder.config.vocab_size : undefined;
  checkVocabulary(folder, vocabSize, 'config.json vocab_size');
  const handle = await getSession(folder.modelPath, {
    device: config.device ?? env.device,
    log: env.log,
    ...(config.threads ? { intraOpThreads: config.threads } : {}),
  });
  const modelMax =
    typeof folder.tokenizerConfig.model_max_length === 'number'
      ? folder.tokenizerConfig.model_max_length
      : 512;
  const format: InputFormat = {
    contextTurns: config.context.turns,
    speakers: config.context.speakers,
    mode: config.context.mode,
    separator: config.context.separator,
    targetMarker: config.context.targetMarker,
    maxLength: config.maxLength ?? Math.min(modelMax, 512),
  };
  return new OnnxClassifier(config, folder, handle, modelLabels, format);
}

class OnnxClassifier implements Adapter {
  readonly id: string;
  readonly type = 'onnx-classifier';
  /** Examples per runner call; the adapter re-batches them by length inside. */
  readonly batchSize = 256;
  /** Two runner calls in flight: one is tokenized (in a worker) while the other runs. */
  readonly concurrency = 2;
  #tokenizerWorker: TokenizerWorker | undefined;
  readonly #sizer: BatchSizer;
  readonly #specialIds: Set<number>;
  readonly #padId: number;
  readonly #outputName: string;
  #mapping: (number | undefined)[] | undefined;
  #mappedFor: readonly string[] | undefined;
  #stats = { examples: 0, droppedTurns: 0, truncatedTargets: 0, realTokens: 0, paddedTokens: 0 };

  constructor(
    readonly config: OnnxClassifierConfig & { id: string },
    readonly folder: ModelFolder,
    readonly handle: OnnxSession,
    readonly modelLabels: string[],
    readonly format: InputFormat,
  ) {
    this.id = config.id;
    this.#sizer = new BatchSizer(
      `${handle.modelPath}\u0000${handle.device}`,
      config.batchSize,
      config.maxBatchSize,
      {
        maxPadding: config.maxPadding,
      },
    );
    this.#specialIds = specialTokenIds(folder.tokenizer);
    this.#padId = padTokenId(folder);
    this.#outputName = handle.outputNames.includes('logits') ? 'logits' : handle.outputNames[0]!;
  }

  fingerprint(): string {
    const {
      batchSize: _b,
      maxBatchSize: _m,
      maxPadding: _x,
      device: _d,
      threads: _t,
      model: _p,
      ...outputs
    } = this.config;
    return hashValue({
      type: this.type,
      files: this.folder.hashes,
      config: { ...outputs, maxLength: this.format.maxLength },
    });
  }

  async prepare(ctx: CellContext): Promise<Record<string, unknown>> {
    this.#mapFor(ctx.labels);
    return { device: this.handle.device };
  }

  #mapFor(labels: readonly string[]): (number | undefined)[] {
    if (!this.#mapping || this.#mappedFor !== labels) {
      this.#mapping = mapModelLabels(
        this.modelLabels,
        labels,
        this.config.labelMap,
        join(this.folder.dir, 'config.json'),
      );
      this.#mappedFor = labels;
    }
    return this.#mapping;
  }

  async close(): Promise<void> {
    await this.#tokenizerWorker?.close();
    this.#tokenizerWorker = undefined;
  }

  async predict(batch: readonly Example[], ctx: CellContext): Promise<Prediction[]> {
    const mapping = this.#mapFor(ctx.labels);
    this.#tokenizerWorker ??= new TokenizerWorker(
      this.folder.tokenizerJson,
      this.folder.tokenizerConfig,
      (m) => ctx.log.warn(m),
    );
    const encoded = await this.#tokenizerWorker.encode(
      batch,
      this.folder.tokenizer,
      this.format,
      this.#specialIds,
    );
    const lengths = encoded.map((e) => e.ids.length);
    const order = lengthOrder(lengths);
    const results = await this.#sizer.runAll(
      order,
      async (chunk) => {
        const started = performance.now();
        const logits = await this.#run(chunk.map((i) => encoded[i]!));
        const latency = (performance.now() - started) / chunk.length;
        return chunk.map((i, row) => ({ index: i, logits: logits[row]!, latency }));
      },
      order.map((i) => lengths[i]!),
    );
    const out: Prediction[] = new Array(batch.length);
    for (const r of results) {
      const e = batch[r.index]!;
      const probs = softmax(r.logits);
      const scores: Record<string, number> = Object.fromEntries(ctx.labels.map((l) => [l, 0]));
      probs.forEach((p, m) => {
        const target = mapping[m];
        if (target !== undefined) scores[ctx.labels[target]!]! += p;
      });
      let best = ctx.labels[0]!;
      for (const l of ctx.labels) if (scores[l]! > scores[best]!) best = l;
      let top = 0;
      probs.forEach((p, m) => {
        if (p > probs[top]!) top = m;
      });
      out[r.index] = {
        id: e.id,
        label: best,
        scores,
        raw: this.modelLabels[top],
        parse: 'ok',
        latencyMs: r.latency,
      };
    }
    for (const e of encoded) {
      this.#stats.examples++;
      this.#stats.droppedTurns += e.droppedTurns;
      if (e.truncated) this.#stats.truncatedTargets++;
    }
    return out;
  }

  /** One padded batch through the session; logits per row. */
  async #run(rows: readonly { ids: number[]; typeIds: number[] }[]): Promise<Float32Array[]> {
    const feeds = classifierFeeds(rows, this.#padId, this.handle.inputNames);
    this.#stats.realTokens += rows.reduce((a, r) => a + r.ids.length, 0);
    this.#stats.paddedTokens += feeds.input_ids!.dims[1]! * rows.length;
    const result = await runSession(this.handle, feeds);
    const out = result[this.#outputName]!;
    const data = toFloat32(out);
    const width = out.dims[out.dims.length - 1]!;
    if (width !== this.modelLabels.length) {
      throw new InputError(
        `the model outputs ${width} logits but config.json id2label has ${this.modelLabels.length} labels`,
        join(this.folder.dir, 'config.json'),
      );
    }
    return rows.map((_, r) => data.slice(r * width, (r + 1) * width));
  }

  facts(): Record<string, unknown> {
    return {
      device: this.handle.device,
      batch_size: this.#sizer.size,
      batch_size_auto: this.#sizer.automatic,
      model_sha256: this.folder.hashes.model,
      tokenizer_sha256: this.folder.hashes.tokenizer,
      model_labels: this.modelLabels,
      max_length: this.format.maxLength,
      context_turns: this.format.contextTurns,
      examples: this.#stats.examples,
      dropped_context_turns: this.#stats.droppedTurns,
      truncated_targets: this.#stats.truncatedTargets,
      padding_ratio: this.#stats.realTokens ? this.#stats.paddedTokens / this.#stats.realTokens : null,
      ...(this.folder.lora ? { lora: this.folder.lora } : {}),
    };
  }
}

/**
 * input_ids, attention_mask and (when the model takes it) token_type_ids, right-padded to the
 * longest row. Exported so the bench can time raw session.run on exactly the same feeds.
 */
export function classifierFeeds(
  rows: readonly { ids: number[]; typeIds: number[] }[],
  padId: number,
  inputNames: readonly string[],
): Record<string, ort.Tensor> {
  const width = Math.max(1, ...rows.map((r) => r.ids.length));
  const ids = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(rows.length * width);
  const types = new BigInt64Array(rows.length * width);
  rows.forEach((r, b) => {
    for (let t = 0; t < r.ids.length; t++) {
      ids[b * width + t] = BigInt(r.ids[t]!);
      mask[b * width + t] = 1n;
      types[b * width + t] = BigInt(r.typeIds[t] ?? 0);
    }
  });
  const dims = [rows.length, width];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, dims),
    attention_mask: new ort.Tensor('int64', mask, dims),
  };
  if (inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', types, dims);
  return feeds;
}

function softmax(xs: Float32Array): number[] {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) m = Math.max(m, x);
  const e = Array.from(xs, (x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}
