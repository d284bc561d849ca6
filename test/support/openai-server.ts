/**
 * A small OpenAI-compatible server on 127.0.0.1 for tests and benchmarks (node:http, real sockets).
 * Routes: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /version, and, when
 * the test gives them, what servers say about the weights they serve: Ollama's GET /api/tags,
 * llama.cpp's GET /props and GET /lora-adapters.
 * Answers come from the test's `answer` function (a table lookup). Constrained choice is honoured the
 * way vLLM (`structured_outputs.choice`, `guided_choice`) and llama.cpp (`grammar`) honour it; logprobs
 * are returned in the chat and the completions layouts. Faults are injected per request: 429 with
 * Retry-After, 500, answers slower than the client's timeout, dropped connections, malformed JSON,
 * any other status. A server without constraints or without logprobs refuses them with HTTP 400.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

export type Fault =
  | { kind: '429'; retryAfter?: string }
  | { kind: '500' }
  | { kind: 'slow'; ms: number }
  | { kind: 'drop' }
  | { kind: 'malformed' }
  | { kind: 'status'; status: number; body?: string };

export interface TokenLogprob {
  token: string;
  logprob: number;
}

export interface Reply {
  text: string | null;
  /** Top tokens at the first generated position (default: the answer's first word at -0.05). */
  top?: TokenLogprob[];
}

export interface ServedRequest {
  route: 'chat' | 'completions';
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are free-form JSON.
  body: Record<string, any>;
  /** Last user message (chat) or the prompt (completions). */
  prompt: string;
  model: string;
  authorization?: string;
  /** 1 the first time this route+model+prompt is seen, then 2, 3... (to fail only the first tries). */
  attempt: number;
  /** Constraint choices found in the body, if any. */
  choices?: string[];
  receivedAt: number;
}

export interface OpenAIServerOptions {
  answer: (req: ServedRequest) => string | null | Reply;
  fault?: (req: ServedRequest) => Fault | undefined;
  /** Fixed delay before every answer (ms). */
  latencyMs?: number;
  /** Listed at GET /v1/models; vLLM adds `root` (weights' path) and `parent` (a LoRA's base model). */
  models?: ServedModel[];
  /** Served at GET /api/tags (Ollama) when set. */
  ollamaTags?: { name: string; model?: string; digest?: string; modified_at?: string }[];
  /** Served at GET /props (llama.cpp) when set. */
  props?: Record<string, unknown>;
  /** Served at GET /lora-adapters (llama.cpp) when set. */
  loraAdapters?: { id: number; path: string; scale: number }[];
  /** Served at GET /version (vLLM style) when set. */
  version?: string;
  /** When false, requests carrying a constraint are refused with 400 (a server without the feature). */
  acceptsConstraints?: boolean;
  /** When false, requests asking for logprobs are refused with 400 (a model or server without them). */
  acceptsLogprobs?: boolean;
}

export interface ServedModel {
  id: string;
  owned_by: string;
  root?: string;
  parent?: string | null;
}

/** What a test may change between runs, as a server restarted with other weights would. */
export type ServedMetadata = Pick<OpenAIServerOptions, 'models' | 'ollamaTags' | 'props' | 'loraAdapters'>;

export interface TestOpenAIServer {
  baseUrl: string;
  /** Every completion request received (faulted ones included), in arrival order. */
  requests: ServedRequest[];
  /** Every GET received (paths). */
  gets: string[];
  /** Largest number of completion requests open at once (abandoned ones stop counting when the client leaves). */
  maxInFlight: number;
  /** Replaces what the GET routes say about the served weights (the completion routes are unchanged). */
  update(metadata: ServedMetadata): void;
  close(): Promise<void>;
}

