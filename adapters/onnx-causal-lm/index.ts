/**
 * `onnx-causal-lm`: zero- and k-shot classification with a decoder exported with past key values
 * (`optimum-cli export onnx --task text-generation-with-past`), run in-process by ONNX Runtime.
 * Every label's verbalisation is scored (sum of its token log-probabilities after the prompt) and the
 * best one wins, so there is nothing to parse. The prompt runs once and its KV cache is reused for all
 * labels. Optionally a PEFT prefix-tuning (P-tuning v2) checkpoint is fed as past key values; a merged
 * LoRA export is just a model, whose adapter_config.json facts go to the manifest.
 */
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { z } from 'zod';
import { ConfigError, InputError, unknownName } from '../../harness/errors.ts';
import { hashValue } from '../../harness/hash.ts';
import { BatchSizer, lengthOrder } from '../../harness/inference/length-buckets.ts';
import { getSession } from '../../harness/inference/onnx.ts';
import { Rng } from '../../harness/random.ts';
import type {
  Adapter,
  AdapterEnv,
  AdapterFactory,
  CellContext,
  Example,
  Prediction,
  PromptTemplate,
} from '../../harness/types.ts';
import {
  batchSizeSchema,
  checkVocabulary,
  deviceSchema,
  loadModelFolder,
  type ModelFolder,
  padTokenId,
  parseWith,
  resolvePath,
  specialToken,
} from '../onnx-classifier/model-folder.ts';
import { builtinPrompts } from '../prompts/index.ts';
import { type DecoderModel, describeDecoder } from './decoder-model.ts';
import { type ScoreRequest, scoreLabels } from './label-scorer.ts';
import { loadPrefixCheckpoint, type PrefixCheckpoint } from './prefix-checkpoint.ts';

const isTemplate = (v: unknown): v is PromptTemplate =>
  !!v &&
  typeof v === 'object' &&
  typeof (v as PromptTemplate).render === 'function' &&
  typeof (v as PromptTemplate).id === 'string';

const schema = z
  .object({
    /** Folder written by optimum-cli (relative to the config file). */
    model: z.string().min(1),
    modelFile: z.string().min(1).default('model.onnx'),
    /** Built-in prompt template id (adapters/prompts). */
    prompt: z.string().min(1).default('peng2023'),
    /** A template object (programmatic use and plugins); wins over `prompt`. */
    template: z.custom<PromptTemplate>(isTemplate, 'expected a PromptTemplate object').optional(),
    /** Render the prompt's messages with tokenizer_config.json chat_template. */
    chat: z.boolean().default(false),
    /** Demonstrations drawn from train with the cell's seed. */
    shots: z.number().int().min(0).default(0),
    /** Previous turns shown by templates that use context. */
    contextTurns: z.number().int().min(0).default(0),
    /** Text scored for each protocol label (default: the protocol's label name). */
    verbalizer: z.record(z.string(), z.string()).optional(),
    /** Put between the prompt and the verbalisation (a space suits word-level BPE vocabularies). */
    labelPrefix: z.string().default(' '),
    /** sum: total log-likelihood (the brief's definition); mean: per token (length-normalised). */
    scoring: z.enum(['sum', 'mean']).default('sum'),
    /** Reuse the prompt's KV cache for every label (false: rescore prompt + label per label). */
    kvReuse: z.boolean().default(true),
    padding: z.enum(['left', 'right']).default('left'),
    /** Folder of a PEFT prefix-tuning checkpoint (adapter_config.json + adapter_model.safetensors). */
    prefix: z.string().min(1).optional(),
    /** Most tokens per scored sequence (default: config.json max_position_embeddings). */
    maxLength: z.number().int().positive().optional(),
    batchSize: batchSizeSchema.default('auto'),
    maxBatchSize: z.number().int().positive().default(16),
    /** A batch closes early rather than exceed this padded / real prompt-token ratio. */
    maxPadding: z.number().min(1).default(1.1),
    device: deviceSchema.optional(),
    threads: z.number().int().positive().optional(),
  })
  .strict();

export type OnnxCausalLmConfig = z.infer<typeof schema>;

export const onnxCausalLmFactory: AdapterFactory<OnnxCausalLmConfig> = {
  type: 'onnx-causal-lm',
  description:
    'Decoder exported with past key values (optimum-cli --task text-generation-with-past): scores each label by log-likelihood, KV cache reused across labels; optional PEFT prefix-tuning checkpoint; merged LoRA facts',
  parseConfig: (raw) => parseWith(schema, raw, 'onnx-causal-lm'),
  create: (config, env) => createOnnxCausalLm(config, env),
};

