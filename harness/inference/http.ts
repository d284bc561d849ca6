/**
 * OpenAI-compatible HTTP client (vLLM, llama.cpp server, Ollama, hosted APIs) with the robustness a
 * long evaluation needs: per-endpoint concurrency (p-limit), several replicas sharing the load, a
 * timeout per attempt (AbortSignal), bounded retries with exponential backoff and jitter on 429, 5xx,
 * 408, timeouts, dropped connections and malformed JSON, and `Retry-After` honoured when a server sends it.
 *
 * Requests go through node:http(s) with keep-alive agents rather than fetch: on a busy machine fetch's
 * per-request overhead cost about 10% of the ideal throughput in bench/served-throughput.bench.ts.
 *
 * A slot of an endpoint's limit is held only while a request is on the wire, never during a backoff
 * wait, so one struggling request does not starve the others. A replica that refuses connections
 * `downAfter` times in a row is marked down for `coolDownMs`: first tries go to the others meanwhile
 * (a dead replica fails fast, so least-loaded picking would otherwise hand it every other first try).
 * The API key lives only in the request header: it is never put into errors, stats or anything
 * returned.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import pLimit, { type LimitFunction } from 'p-limit';

export interface HttpClientOptions {
  /** One or more base URLs of replicas of one deployment, e.g. http://127.0.0.1:8000/v1. */
  baseUrls: readonly string[];
  /** Bearer token, already read from the environment by the caller. */
  apiKey?: string;
  /** Requests in flight per endpoint. */
  concurrency: number;
  /** Limit for one attempt (connect, headers and body). */
  timeoutMs: number;
  /** Retries after the first try; the total number of tries is maxRetries + 1. */
  maxRetries: number;
  /** First backoff step (doubles per retry, "equal jitter"). Default 500 ms. */
  backoffMs?: number;
  /** Longest backoff step. Default 30 s. */
  maxBackoffMs?: number;
  /** Longest Retry-After honoured; longer values are cut to this. Default 120 s. */
  maxRetryAfterMs?: number;
  /** Source of jitter in [0, 1); injectable for tests. */
  random?: () => number;
  /** Connection failures in a row after which a replica is marked down (when there are others). Default 3. */
  downAfter?: number;
  /** How long a replica marked down gets no tries while others are up. Default 30 s. */
  coolDownMs?: number;
}

export type HttpFailureKind = 'http' | 'timeout' | 'network' | 'malformed' | 'aborted';

/** A failed call. `message` names the endpoint, the kind and (for HTTP errors) the status and body excerpt. */
export class HttpCallError extends Error {
  constructor(
    message: string,
    readonly kind: HttpFailureKind,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
    readonly attempts = 1,
  ) {
    super(message);
    this.name = 'HttpCallError';
  }
}

export interface HttpResult<T> {
  json: T;
  /** The base URL that answered. */
  endpoint: string;
  /** Tries used (1 = answered first time). */
  attempts: number;
  /** Wall time of the successful attempt, from sending to the end of the body (queueing excluded). */
  latencyMs: number;
}

export type ProbeResult<T> =
  | { status: 'ok'; json: T }
  | { status: 'refused'; code: number }
  | { status: 'unreachable'; message: string };

export interface EndpointStats {
  baseUrl: string;
  requests: number;
  ok: number;
  failed: number;
  /** Failed tries on this endpoint that were tried again (here or on another replica). */
  retried: number;
  /** Calls whose last try, on this endpoint, failed for good (the example is recorded as an error). */
  gaveUp: number;
  /** Times it was marked down (connections refused `downAfter` times in a row). */
  markedDown: number;
}

export interface HttpClientStats {
  requests: number;
  ok: number;
  retries: number;
  /** Calls that failed after every try (or with a non-retryable error). */
  failures: number;
  /** Retries per cause: "429", "500", "timeout", "network", "malformed"... */
  retryCauses: Record<string, number>;
  endpoints: EndpointStats[];
}

interface Endpoint {
  baseUrl: string;
  limit: LimitFunction;
  stats: EndpointStats;
  /** Tries in a row that could not connect (reset by any HTTP answer, even an error status). */
  connectFailures: number;
  /** performance.now() until which it is marked down; 0 when up. */
  downUntil: number;
}

