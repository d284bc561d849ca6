/**
 * The `openai` adapter: zero-shot, few-shot and LoRA models behind an OpenAI-compatible server.
 * predict() fans a batch out concurrently (bounded per endpoint by the HTTP client), reads answers from
 * the response cache first, and returns one Prediction per example in order. A failed example becomes
 * `parse: "error"` with the error text; only an interrupted run (ctx.signal) makes predict reject.
 * The adapter keeps no state that matters across runs outside the response cache, so a killed run that
 * is started again re-asks only what was never answered.
 */
import {
  type CacheKeyInputs,
  cacheKey,
  deploymentId,
  normaliseBaseUrl,
  ResponseCache,
} from '../../harness/cache.ts';
import { ConfigError, RuntimeFailure } from '../../harness/errors.ts';
import { hashValue } from '../../harness/hash.ts';
import { HttpCallError, OpenAICompatibleClient, type ProbeResult } from '../../harness/inference/http.ts';
import { LabelParser } from '../../harness/label-parser.ts';
import type {
  Adapter,
  AdapterEnv,
  AdapterFacts,
  CellContext,
  Example,
  ParseStatus,
  Prediction,
  PromptTemplate,
  RenderedPrompt,
} from '../../harness/types.ts';
import { drawShots } from '../prompts/draw-shots.ts';
import { promptLabelNames } from '../prompts/label-names.ts';
import type { GuidedParam, LabelChoiceMode, OpenAIAdapterConfig } from './config.ts';
import {
  guidedFields,
  guidedParamFor,
  logprobsFields,
  resolveLabelChoice,
  responseText,
  responseTopLogprobs,
  scoreByLogprobs,
} from './label-choice.ts';
import { type ModelIdentity, type ModelListing, readModelIdentity } from './model-identity.ts';
import { detectServer, type ServerInfo } from './server-kind.ts';

/** What the cache stores per request: the server's first choice and how it was obtained. */
export interface CachedResponse {
  /** `{choices: [first choice], model, usage}` exactly as the server sent them. */
  response: { choices: unknown[]; model?: unknown; usage?: unknown };
  latencyMs: number;
  /** The replica that answered (normalised URL; replicas of one deployment share entries). */
  answeredBy: string;
}

interface CellState {
  shots: Example[];
  server: ServerInfo;
  mode: LabelChoiceMode;
  guidedParam?: GuidedParam;
  parser: LabelParser;
  /** Label names the constraint allows (the names the prompt shows). */
  choices: string[];
}

type ResolvedConfig = OpenAIAdapterConfig & { id: string };

/** The modes `auto` can step down from, and the mode each steps down to. */
type RefusableMode = 'guided' | 'logprobs';
const NEXT_MODE: Record<RefusableMode, LabelChoiceMode> = { guided: 'logprobs', logprobs: 'text' };
/**
 * What a refusal of each feature names. Servers word it differently ("unsupported parameter:
 * guided_choice", "grammar is not supported", "logprobs are not supported with this model"), but
 * every wording names the request field it refuses.
 */
const REFUSAL: Record<RefusableMode, RegExp> = {
  guided: /guided|structured|grammar|choice/i,
  logprobs: /logprob/i,
};

export class OpenAIAdapter implements Adapter {
  readonly type = 'openai';
  readonly id: string;
  readonly batchSize: number;
  /** Two batches in flight keep every endpoint slot busy while the runner records the previous one. */
  readonly concurrency = 2;