export async function createOnnxCausalLm(
  config: OnnxCausalLmConfig & { id: string },
  env: AdapterEnv,
): Promise<Adapter> {
  const template = config.template ?? findTemplate(config.prompt);
  const folder = await loadModelFolder(resolvePath(env.baseDir, config.model), config.modelFile);
  const handle = await getSession(folder.modelPath, {
    device: config.device ?? env.device,
    log: env.log,
    ...(config.threads ? { intraOpThreads: config.threads } : {}),
  });
  const model = describeDecoder(handle, folder);
  checkVocabulary(folder, model.vocabSize, 'config.json vocab_size / logits width');
  const prefix = config.prefix
    ? await loadPrefixCheckpoint(resolvePath(env.baseDir, config.prefix), model)
    : undefined;
  const chat = config.chat ? chatTemplate(folder) : undefined;
  return new OnnxCausalLm(config, folder, model, template, prefix, chat);
}

function findTemplate(id: string): PromptTemplate {
  const found = builtinPrompts.find((t) => t.id === id);
  if (!found)
    throw new ConfigError(
      `prompt: ${unknownName(
        'prompt template',
        id,
        builtinPrompts.map((t) => t.id),
      )}`,
    );
  return found;
}

/** tokenizer_config.json chat_template (a string, or a list of named templates: "default" is used). */
function chatTemplate(folder: ModelFolder): Template {
  const file = join(folder.dir, 'tokenizer_config.json');
  let source = folder.tokenizerConfig.chat_template;
  if (Array.isArray(source)) {
    source = (source as { name?: string; template?: string }[]).find((t) => t.name === 'default')?.template;
  }
  if (typeof source !== 'string')
    throw new InputError('chat: true but tokenizer_config.json has no chat_template', file);
  try {
    return new Template(source);
  } catch (err) {
    throw new InputError(
      `chat_template does not parse (${err instanceof Error ? err.message : String(err)})`,
      file,
    );
  }
}

interface Encoded {
  prompt: number[];
  labels: number[][];
  error?: string;
}

class OnnxCausalLm implements Adapter {
  readonly id: string;
  readonly type = 'onnx-causal-lm';
  /** Examples per runner call; the adapter re-batches them by prompt length inside. */
  readonly batchSize = 128;
  readonly #sizer: BatchSizer;
  readonly #padId: number;
  readonly #maxLength: number | undefined;
  #shots: Example[] = [];
  #stats = { examples: 0, tooLong: 0, promptTokens: 0, labelTokens: {} as Record<string, number> };