/** Errors that mean nothing is listening at the address (or it cannot be reached), before any exchange. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export class OpenAICompatibleClient {
  readonly #endpoints: Endpoint[];
  readonly #opts: Required<Omit<HttpClientOptions, 'apiKey'>> & { apiKey?: string };
  #rr = 0;
  /** The one 'abort' listener per caller's signal, shared by every attempt and backoff wait on it. */
  readonly #aborts = new AbortWatch();
  readonly #agents = {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true }),
  };
  readonly #stats = {
    requests: 0,
    ok: 0,
    retries: 0,
    failures: 0,
    retryCauses: {} as Record<string, number>,
  };

  constructor(options: HttpClientOptions) {
    if (options.baseUrls.length === 0) throw new Error('OpenAICompatibleClient needs at least one base URL');
    this.#opts = {
      backoffMs: 500,
      maxBackoffMs: 30_000,
      maxRetryAfterMs: 120_000,
      random: Math.random,
      downAfter: 3,
      coolDownMs: 30_000,
      ...options,
    };
    this.#endpoints = options.baseUrls.map((baseUrl) => ({
      baseUrl: baseUrl.replace(/\/+$/, ''),
      limit: pLimit(options.concurrency),
      stats: {
        baseUrl: baseUrl.replace(/\/+$/, ''),
        requests: 0,
        ok: 0,
        failed: 0,
        retried: 0,
        gaveUp: 0,
        markedDown: 0,
      },
      connectFailures: 0,
      downUntil: 0,
    }));
  }

  /** Requests that may be on the wire at once over all endpoints. */
  get capacity(): number {
    return this.#opts.concurrency * this.#endpoints.length;
  }

  get baseUrls(): string[] {
    return this.#endpoints.map((e) => e.baseUrl);
  }

  stats(): HttpClientStats {
    return {
      ...this.#stats,
      retryCauses: { ...this.#stats.retryCauses },
      endpoints: this.#endpoints.map((e) => ({ ...e.stats })),
    };
  }

  /**
   * POSTs `body` as JSON to `path` (e.g. "/chat/completions") on the least-loaded endpoint, retrying
   * as described in the module comment. Rejects with HttpCallError after the last try; rejects at once
   * with kind "aborted" when `signal` fires (the run was interrupted: nothing is to be recorded).
   */
  async postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<HttpResult<T>> {
    const payload = JSON.stringify(body);
    let last: Endpoint | undefined;
    for (let attempt = 0; ; attempt++) {
      const ep = this.#pick(last);
      last = ep;
      try {
        // Latency is timed inside the slot: time spent queued behind other requests is not the server's.
        const { json, ms } = await ep.limit(async () => {
          const started = performance.now();
          const value = await this.#attempt<T>(ep, path, payload, signal);
          return { json: value, ms: performance.now() - started };
        });
        this.#stats.ok++;
        return { json, endpoint: ep.baseUrl, attempts: attempt + 1, latencyMs: ms };
      } catch (err) {
        const e = toCallError(err, ep.baseUrl);
        if (!e.retryable || attempt >= this.#opts.maxRetries) {
          this.#stats.failures++;
          if (e.kind !== 'aborted') ep.stats.gaveUp++;
          const tries = attempt + 1;
          throw new HttpCallError(
            e.retryable ? `${e.message} (gave up after ${tries} tries)` : e.message,
            e.kind,
            e.retryable,
            e.status,
            e.retryAfterMs,
            tries,
          );
        }
        this.#stats.retries++;
        ep.stats.retried++;
        const cause = e.kind === 'http' ? String(e.status) : e.kind;
        this.#stats.retryCauses[cause] = (this.#stats.retryCauses[cause] ?? 0) + 1;
        await this.#sleep(this.#delay(attempt, e.retryAfterMs), signal);
      }
    }
  }

  /**
   * One GET without retries (server probes): the JSON, the HTTP status of a refusal, or `unreachable`
   * (connection failed, timed out, or a 5xx: the server is not there or not well).
   */
  async probeJson<T>(url: string, timeoutMs = this.#opts.timeoutMs): Promise<ProbeResult<T>> {
    let res: { status: number; text: string };
    try {
      res = await this.#send(url, 'GET', undefined, AbortSignal.timeout(timeoutMs));
    } catch (err) {
      return { status: 'unreachable', message: `${url}: ${networkCause(err)}` };
    }
    if (res.status >= 500) return { status: 'unreachable', message: `${url}: HTTP ${res.status}` };
    if (res.status < 200 || res.status >= 300) return { status: 'refused', code: res.status };
    try {
      return { status: 'ok', json: JSON.parse(res.text) as T };
    } catch {
      return { status: 'refused', code: res.status };
    }
  }

  /** Waits `ms` before a retry; rejects with kind "aborted" as soon as `signal` fires. */
  #sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new HttpCallError('aborted', 'aborted', false));
        return;
      }
      const unwatch = signal
        ? this.#aborts.watch(signal, () => {
            clearTimeout(t);
            reject(new HttpCallError('aborted', 'aborted', false));
          })
        : undefined;
      const t = setTimeout(() => {
        unwatch?.();
        resolve();
      }, ms);
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  /** Backoff before retry number `attempt + 1`: Retry-After when given, else exponential with jitter. */
  #delay(attempt: number, retryAfterMs: number | undefined): number {
    const { backoffMs, maxBackoffMs, maxRetryAfterMs, random } = this.#opts;
    if (retryAfterMs !== undefined) {
      // Honour the server's wish; a little jitter (never below it) keeps replicas' clients apart.
      return Math.min(retryAfterMs, maxRetryAfterMs) + random() * Math.min(50, backoffMs);
    }
    const step = Math.min(maxBackoffMs, backoffMs * 2 ** attempt);
    return step / 2 + random() * (step / 2);
  }

  /**
   * Least loaded endpoint (active + queued), round-robin among equals. Preference, best first: up and
   * not `previous` (a retry goes elsewhere), up, marked down and not `previous`, any. So a retry after
   * a live replica's 503 goes to that replica again rather than to one known to refuse connections.
   */
  #pick(previous?: Endpoint): Endpoint {
    const n = this.#endpoints.length;
    const start = this.#rr++ % n;
    const now = performance.now();
    let best: Endpoint | undefined;
    let bestRank = Number.POSITIVE_INFINITY;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const ep = this.#endpoints[(start + i) % n]!;
      const rank = (ep.downUntil > now ? 2 : 0) + (ep === previous ? 1 : 0);
      const load = ep.limit.activeCount + ep.limit.pendingCount;
      if (rank < bestRank || (rank === bestRank && load < bestLoad)) {
        best = ep;
        bestRank = rank;
        bestLoad = load;
      }
    }
    return best!;
  }

  /** Counts a try that could not connect; marks the replica down after `downAfter` in a row. */
  #connectFailed(ep: Endpoint): void {
    ep.connectFailures++;
    const now = performance.now();
    // One replica has no other to send tries to: marking it down would change nothing.
    if (this.#endpoints.length < 2 || ep.connectFailures < this.#opts.downAfter || ep.downUntil > now) return;
    // Still refusing after a cool-down (its failures were never reset): marked down again at once.
    ep.downUntil = now + this.#opts.coolDownMs;
    ep.stats.markedDown++;
  }

  #headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (json) h['content-type'] = 'application/json';
    if (this.#opts.apiKey) h.authorization = `Bearer ${this.#opts.apiKey}`;
    return h;
  }

  /** One HTTP exchange; rejects on connection errors, early close or `signal`. */
  #send(
    url: string,
    method: 'GET' | 'POST',
    payload: string | undefined,
    signal: AbortSignal,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const u = new URL(url);
      const https = u.protocol === 'https:';
      const headers = this.#headers(payload !== undefined);
      if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
      let settled = false;
      const done = (err: unknown, value?: { status: number; headers: IncomingHttpHeaders; text: string }) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value!);
      };
      const req = (https ? httpsRequest : httpRequest)(
        u,
        { method, headers, agent: https ? this.#agents.https : this.#agents.http },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => done(err));
          res.on('aborted', () => done(new Error('connection closed before the response ended')));
          res.on('end', () =>
            done(undefined, {
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('close', () => done(new Error('connection closed before the response ended')));
        },
      );
      const onAbort = () => {
        req.destroy();
        done(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => done(err));
      req.end(payload);
    });
  }

  /** The text with the API key, wherever it appears, replaced. */
  #redact(text: string): string {
    const key = this.#opts.apiKey;
    return key ? text.split(key).join('<redacted>') : text;
  }

  async #attempt<T>(ep: Endpoint, path: string, payload: string, outer?: AbortSignal): Promise<T> {
    if (outer?.aborted) throw new HttpCallError(`${ep.baseUrl}: aborted`, 'aborted', false);
    // The attempt's own signal, fired by its timeout or by the run's signal. Not AbortSignal.any():
    // that ties every attempt to the long-lived run signal; here the tie is undone when the attempt
    // ends (unwatch), so a storm of failing requests leaves nothing attached to the run's signal.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`timed out after ${this.#opts.timeoutMs} ms`));
    }, this.#opts.timeoutMs);
    const unwatch = outer ? this.#aborts.watch(outer, () => controller.abort(outer.reason)) : undefined;
    const url = `${ep.baseUrl}${path}`;
    this.#stats.requests++;
    ep.stats.requests++;
    const fail = (err: unknown): HttpCallError => {
      ep.stats.failed++;
      if (outer?.aborted) return new HttpCallError(`${url}: aborted`, 'aborted', false);
      if (timedOut)
        return new HttpCallError(`${url}: timed out after ${this.#opts.timeoutMs} ms`, 'timeout', true);
      if (err instanceof HttpCallError) return err;
      if (CONNECT_ERRORS.has((err as { code?: string })?.code ?? '')) this.#connectFailed(ep);
      return new HttpCallError(`${url}: connection failed (${networkCause(err)})`, 'network', true);
    };
    let text: string;
    let status: number;
    let retryAfterMs: number | undefined;
    try {
      const res = await this.#send(url, 'POST', payload, controller.signal);
      status = res.status;
      text = res.text;
      retryAfterMs = parseRetryAfter(res.headers);
    } catch (err) {
      throw fail(err);
    } finally {
      clearTimeout(timer);
      unwatch?.();
    }
    // It answered (whatever the status): it is up.
    ep.connectFailures = 0;
    ep.downUntil = 0;
    if (status < 200 || status >= 300) {
      ep.stats.failed++;
      const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
      // Some servers and proxies echo the request's credentials in an error body: never keep them.
      const excerpt = this.#redact(text).replace(/\s+/g, ' ').slice(0, 200);
      throw new HttpCallError(
        `${url}: HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`,
        'http',
        retryable,
        status,
        retryAfterMs,
      );
    }
    try {
      const json = JSON.parse(text) as T;
      ep.stats.ok++;
      return json;
    } catch {
      ep.stats.failed++;
      // A truncated or garbled body is a server or proxy fault, usually transient: retried.
      throw new HttpCallError(
        `${url}: malformed JSON in response: ${this.#redact(text).slice(0, 80)}`,
        'malformed',
        true,
        status,
      );
    }
  }
}