export async function startOpenAIServer(options: OpenAIServerOptions): Promise<TestOpenAIServer> {
  const requests: ServedRequest[] = [];
  const gets: string[] = [];
  const seen = new Map<string, number>();
  let inFlight = 0;
  const state = { maxInFlight: 0 };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    if (req.method === 'GET') {
      gets.push(url);
      if (url === '/v1/models') {
        return json(res, 200, {
          object: 'list',
          data: (options.models ?? []).map((m) => ({ object: 'model', created: 0, ...m })),
        });
      }
      if (url === '/version' && options.version) return json(res, 200, { version: options.version });
      if (url === '/api/tags' && options.ollamaTags) return json(res, 200, { models: options.ollamaTags });
      if (url === '/props' && options.props) return json(res, 200, options.props);
      if (url === '/lora-adapters' && options.loraAdapters) return json(res, 200, options.loraAdapters);
      return json(res, 404, { error: { message: 'not found' } });
    }
    const route =
      url === '/v1/chat/completions' ? 'chat' : url === '/v1/completions' ? 'completions' : undefined;
    if (req.method !== 'POST' || !route) return json(res, 404, { error: { message: `no route ${url}` } });
    const raw = await readBody(req);
    // biome-ignore lint/suspicious/noExplicitAny: free-form JSON.
    let body: Record<string, any>;
    try {
      body = JSON.parse(raw);
    } catch {
      return json(res, 400, { error: { message: 'request body is not JSON' } });
    }
    const prompt =
      route === 'chat'
        ? String(
            [...(body.messages ?? [])].reverse().find((m: { role: string }) => m.role === 'user')?.content ??
              '',
          )
        : String(body.prompt ?? '');
    const model = String(body.model ?? '');
    const key = `${route}\u0000${model}\u0000${prompt}`;
    const attempt = (seen.get(key) ?? 0) + 1;
    seen.set(key, attempt);
    const choices = constraintChoices(body);
    const served: ServedRequest = {
      route,
      body,
      prompt,
      model,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      attempt,
      ...(choices ? { choices } : {}),
      receivedAt: performance.now(),
    };
    requests.push(served);
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    // A request stops being in flight when answered or when the client gives up on it (timeout).
    let finished = false;
    const finish = () => {
      if (!finished) {
        finished = true;
        inFlight--;
      }
    };
    res.on('close', finish);
    try {
      if (options.latencyMs) await delay(options.latencyMs);
      const fault = options.fault?.(served);
      if (fault) {
        switch (fault.kind) {
          case '429':
            return json(
              res,
              429,
              { error: { message: 'rate limited' } },
              { 'retry-after': fault.retryAfter ?? '1' },
            );
          case '500':
            return json(res, 500, { error: { message: 'internal error' } });
          case 'drop':
            req.socket.destroy();
            return;
          case 'malformed':
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end('{"choices": [{"message": {"content": "jo');
            return;
          case 'status':
            return json(res, fault.status, { error: { message: fault.body ?? `status ${fault.status}` } });
          case 'slow':
            await delay(fault.ms);
            break;
        }
      }
      if (choices && options.acceptsConstraints === false) {
        return json(res, 400, {
          error: { message: 'unsupported parameter: structured_outputs / guided_choice / grammar' },
        });
      }
      const wantsLogprobs = route === 'chat' ? body.logprobs === true : typeof body.logprobs === 'number';
      if (wantsLogprobs && options.acceptsLogprobs === false) {
        // The wording of a hosted API that serves a model without logprobs.
        return json(res, 400, {
          error: { message: "Unsupported parameter: 'logprobs' is not supported with this model." },
        });
      }
      const answer = options.answer(served);
      const reply: Reply = answer === null || typeof answer === 'string' ? { text: answer } : answer;
      let text = reply.text;
      if (choices && text !== null) text = constrain(text, choices);
      const top = reply.top ?? (text ? [{ token: text.split(/\s+/)[0] ?? text, logprob: -0.05 }] : []);
      if (res.destroyed) return;
      json(
        res,
        200,
        route === 'chat'
          ? chatResponse(model, text, wantsLogprobs ? top : undefined)
          : completionResponse(model, text ?? '', wantsLogprobs ? top : undefined),
      );
    } finally {
      finish();
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent && !res.destroyed) json(res, 500, { error: { message: String(err) } });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    gets,
    get maxInFlight() {
      return state.maxInFlight;
    },
    update: (metadata) => Object.assign(options, metadata),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: free-form JSON.
function constraintChoices(body: Record<string, any>): string[] | undefined {
  if (Array.isArray(body.structured_outputs?.choice)) return body.structured_outputs.choice.map(String);
  if (Array.isArray(body.guided_choice)) return body.guided_choice.map(String);
  if (typeof body.grammar === 'string') {
    const m = body.grammar.match(/^root ::= (.*)$/s);
    if (!m?.[1]) return undefined;
    return [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => JSON.parse(`"${x[1]}"`) as string);
  }
  return undefined;
}

/** What a constrained decoder would produce: the choice the free answer begins with, else the first choice. */
function constrain(text: string, choices: string[]): string {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/^[^\p{L}\p{N}-]+/u, '');
  return choices.find((c) => t.startsWith(c.toLowerCase())) ?? choices[0]!;
}

function chatResponse(model: string, text: string | null, top?: TokenLogprob[]) {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 0,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text },
        finish_reason: 'stop',
        logprobs: top
          ? { content: [{ token: top[0]?.token ?? '', logprob: top[0]?.logprob ?? 0, top_logprobs: top }] }
          : null,
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 },
  };
}

function completionResponse(model: string, text: string, top?: TokenLogprob[]) {
  return {
    id: 'cmpl-test',
    object: 'text_completion',
    created: 0,
    model,
    choices: [
      {
        index: 0,
        text,
        finish_reason: 'stop',
        logprobs: top
          ? {
              tokens: [top[0]?.token ?? ''],
              token_logprobs: [top[0]?.logprob ?? 0],
              top_logprobs: [Object.fromEntries(top.map((t) => [t.token, t.logprob]))],
            }
          : null,
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 },
  };
}

function json(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `serve(options)` for a test file: starts a loopback server with `defaults` under `options`, and
 * closes every server it started after each test.
 */
export function serversClosedAfterEach(
  defaults: Partial<OpenAIServerOptions> = { answer: () => 'joy' },
): (options?: Partial<OpenAIServerOptions>) => Promise<TestOpenAIServer> {
  const servers: TestOpenAIServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (options = {}) => {
    const s = await startOpenAIServer({ ...defaults, ...options } as OpenAIServerOptions);
    servers.push(s);
    return s;
  };
}