  constructor(
    readonly config: OnnxCausalLmConfig & { id: string },
    readonly folder: ModelFolder,
    readonly model: DecoderModel,
    readonly template: PromptTemplate,
    readonly prefix: PrefixCheckpoint | undefined,
    readonly chat: Template | undefined,
  ) {
    this.id = config.id;
    this.#sizer = new BatchSizer(
      `${model.handle.modelPath}\u0000${model.handle.device}`,
      config.batchSize,
      config.maxBatchSize,
      {
        maxPadding: config.maxPadding,
      },
    );
    this.#padId = padTokenId(folder);
    this.#maxLength = config.maxLength ?? model.maxPositions;
  }

  fingerprint(): string {
    const c = this.config;
    return hashValue({
      type: this.type,
      files: this.folder.hashes,
      prefix: this.prefix?.sha256 ?? null,
      template: { id: this.template.id, hash: this.template.hash },
      chat: c.chat,
      shots: c.shots,
      contextTurns: c.contextTurns,
      verbalizer: c.verbalizer ?? null,
      labelPrefix: c.labelPrefix,
      scoring: c.scoring,
    });
  }

  async prepare(ctx: CellContext): Promise<Record<string, unknown>> {
    this.#shots = [];
    if (this.config.shots > 0) {
      const train = await ctx.loadSplit('train');
      if (train.length < this.config.shots) {
        throw new InputError(
          `shots: ${this.config.shots} demonstrations asked for, but train has only ${train.length} examples`,
        );
      }
      this.#shots = new Rng(ctx.seed).shuffle([...train]).slice(0, this.config.shots);
    }
    for (const label of ctx.labels) {
      const ids = this.folder.tokenizer.encode(this.#verbalise(ctx, label), {
        add_special_tokens: false,
      }).ids;
      if (ids.length === 0) throw new InputError(`label '${label}' verbalises to no tokens; set verbalizer`);
    }
    return { device: this.model.handle.device, shots: this.#shots.map((s) => s.id) };
  }

  #verbalise(ctx: CellContext, label: string): string {
    const name = this.config.verbalizer?.[label] ?? ctx.protocol.labelNames?.[label] ?? label;
    return `${this.config.labelPrefix}${name}`;
  }

  /** The prompt string: the template's text, or its messages through the chat template. */
  promptText(example: Example, ctx: CellContext): string {
    const rendered = this.template.render({
      example,
      protocol: ctx.protocol,
      shots: this.#shots,
      contextTurns: this.config.contextTurns,
    });
    if (!this.chat) return rendered.text;
    return this.chat.render({
      messages: rendered.messages,
      add_generation_prompt: true,
      bos_token: specialToken(this.folder.tokenizerConfig, 'bos_token') ?? '',
      eos_token: specialToken(this.folder.tokenizerConfig, 'eos_token') ?? '',
    });
  }

  /**
   * Prompt ids and each label's ids. Labels are tokenized in context (prompt + label, minus the
   * prompt's ids) so merges across the boundary match what the model saw in training; when the
   * joint encoding does not extend the prompt's, the label is encoded on its own.
   */
  encode(example: Example, ctx: CellContext): Encoded {
    const text = this.promptText(example, ctx);
    // Chat templates write their own BOS; plain prompts get the tokenizer's special tokens.
    const opts = { add_special_tokens: !this.chat };
    const tok = this.folder.tokenizer;
    const prompt = tok.encode(text, opts).ids;
    const labels = ctx.labels.map((label) => {
      const verbal = this.#verbalise(ctx, label);
      const whole = tok.encode(text + verbal, opts).ids;
      const extends_ = whole.length > prompt.length && prompt.every((id, i) => whole[i] === id);
      return extends_ ? whole.slice(prompt.length) : tok.encode(verbal, { add_special_tokens: false }).ids;
    });
    const enc: Encoded = { prompt, labels };
    const longest =
      prompt.length + Math.max(...labels.map((l) => l.length)) + (this.prefix?.virtualTokens ?? 0);
    if (this.#maxLength !== undefined && longest > this.#maxLength) {
      enc.error = `prompt and label take ${longest} tokens (prefix included), more than the model's ${this.#maxLength}`;
    }
    return enc;
  }

  async predict(batch: readonly Example[], ctx: CellContext): Promise<Prediction[]> {
    const encoded = batch.map((e) => this.encode(e, ctx));
    const out: Prediction[] = new Array(batch.length);
    const runnable: number[] = [];
    encoded.forEach((e, i) => {
      if (e.error) {
        out[i] = { id: batch[i]!.id, label: null, parse: 'error', error: e.error };
        this.#stats.tooLong++;
      } else runnable.push(i);
    });
    const order = lengthOrder(runnable.map((i) => encoded[i]!.prompt.length)).map((k) => runnable[k]!);
    const sortedLengths = order.map((i) => encoded[i]!.prompt.length);
    const results = await this.#sizer.runAll(
      order,
      async (chunk) => {
        const started = performance.now();
        const requests: ScoreRequest[] = chunk.map((i) => encoded[i]!);
        const scores = await scoreLabels(this.model, requests, {
          padId: this.#padId,
          padding: this.config.padding,
          kvReuse: this.config.kvReuse,
          ...(this.prefix ? { prefix: this.prefix } : {}),
        });
        const latency = (performance.now() - started) / chunk.length;
        return chunk.map((i, k) => ({ index: i, scores: scores[k]!, latency }));
      },
      sortedLengths,
    );
    for (const r of results) {
      const enc = encoded[r.index]!;
      const scores: Record<string, number> = {};
      ctx.labels.forEach((label, l) => {
        const [sum] = r.scores[l]!;
        scores[label] = this.config.scoring === 'mean' ? sum! / enc.labels[l]!.length : sum!;
      });
      let best = ctx.labels[0]!;
      for (const l of ctx.labels) if (scores[l]! > scores[best]!) best = l;
      out[r.index] = {
        id: batch[r.index]!.id,
        label: best,
        scores,
        raw: this.#verbalise(ctx, best),
        parse: 'ok',
        latencyMs: r.latency,
      };
      this.#stats.promptTokens += enc.prompt.length;
    }
    this.#stats.examples += batch.length;
    encoded[0]?.labels.forEach((ids, l) => {
      this.#stats.labelTokens[ctx.labels[l]!] = ids.length;
    });
    return out;
  }

  facts(): Record<string, unknown> {
    return {
      device: this.model.handle.device,
      batch_size: this.#sizer.size,
      batch_size_auto: this.#sizer.automatic,
      kv_reuse: this.config.kvReuse,
      padding: this.config.padding,
      model_sha256: this.folder.hashes.model,
      tokenizer_sha256: this.folder.hashes.tokenizer,
      layers: this.model.layers,
      kv_heads: this.model.kvHeads,
      head_dim: this.model.headDim,
      kv_dtype: this.model.kvType,
      template: this.template.id,
      template_hash: this.template.hash,
      chat: this.config.chat,
      shots: this.config.shots,
      label_tokens: this.#stats.labelTokens,
      examples: this.#stats.examples,
      too_long: this.#stats.tooLong,
      mean_prompt_tokens: this.#stats.examples ? this.#stats.promptTokens / this.#stats.examples : null,
      ...(this.prefix ? { prefix: this.prefix.facts } : {}),
      ...(this.folder.lora ? { lora: this.folder.lora } : {}),
    };
  }
}
