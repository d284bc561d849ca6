/**
 * Configuration of the `openai` adapter (an OpenAI-compatible server: vLLM, llama.cpp server, Ollama,
 * a hosted API). Validated with zod; every error names the key path (e.g. `decoding.temperature`).
 */
import { z } from 'zod';
import { ConfigError } from '../../harness/errors.ts';

const httpUrl = z
  .url({
    protocol: /^https?$/,
    error: 'expected an http(s) URL such as http://127.0.0.1:8000/v1',
  })
  // A query string or fragment would be glued in front of every route (`/v1?key=X/chat/completions`)
  // and, as the base URL is recorded in the manifest and in every error record, a key passed there
  // would be written everywhere. The message does not repeat the value: it may be that key.
  .refine((u) => !/[?#]/.test(u), {
    error:
      'a query string or fragment is refused (it would break every route and be written to the manifest and error records); pass credentials with apiKeyEnv',
  });

export const SERVER_KINDS = ['auto', 'vllm', 'llamacpp', 'ollama', 'openai', 'generic'] as const;
export type ServerKindSetting = (typeof SERVER_KINDS)[number];
export type ServerKind = Exclude<ServerKindSetting, 'auto'>;

export const LABEL_CHOICES = ['auto', 'guided', 'logprobs', 'text'] as const;
export type LabelChoiceSetting = (typeof LABEL_CHOICES)[number];
export type LabelChoiceMode = Exclude<LabelChoiceSetting, 'auto'>;

/** How a constrained choice is requested: vLLM >= 0.11, older vLLM, llama.cpp server. */
export const GUIDED_PARAMS = ['structured_outputs', 'guided_choice', 'grammar'] as const;
export type GuidedParam = (typeof GUIDED_PARAMS)[number];

/** Request fields the adapter sets itself; extraBody may not override them. */
const RESERVED_BODY_KEYS = ['model', 'messages', 'prompt', 'stream', 'n', 'logprobs', 'top_logprobs'];
/** Decoding fields: they belong under `decoding`, where the fingerprint and the docs expect them. */
const DECODING_BODY_KEYS: Record<string, string> = {
  temperature: 'temperature',
  max_tokens: 'maxTokens',
  top_p: 'topP',
  seed: 'seed',
  stop: 'stop',
  presence_penalty: 'presencePenalty',
  frequency_penalty: 'frequencyPenalty',
};

export const decodingSchema = z.strictObject({
  temperature: z.number().min(0).max(2).default(0),
  maxTokens: z.number().int().positive().default(16),
  topP: z.number().gt(0).max(1).optional(),
  /** Sent as the request's `seed`. When absent and temperature > 0, the run's seed is sent. */
  seed: z.number().int().optional(),
  stop: z.array(z.string()).optional(),
  presencePenalty: z.number().min(-2).max(2).optional(),
  frequencyPenalty: z.number().min(-2).max(2).optional(),
});

export const openaiConfigSchema = z.strictObject({
  id: z.string().min(1).optional(),
  type: z.literal('openai').optional(),
  /** One base URL, or replicas of one deployment that share the load (and the cache). */
  baseUrl: z.union([httpUrl, z.array(httpUrl).min(1)]),
  /**
   * Name of the deployment for the cache key. Without it the key uses the sorted base URLs, so adding
   * a replica starts a fresh cache; with it, replicas can change and answers are still reused.
   */
  deployment: z.string().min(1).optional(),
  /** Served model name; a LoRA adapter served by name (vLLM --lora-modules, Ollama) is chosen here. */
  model: z.string().min(1),
  /**
   * Revision of the served weights (a checkpoint hash, a training step, a date), part of the cache key
   * and the fingerprint. The server's own account (vLLM's LoRA path, Ollama's digest) is keyed too;
   * set this when retrained weights are served under the same name and path, which no server tells apart.
   */
  modelRevision: z.string().min(1).optional(),
  api: z.enum(['chat', 'completions']).default('chat'),
  /** Server kind, which decides the label-choice parameters; `auto` reads it from GET /models. */
  server: z.enum(SERVER_KINDS).default('auto'),
  /** peng2023 | dialoguellm | a path to a template file (relative to the config file). */
  prompt: z.string().min(1).default('peng2023'),
  /** k demonstrations drawn from train with the run's seed (same k for every example of a cell). */
  shots: z.number().int().min(0).default(0),
  /** Previous turns shown by templates that use context (DialogueLLM's default is 1). */
  contextTurns: z.number().int().min(0).default(1),
  decoding: decodingSchema.prefault({}),
  /** auto | guided (constrained choice) | logprobs (score labels by first-token logprobs) | text. */
  labelChoice: z.enum(LABEL_CHOICES).default('auto'),
  /** Overrides the constrained-choice parameter chosen from the server kind and version. */
  guidedParam: z.enum(GUIDED_PARAMS).optional(),
  /** top_logprobs asked for in logprobs mode (servers commonly allow at most 20). */
  topLogprobs: z.number().int().min(1).max(20).default(20),
  /** Nearest-label guessing for free-text answers; predictions it touches are marked `lenient`. */
  lenient: z.boolean().default(false),
  /** Requests in flight per endpoint. */
  concurrency: z.number().int().min(1).default(8),
  /** Examples per predict call; default: twice the requests all endpoints can hold. */
  batchSize: z.number().int().min(1).optional(),
  timeoutMs: z.number().int().positive().default(60_000),
  maxRetries: z.number().int().min(0).default(4),
  backoffMs: z.number().int().min(0).default(500),
  maxBackoffMs: z.number().int().min(0).default(30_000),
  /** Name of the environment variable holding the API key (the key itself is never written anywhere). */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as OPENAI_API_KEY')
    .optional(),
  /** Extra request fields (e.g. top_k, llama.cpp `lora`, chat_template_kwargs); part of the cache key. */
  extraBody: z
    .record(z.string(), z.unknown())
    .superRefine((body, ctx) => {
      for (const k of Object.keys(body)) {
        if (RESERVED_BODY_KEYS.includes(k)) {
          ctx.addIssue({
            code: 'custom',
            path: [k],
            message: `'${k}' is set by the adapter and cannot be overridden`,
          });
        } else if (DECODING_BODY_KEYS[k]) {
          ctx.addIssue({ code: 'custom', path: [k], message: `set it as decoding.${DECODING_BODY_KEYS[k]}` });
        }
      }
    })
    .optional(),
  /** Response cache on/off (on by default; a finished evaluation then re-runs without requests). */
  cache: z.boolean().default(true),
});

export type OpenAIAdapterConfig = z.infer<typeof openaiConfigSchema>;
export type DecodingConfig = z.infer<typeof decodingSchema>;

/** Validates a raw adapter config; ConfigError lists each problem as `key.path: message`. */
export function parseOpenAIConfig(raw: unknown): OpenAIAdapterConfig {
  const result = openaiConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const id = raw && typeof raw === 'object' && 'id' in raw ? String((raw as { id: unknown }).id) : undefined;
  const problems = result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
  throw new ConfigError(`openai adapter${id ? ` '${id}'` : ''}: ${problems.join('; ')}`);
}

/** ["decoding", "stop", 0] -> "decoding.stop[0]"; [] -> "(config)". */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(config)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}