function toCallError(err: unknown, baseUrl: string): HttpCallError {
  if (err instanceof HttpCallError) return err;
  return new HttpCallError(
    `${baseUrl}: ${err instanceof Error ? err.message : String(err)}`,
    'network',
    true,
  );
}

/** "ECONNRESET", "UND_ERR_SOCKET: other side closed", ... from undici's nested causes. */
function networkCause(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const x = e as { code?: string; message?: string; cause?: unknown };
    parts.push(x.code ? `${x.code}${x.message ? `: ${x.message}` : ''}` : (x.message ?? String(e)));
    e = x.cause;
  }
  return parts.join(' <- ');
}

/** Retry-After as seconds or an HTTP date; `retry-after-ms` (sent by some hosted APIs) wins. */
export function parseRetryAfter(
  headers: Headers | IncomingHttpHeaders,
  now = Date.now(),
): number | undefined {
  const get = (name: string): string | null => {
    if (headers instanceof Headers) return headers.get(name);
    const v = headers[name];
    return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
  };
  const ms = get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms);
  const v = get('retry-after');
  if (v === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Watches callers' AbortSignals with one 'abort' listener per signal, however many attempts and
 * backoff waits are pending on it. A run hands the same signal to every request: a listener per
 * request and retry would pile up (Node warns past 10: MaxListenersExceededWarning) whenever many
 * requests fail and wait at once. The listener is removed when its last watcher is done, so a
 * finished storm leaves nothing attached to the signal.
 */
class AbortWatch {
  readonly #watched = new Map<AbortSignal, { fns: Set<() => void>; onAbort: () => void }>();

  /** Calls `fn` once if `signal` fires; the returned function stops watching (call it when done). */
  watch(signal: AbortSignal, fn: () => void): () => void {
    let entry = this.#watched.get(signal);
    if (!entry) {
      const fns = new Set<() => void>();
      const onAbort = () => {
        this.#watched.delete(signal);
        for (const f of fns) f();
        fns.clear();
      };
      entry = { fns, onAbort };
      this.#watched.set(signal, entry);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const e = entry;
    e.fns.add(fn);
    return () => {
      if (!e.fns.delete(fn) || e.fns.size > 0 || this.#watched.get(signal) !== e) return;
      this.#watched.delete(signal);
      signal.removeEventListener('abort', e.onAbort);
    };
  }
}