  readonly #config: ResolvedConfig;
  readonly #env: AdapterEnv;
  readonly #template: PromptTemplate;
  readonly #client: OpenAICompatibleClient;
  readonly #cache?: ResponseCache<CachedResponse>;
  /** Requests in flight by cache key, so identical prompts in one batch are sent once. */
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #baseUrls: string[];
  readonly #deployment: string;
  readonly #cells = new Map<string, Promise<CellState>>();
  #server?: Promise<ServerInfo>;
  /** Which weights the model name stands for, read by identify() before the fingerprint is asked. */
  #identity: ModelIdentity & { source: 'server' | 'recorded'; recordedAt?: string } = {
    key: {},
    facts: {},
    strength: 'none',
    source: 'server',
  };
  /** This run's GET /models answer and the replica that gave it, reused to tell the server kind. */
  #listing?: { baseUrl: string; probe: ProbeResult<ModelListing> };
  /**
   * Label-choice features the server refused in `auto` mode (HTTP 400 naming the feature), with the
   * refusal's text. Remembered for this adapter's endpoint (every replica of the deployment: they are
   * one server build), so later requests go straight to the next mode instead of being refused again.
   */
  readonly #refused = new Map<RefusableMode, string>();
  /** Modes the server has answered, or failed otherwise than by refusing, in `auto` mode: no longer on trial. */
  readonly #accepted = new Set<RefusableMode>();
  /**
   * The request trying a mode whose support is still unknown. Others wait for its outcome rather than
   * all being refused at once (a batch would otherwise send dozens of requests bound to fail).
   */
  readonly #trials = new Map<RefusableMode, Promise<void>>();
  /** Answers produced by this process (a resumed or re-run evaluation counts only its own part). */
  readonly #counts: Record<ParseStatus, number> & {
    lenient: number;
    cached: number;
    logprobsFallbacks: number;
  } = {
    ok: 0,
    unparseable: 0,
    error: 0,
    lenient: 0,
    cached: 0,
    logprobsFallbacks: 0,
  };
  readonly #modesUsed = new Set<string>();

  constructor(config: ResolvedConfig, env: AdapterEnv, template: PromptTemplate, apiKey: string | undefined) {
    this.id = config.id;
    this.#config = config;
    this.#env = env;
    this.#template = template;
    this.#baseUrls = Array.isArray(config.baseUrl) ? config.baseUrl : [config.baseUrl];
    this.#deployment = deploymentId(this.#baseUrls, config.deployment);
    this.#client = new OpenAICompatibleClient({
      baseUrls: this.#baseUrls,
      ...(apiKey ? { apiKey } : {}),
      concurrency: config.concurrency,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      backoffMs: config.backoffMs,
      maxBackoffMs: config.maxBackoffMs,
    });
    if (config.cache) this.#cache = new ResponseCache<CachedResponse>(env.cacheDir);
    this.batchSize = config.batchSize ?? 2 * this.#client.capacity;
  }

  /** Everything that changes answers. Not the API key, concurrency, timeouts or retries. */
  fingerprint(): string {
    const c = this.#config;
    return hashValue({
      type: 'openai',
      v: 1,
      deployment: this.#deployment,
      model: c.model,
      modelIdentity: this.#identityKey(),
      api: c.api,
      server: c.server,
      labelChoice: c.labelChoice,
      guidedParam: c.guidedParam,
      topLogprobs: c.labelChoice === 'logprobs' || c.labelChoice === 'auto' ? c.topLogprobs : undefined,
      template: { id: this.#template.id, hash: this.#template.hash },
      shots: c.shots,
      contextTurns: c.contextTurns,
      decoding: c.decoding,
      lenient: c.lenient,
      extraBody: c.extraBody,
    });
  }

  /**
   * Asks the server once per run which weights serve the configured model (see model-identity.ts),
   * before the runner takes the fingerprint: retrained weights then make a new fingerprint (a run
   * started on the old ones is not resumed with the new) and new cache keys. Called by the factory.
   * The answer is recorded in the cache, so that a finished evaluation can be re-run while the
   * server is down (with a warning); a server that cannot be reached and was never seen is an error.
   */
  async identify(): Promise<void> {
    const c = this.#config;
    const record: CacheKeyInputs = {
      endpoint: this.#deployment,
      model: c.model,
      api: c.api,
      body: { probe: 'model-identity', v: 1 },
      sampleSeed: null,
    };
    let unreachable = '';
    for (const url of this.#baseUrls) {
      const probe = await this.#client.probeJson<ModelListing>(`${url.replace(/\/+$/, '')}/models`, 10_000);
      if (probe.status === 'unreachable') {
        unreachable = probe.message;
        continue;
      }
      this.#listing = { baseUrl: url, probe };
      const identity = await readModelIdentity(this.#client, url, c.server, c.model, probe);
      this.#identity = { ...identity, source: 'server' };
      await this.#cache?.put(record, identity as unknown as CachedResponse);
      break;
    }
    if (!this.#listing) {
      const recorded = await this.#cache?.get(record);
      if (!recorded) {
        throw new RuntimeFailure(
          `openai adapter '${this.id}': cannot reach the server to read which model it serves (${unreachable}); is it up?`,
        );
      }
      this.#identity = {
        ...(recorded.value as unknown as ModelIdentity),
        source: 'recorded',
        recordedAt: recorded.created,
      };
      this.#env.log.warn(
        `${this.id}: cannot reach the server (${unreachable}); cached answers are those of the model it served on ${recorded.created}`,
      );
    }
    if (c.modelRevision) return;
    // Not worded `<id>: ...`: that is how the run's summary line for the adapter begins.
    const where = this.#identity.key.root ?? this.#identity.key.modelPath;
    if (this.#identity.strength === 'none') {
      this.#env.log.info(
        `cached answers of ${this.id} are keyed on the model name only: the server does not say which weights serve '${c.model}' (set modelRevision when retrained weights are served under that name)`,
      );
    } else if (this.#identity.strength === 'path') {
      this.#env.log.info(
        `cached answers of ${this.id} are keyed on '${c.model}' and where the server loaded it from${
          typeof where === 'string' ? ` (${where})` : ''
        }: weights retrained in place look the same (set modelRevision when you retrain)`,
      );
    }
  }

  /** The model identity for keys and the fingerprint; undefined (left out) when nothing is known. */
  #identityKey(): Record<string, unknown> | undefined {
    const key = {
      ...this.#identity.key,
      ...(this.#config.modelRevision ? { revision: this.#config.modelRevision } : {}),
    };
    return Object.keys(key).length > 0 ? key : undefined;
  }

  async prepare(ctx: CellContext): Promise<AdapterFacts> {
    const cell = await this.#cell(ctx);
    return {
      server: cell.server.kind,
      serverSource: cell.server.source,
      serverVersion: cell.server.version,
      labelChoice: cell.mode,
      guidedParam: cell.mode === 'guided' ? cell.guidedParam : undefined,
      template: { id: this.#template.id, hash: this.#template.hash },
      shotIds: cell.shots.map((s) => s.id),
    };
  }

  async predict(batch: readonly Example[], ctx: CellContext): Promise<Prediction[]> {
    const cell = await this.#cell(ctx);
    return Promise.all(batch.map((example) => this.#predictOne(example, ctx, cell)));
  }

  /**
   * Run-wide settings and what this process saw. Counts of answers by parse status over the whole
   * run (earlier, interrupted attempts included) are not here: the runner recomputes them from the
   * predictions files (manifest `adapters.<id>.parse_counts`, and each metrics file's parse_counts).
   */
  facts(): AdapterFacts {
    const c = this.#config;
    return {
      model: c.model,
      modelRevision: c.modelRevision,
      // Which weights answered, as the server told it (a LoRA's path and base model, a digest), so a
      // number can be traced to them; `keyedOn` says what the cache could tell apart.
      servedModel: {
        ...this.#identity.facts,
        keyedOn: this.#identity.strength,
        source: this.#identity.source,
        ...(this.#identity.recordedAt ? { recordedAt: this.#identity.recordedAt } : {}),
      },
      api: c.api,
      endpoints: this.#baseUrls.map(normaliseBaseUrl),
      deployment: this.#deployment,
      serverSetting: c.server,
      labelChoiceSetting: c.labelChoice,
      labelChoiceUsed: [...this.#modesUsed].sort(),
      guidedRejected: this.#refused.get('guided'),
      logprobsRejected: this.#refused.get('logprobs'),
      template: { id: this.#template.id, hash: this.#template.hash },
      shots: c.shots,
      contextTurns: c.contextTurns,
      decoding: c.decoding,
      lenientParsing: c.lenient,
      thisInvocation: {
        answers: {
          ok: this.#counts.ok,
          lenient: this.#counts.lenient,
          unparseable: this.#counts.unparseable,
          error: this.#counts.error,
        },
        logprobsFallbacks: this.#counts.logprobsFallbacks,
        cachedAnswers: this.#counts.cached,
      },
      http: this.#client.stats(),
      cache: this.#cache ? { dir: this.#cache.dir, ...this.#cache.stats } : { disabled: true },
    };
  }

  /** Requests, retries by cause and failed attempts per endpoint, and the examples left as errors. */
  summary(): string | undefined {
    const http = this.#client.stats();
    if (http.requests === 0 && this.#counts.cached === 0) return undefined;
    const causes = Object.entries(http.retryCauses)
      .map(([cause, n]) => `${cause} ${n}`)
      .join(', ');
    const endpoints = http.endpoints
      .map(
        (e) =>
          `${e.baseUrl}: ${e.requests} requests, ${e.failed} failed (${e.retried} retried, ${e.gaveUp} gave up)` +
          // A replica that refused connections got no first tries for a while: say so, or its few
          // requests against the others' would look like a balancing fault.
          (e.markedDown
            ? `, marked down ${e.markedDown} time${e.markedDown === 1 ? '' : 's'} (connections refused)`
            : ''),
      )
      .join('; ');
    return (
      `${this.id}: ${http.requests} requests, ${http.retries} retries${causes ? ` (${causes})` : ''}, ` +
      `${this.#counts.error} examples recorded as errors, ${this.#counts.cached} answers from the cache; ${endpoints}`
    );
  }

  async close(): Promise<void> {
    this.#cells.clear();
    this.#client.close();
  }

  /** Per-cell state (shots, label choice, parser), made once per task and seed. */
  #cell(ctx: CellContext): Promise<CellState> {
    const key = `${ctx.task.id}\u0000${ctx.seed}`;
    let state = this.#cells.get(key);
    if (!state) {
      state = this.#makeCell(ctx);
      this.#cells.set(key, state);
      state.catch(() => this.#cells.delete(key));
    }
    return state;
  }

  async #makeCell(ctx: CellContext): Promise<CellState> {
    const c = this.#config;
    const server = await this.#serverInfo();
    const guidedParam = c.guidedParam ?? guidedParamFor(server.kind, server.version);
    const mode = resolveLabelChoice(c.labelChoice, server.kind, guidedParam);
    if (typeof mode === 'object')
      throw new ConfigError(`openai adapter '${this.id}': labelChoice: ${mode.error}`);
    let shots: Example[] = [];
    if (c.shots > 0) {
      shots = drawShots(await ctx.loadSplit('train'), c.shots, ctx.seed);
      if (shots.length < c.shots) {
        ctx.log.warn(
          `${this.id}: asked for ${c.shots} shots but train of ${ctx.task.id} has ${shots.length} examples`,
        );
      }
    }
    return {
      shots,
      server,
      mode,
      ...(guidedParam ? { guidedParam } : {}),
      parser: LabelParser.forProtocol(ctx.protocol),
      choices: promptLabelNames(ctx.protocol),
    };
  }

  /**
   * The server kind, probed once, from the GET /models answer identify() already has. The answer is
   * stored in the response cache (keyed by the deployment and model) so that a re-run of a finished
   * evaluation asks nothing more than identify()'s probes, and a resumed run uses the label-choice
   * mode of the run it resumes. An unreachable server is a RuntimeFailure, never stored. Setting
   * `server` (and `guidedParam` for vLLM) skips telling the kind, not identify()'s probes.
   */
  #serverInfo(): Promise<ServerInfo> {
    this.#server ??= (async () => {
      const c = this.#config;
      const needsProbe =
        c.server === 'auto' ||
        (c.server === 'vllm' && !c.guidedParam && (c.labelChoice === 'auto' || c.labelChoice === 'guided'));
      if (!needsProbe)
        return { kind: c.server as Exclude<typeof c.server, 'auto'>, source: 'config' } as ServerInfo;
      const inputs: CacheKeyInputs = {
        endpoint: this.#deployment,
        model: c.model,
        api: c.api,
        body: { probe: 'server-kind', v: 1, server: c.server },
        sampleSeed: null,
      };
      const cached = await this.#cache?.get(inputs);
      if (cached) return cached.value as unknown as ServerInfo;
      const info = await detectServer(
        this.#client,
        this.#listing?.baseUrl ?? this.#baseUrls[0]!,
        c.server,
        c.model,
        this.#listing?.probe,
      );
      if (info.models && !info.models.includes(c.model)) {
        this.#env.log.warn(
          `${this.id}: model '${c.model}' is not listed by ${normaliseBaseUrl(this.#listing?.baseUrl ?? this.#baseUrls[0]!)}/models (listed: ${info.models.slice(0, 10).join(', ')})`,
        );
      }
      const { models: _models, ...stored } = info;
      await this.#cache?.put(inputs, stored as unknown as CachedResponse);
      return stored;
    })();
    // A failed probe is asked again by the next cell rather than remembered.
    this.#server.catch(() => {
      this.#server = undefined;
    });
    return this.#server;
  }

  /**
   * The cell's mode, stepped down past every feature the server refused: guided -> logprobs -> text.
   * Only `auto` steps down; a mode the config names explicitly is kept (its refusals are errors).
   */
  #effectiveMode(cell: CellState): LabelChoiceMode {
    let mode = cell.mode;
    if (this.#config.labelChoice !== 'auto') return mode;
    while ((mode === 'guided' || mode === 'logprobs') && this.#refused.has(mode)) mode = NEXT_MODE[mode];
    return mode;
  }

  /** Whether `err` is the server refusing `mode`'s request field (HTTP 400 naming it), in `auto` mode. */
  #isRefusal(err: unknown, mode: LabelChoiceMode): boolean {
    if (this.#config.labelChoice !== 'auto' || (mode !== 'guided' && mode !== 'logprobs')) return false;
    if (!(err instanceof HttpCallError) || err.status !== 400) return false;
    // Only the server's words count: the message starts with the URL, which may contain anything.
    const said = err.message.slice(err.message.indexOf('HTTP 400'));
    return REFUSAL[mode].test(said);
  }

  #body(
    prompt: RenderedPrompt,
    mode: LabelChoiceMode,
    cell: CellState,
    seed: number,
  ): Record<string, unknown> {
    const c = this.#config;
    const d = c.decoding;
    const body: Record<string, unknown> = {
      ...c.extraBody,
      model: c.model,
      max_tokens: d.maxTokens,
      temperature: d.temperature,
      top_p: d.topP,
      // Sampling is reproducible per run seed where the server supports `seed`; greedy needs none.
      seed: d.seed ?? (d.temperature > 0 ? seed : undefined),
      stop: d.stop,
      presence_penalty: d.presencePenalty,
      frequency_penalty: d.frequencyPenalty,
    };
    if (c.api === 'chat') body.messages = prompt.messages;
    else body.prompt = prompt.text;
    if (mode === 'guided' && cell.guidedParam)
      Object.assign(body, guidedFields(cell.guidedParam, cell.choices));
    if (mode === 'logprobs') Object.assign(body, logprobsFields(c.api, c.topLogprobs));
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    return body;
  }

  async #predictOne(example: Example, ctx: CellContext, cell: CellState): Promise<Prediction> {
    const prediction = await this.#answer(example, ctx, cell);
    // A guess is counted as a guess, not as parsed (the same split the metrics file makes).
    if (prediction.lenient) this.#counts.lenient++;
    else this.#counts[prediction.parse]++;
    if (prediction.cached) this.#counts.cached++;
    return prediction;
  }

  async #answer(example: Example, ctx: CellContext, cell: CellState): Promise<Prediction> {
    const c = this.#config;
    const mode = this.#effectiveMode(cell);
    try {
      const prompt = this.#template.render({
        example,
        protocol: ctx.protocol,
        shots: cell.shots,
        contextTurns: c.contextTurns,
      });
      const body = this.#body(prompt, mode, cell, ctx.seed);
      const identity = this.#identityKey();
      const inputs: CacheKeyInputs = {
        endpoint: this.#deployment,
        model: c.model,
        ...(identity ? { modelIdentity: identity } : {}),
        api: c.api,
        body,
        sampleSeed: c.decoding.temperature > 0 ? ctx.seed : null,
      };
      const key = this.#cache ? cacheKey(inputs) : '';
      const hit = await this.#cache?.get(inputs, key);
      if (hit) return this.#interpret(example, hit.value, mode, cell, true);

      const waiting = key ? this.#inflight.get(key) : undefined;
      if (waiting) {
        // The same request is already in flight for another example (a repeated utterance such as
        // "Okay."): wait for it and share its cached answer instead of asking twice.
        await waiting;
        const shared = await this.#cache?.get(inputs, key);
        if (shared) return this.#interpret(example, shared.value, mode, cell, true);
      }
      // A refusal that came back while this request looked in the cache changed the mode: start over.
      if (this.#effectiveMode(cell) !== mode) return this.#answer(example, ctx, cell);
      let endTrial: (() => void) | undefined;
      if (
        c.labelChoice === 'auto' &&
        (mode === 'guided' || mode === 'logprobs') &&
        !this.#accepted.has(mode)
      ) {
        const trial = this.#trials.get(mode);
        if (trial) {
          // Another request is finding out whether the server takes this mode: ask once it knows.
          await trial;
          return this.#answer(example, ctx, cell);
        }
        this.#trials.set(
          mode,
          new Promise<void>((r) => {
            endTrial = () => {
              this.#trials.delete(mode);
              r();
            };
          }),
        );
      }
      let release: () => void = () => {};
      if (key)
        this.#inflight.set(
          key,
          new Promise<void>((r) => {
            release = r;
          }),
        );
      try {
        const path = c.api === 'chat' ? '/chat/completions' : '/completions';
        let res: Awaited<ReturnType<OpenAICompatibleClient['postJson']>>;
        try {
          res = await this.#client.postJson(path, body, ctx.signal);
          if (mode === 'guided' || mode === 'logprobs') this.#accepted.add(mode);
        } catch (err) {
          if ((mode === 'guided' || mode === 'logprobs') && this.#isRefusal(err, mode)) {
            // The server refused this way of choosing the label: step down to the next one, remember
            // it so no later request is refused for the same reason, and say so in the facts.
            if (!this.#refused.has(mode)) {
              this.#refused.set(mode, (err as Error).message);
              const next = NEXT_MODE[mode];
              ctx.log.warn(
                `${this.id}: the server refused ${mode === 'guided' ? 'constrained choice' : 'logprobs'}; ${
                  next === 'text' ? 'answers are parsed as free text' : `labels are chosen by ${next}`
                }`,
              );
            }
            return this.#answer(example, ctx, cell);
          }
          // Any other failure says the server does not refuse the mode outright: the trial is over,
          // so a server that is down fails the waiting requests in parallel, not one after another.
          if ((mode === 'guided' || mode === 'logprobs') && !ctx.signal?.aborted) this.#accepted.add(mode);
          throw err;
        }
        const json = res.json as { choices?: unknown[]; model?: unknown; usage?: unknown };
        if (responseText(c.api, json) === undefined) {
          const what = c.api === 'chat' ? 'choices[0].message.content' : 'choices[0].text';
          return this.#error(example, `${res.endpoint}: response has no ${what}`, res.latencyMs);
        }
        const value: CachedResponse = {
          response: { choices: [json.choices![0]], model: json.model, usage: json.usage },
          latencyMs: Math.round(res.latencyMs),
          answeredBy: normaliseBaseUrl(res.endpoint),
        };
        await this.#cache?.put(inputs, value, key);
        return this.#interpret(example, value, mode, cell, false);
      } finally {
        if (key && this.#inflight.get(key)) {
          this.#inflight.delete(key);
          release();
        }
        // Whatever the outcome (answered, refused, failed otherwise), the waiting requests go on.
        endTrial?.();
      }
    } catch (err) {
      // An interrupted run records nothing for this example: the resumed run asks again.
      if (err instanceof HttpCallError && err.kind === 'aborted') throw err;
      if (ctx.signal?.aborted) throw err;
      if (err instanceof HttpCallError) return this.#error(example, err.message);
      throw err;
    }
  }

  #error(example: Example, message: string, latencyMs?: number): Prediction {
    return {
      id: example.id,
      label: null,
      parse: 'error',
      error: message,
      ...(latencyMs !== undefined ? { latencyMs: Math.round(latencyMs) } : {}),
    };
  }

  #interpret(
    example: Example,
    value: CachedResponse,
    mode: LabelChoiceMode,
    cell: CellState,
    cached: boolean,
  ): Prediction {
    const api = this.#config.api;
    this.#modesUsed.add(mode);
    const text = responseText(api, value.response);
    const base = {
      id: example.id,
      ...(typeof text === 'string' ? { raw: text } : {}),
      latencyMs: value.latencyMs,
      ...(cached ? { cached: true } : {}),
    };
    if (mode === 'logprobs') {
      const scored = scoreByLogprobs(responseTopLogprobs(api, value.response), cell.parser);
      if (scored.status === 'ok') return { ...base, label: scored.label, scores: scored.scores, parse: 'ok' };
      this.#counts.logprobsFallbacks++;
    }
    const parsed = cell.parser.parse(text, { lenient: this.#config.lenient });
    if (parsed.status === 'ok') {
      return { ...base, label: parsed.label, parse: 'ok', ...(parsed.lenient ? { lenient: true } : {}) };
    }
    return { ...base, label: null, parse: 'unparseable' };
  }
}
