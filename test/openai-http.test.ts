import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { HttpCallError, OpenAICompatibleClient, parseRetryAfter } from '../harness/inference/http.ts';
import { type Fault, serversClosedAfterEach } from './support/openai-server.ts';

const serve = serversClosedAfterEach();

function client(
  baseUrls: string[],
  extra: Partial<ConstructorParameters<typeof OpenAICompatibleClient>[0]> = {},
) {
  return new OpenAICompatibleClient({
    baseUrls,
    concurrency: 4,
    timeoutMs: 2000,
    maxRetries: 3,
    backoffMs: 10,
    ...extra,
  });
}

const chat = (content: string) => ({ model: 'm', messages: [{ role: 'user', content }] });

/** Fails the first `n` tries of every prompt with `fault`. */
const firstTries =
  (n: number, fault: Fault) =>
  ({ attempt }: { attempt: number }) =>
    attempt <= n ? fault : undefined;

describe('OpenAICompatibleClient retries', () => {
  it('honours Retry-After on 429 (measured at the server)', async () => {
    const s = await serve({ fault: firstTries(1, { kind: '429', retryAfter: '1' }) });
    const res = await client([s.baseUrl]).postJson('/chat/completions', chat('a'));
    expect(res.attempts).toBe(2);
    expect(s.requests).toHaveLength(2);
    const gap = s.requests[1]!.receivedAt - s.requests[0]!.receivedAt;
    // backoffMs is 10 ms: only Retry-After explains a wait of a second.
    expect(gap).toBeGreaterThanOrEqual(990);
    expect(gap).toBeLessThan(1800);
  });

  it('retries 500, dropped connections and malformed JSON, then answers', async () => {
    for (const fault of [{ kind: '500' }, { kind: 'drop' }, { kind: 'malformed' }] as Fault[]) {
      const s = await serve({ fault: firstTries(2, fault) });
      const c = client([s.baseUrl]);
      const res = await c.postJson<{ choices: { message: { content: string } }[] }>(
        '/chat/completions',
        chat('a'),
      );
      expect(res.json.choices[0]!.message.content).toBe('joy');
      expect(res.attempts).toBe(3);
      expect(s.requests).toHaveLength(3);
      expect(c.stats().retries).toBe(2);
    }
  });

  it('gives up after maxRetries + 1 tries with the cause in the message', async () => {
    const s = await serve({ fault: () => ({ kind: '500' }) });
    const c = client([s.baseUrl], { maxRetries: 2 });
    const err = await c.postJson('/chat/completions', chat('a')).catch((e) => e);
    expect(err).toBeInstanceOf(HttpCallError);
    expect(err.message).toMatch(/HTTP 500.*gave up after 3 tries/);
    expect(err.attempts).toBe(3);
    expect(s.requests).toHaveLength(3);
    expect(c.stats()).toMatchObject({ failures: 1, retries: 2, retryCauses: { '500': 2 } });
  });

  it('does not retry a 400', async () => {
    const s = await serve({ fault: () => ({ kind: 'status', status: 400, body: 'bad model' }) });
    const err = await client([s.baseUrl])
      .postJson('/chat/completions', chat('a'))
      .catch((e) => e);
    expect(err.message).toMatch(/HTTP 400: .*bad model/);
    expect(err.retryable).toBe(false);
    expect(s.requests).toHaveLength(1);
  });

  it('times out a slow answer per attempt and retries it', async () => {
    const s = await serve({ fault: () => ({ kind: 'slow', ms: 1500 }) });
    const started = performance.now();
    const err = await client([s.baseUrl], { timeoutMs: 150, maxRetries: 1 })
      .postJson('/chat/completions', chat('a'))
      .catch((e) => e);
    const elapsed = performance.now() - started;
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/timed out after 150 ms.*gave up after 2 tries/);
    expect(s.requests).toHaveLength(2);
    // Two tries of 150 ms plus a short backoff: far less than one slow answer.
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1200);
  });

  it('backs off exponentially (equal jitter: at least half of each doubling step)', async () => {
    const s = await serve({ fault: firstTries(3, { kind: '500' }) });
    await client([s.baseUrl], { backoffMs: 100, random: () => 0 }).postJson('/chat/completions', chat('a'));
    const t = s.requests.map((r) => r.receivedAt);
    const gaps = [t[1]! - t[0]!, t[2]! - t[1]!, t[3]! - t[2]!];
    // Steps 100, 200, 400 ms; with zero jitter the waits are 50, 100, 200 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(48);
    expect(gaps[1]).toBeGreaterThanOrEqual(98);
    expect(gaps[2]).toBeGreaterThanOrEqual(198);
    expect(gaps[2]!).toBeLessThan(600);
  });

  it('rejects at once, without retries, when the run is aborted', async () => {
    const s = await serve({ fault: () => ({ kind: 'slow', ms: 2000 }) });
    const ac = new AbortController();
    const p = client([s.baseUrl], { timeoutMs: 5000 }).postJson('/chat/completions', chat('a'), ac.signal);
    setTimeout(() => ac.abort(), 100);
    const err = await p.catch((e) => e);
    expect(err.kind).toBe('aborted');
    expect(s.requests).toHaveLength(1);
  });
});

describe('OpenAICompatibleClient concurrency and endpoints', () => {
  it('keeps at most `concurrency` requests in flight per endpoint and spreads load over replicas', async () => {
    const a = await serve({ latencyMs: 40 });
    const b = await serve({ latencyMs: 40 });
    const c = client([a.baseUrl, b.baseUrl], { concurrency: 3 });
    await Promise.all(Array.from({ length: 24 }, (_, i) => c.postJson('/chat/completions', chat(String(i)))));
    expect(a.maxInFlight).toBe(3);
    expect(b.maxInFlight).toBe(3);
    expect(a.requests.length + b.requests.length).toBe(24);
    expect(a.requests.length).toBe(12);
  });

  it('sends a retry to another replica when there is one', async () => {
    const bad = await serve({ fault: () => ({ kind: '500' }) });
    const good = await serve();
    const c = client([bad.baseUrl, good.baseUrl], { concurrency: 1 });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => c.postJson('/chat/completions', chat(String(i)))),
    );
    for (const r of results) expect(r.endpoint).toBe(good.baseUrl.replace(/\/+$/, ''));
    expect(bad.requests.length).toBeLessThanOrEqual(6);
  });

  it('sends the API key as a bearer token and never puts it in errors or stats', async () => {
    const key = 'sk-test-SECRET-123';
    const s = await serve({ fault: () => ({ kind: 'status', status: 401 }) });
    const c = client([s.baseUrl], { apiKey: key });
    const err = await c.postJson('/chat/completions', chat('a')).catch((e) => e);
    expect(s.requests[0]!.authorization).toBe(`Bearer ${key}`);
    expect(String(err.message)).not.toContain(key);
    expect(JSON.stringify(c.stats())).not.toContain(key);
  });

  it('redacts the API key when an error body echoes it back (some proxies do)', async () => {
    const key = 'sk-test-SECRET-456';
    const s = await serve({
      fault: () => ({ kind: 'status', status: 401, body: `invalid key Bearer ${key} for this model` }),
    });
    const c = client([s.baseUrl], { apiKey: key });
    const err = await c.postJson('/chat/completions', chat('a')).catch((e) => e);
    expect(String(err.message)).toContain('HTTP 401');
    expect(String(err.message)).toContain('invalid key Bearer <redacted> for this model');
    expect(String(err.message)).not.toContain(key);
  });

  it('counts retries and give-ups per endpoint', async () => {
    const good = await serve();
    const bad = await serve({ fault: () => ({ kind: 'status', status: 500 }) });
    // maxRetries 0: every failure on the bad replica is final.
    const strict = client([bad.baseUrl], { maxRetries: 0 });
    await Promise.all(
      [1, 2, 3].map((i) => strict.postJson('/chat/completions', chat(String(i))).catch(() => 0)),
    );
    expect(strict.stats().endpoints[0]).toMatchObject({ requests: 3, failed: 3, retried: 0, gaveUp: 3 });
    // With a good replica beside it, a failure on the bad one is retried (on the good one), never final.
    const both = client([bad.baseUrl, good.baseUrl], { maxRetries: 3 });
    await Promise.all([1, 2, 3, 4].map((i) => both.postJson('/chat/completions', chat(String(i)))));
    const [b, g] = both.stats().endpoints;
    expect(b!.retried).toBe(b!.requests);
    expect(b!.gaveUp).toBe(0);
    expect(g).toMatchObject({ ok: 4, failed: 0, retried: 0, gaveUp: 0 });
    expect(both.stats().retries).toBe(b!.retried);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds, an HTTP date and retry-after-ms', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(parseRetryAfter(new Headers({ 'retry-after': '2', 'retry-after-ms': '250' }), now)).toBe(250);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
  });
});

describe('OpenAICompatibleClient latency', () => {
  it('times the attempt itself, not the wait for a free slot', async () => {
    const s = await serve({ latencyMs: 100 });
    const c = client([s.baseUrl], { concurrency: 1 });
    const results = await Promise.all([0, 1, 2].map((i) => c.postJson('/chat/completions', chat(String(i)))));
    // The third request waited ~200 ms for the slot; its own latency is still about 100 ms.
    for (const r of results) {
      expect(r.latencyMs).toBeGreaterThanOrEqual(95);
      expect(r.latencyMs).toBeLessThan(190);
    }
  });
});

describe('OpenAICompatibleClient and the run signal', () => {
  /** MaxListenersExceededWarnings emitted while `body` runs (Node emits them on the next tick). */
  async function listenerWarnings(body: () => Promise<void>): Promise<Error[]> {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      await body();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    return warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
  }

  it('a storm of failing requests on one signal keeps one abort listener on it, and none after', async () => {
    const s = await serve({ fault: () => ({ kind: 'status', status: 503 }) });
    const ac = new AbortController();
    let most = 0;
    const warnings = await listenerWarnings(async () => {
      // 60 requests failing 4 times each, all waiting out their backoffs at the same time.
      const c = client([s.baseUrl], { concurrency: 8, maxRetries: 3, backoffMs: 20, maxBackoffMs: 40 });
      const sample = setInterval(() => {
        most = Math.max(most, getEventListeners(ac.signal, 'abort').length);
      }, 1);
      const kinds = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          c.postJson('/chat/completions', chat(`p${i}`), ac.signal).then(
            () => 'answered',
            (e: HttpCallError) => e.kind,
          ),
        ),
      );
      clearInterval(sample);
      c.close();
      expect(kinds).toEqual(Array(60).fill('http'));
    });
    expect(s.requests).toHaveLength(240);
    expect(warnings).toEqual([]);
    // The sampler saw the one shared listener (so it did look while requests were pending)...
    expect(most).toBe(1);
    // ...and nothing stays attached to the run's signal once they are done.
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('the shared listener still aborts every pending attempt and backoff wait at once', async () => {
    // Half the prompts hang (in flight when the run is stopped), half fail and wait out a long backoff.
    const s = await serve({
      fault: (r) =>
        Number(r.prompt.slice(1)) % 2 ? { kind: 'slow', ms: 5000 } : { kind: 'status', status: 503 },
    });
    const ac = new AbortController();
    const c = client([s.baseUrl], { concurrency: 20, timeoutMs: 10_000, backoffMs: 5000 });
    const warnings = await listenerWarnings(async () => {
      const pending = Array.from({ length: 30 }, (_, i) =>
        c.postJson('/chat/completions', chat(`p${i}`), ac.signal).then(
          () => 'answered',
          (e: HttpCallError) => e.kind,
        ),
      );
      await new Promise((r) => setTimeout(r, 600));
      const started = performance.now();
      ac.abort();
      expect(await Promise.all(pending)).toEqual(Array(30).fill('aborted'));
      expect(performance.now() - started).toBeLessThan(500);
    });
    c.close();
    expect(warnings).toEqual([]);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});

describe('OpenAICompatibleClient with a replica that is down', () => {
  /** Nothing listens on port 1: connections are refused at once. */
  const DEAD = 'http://127.0.0.1:1/v1';

  it('marks it down after 3 refused connections in a row: first tries go to the live replica', async () => {
    const live = await serve();
    const c = client([DEAD, live.baseUrl], { concurrency: 4, backoffMs: 1 });
    // Six batches of ten, as the runner sends them: a batch's first tries are all placed at once.
    const results = [];
    for (let b = 0; b < 6; b++) {
      results.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, (_, i) => c.postJson('/chat/completions', chat(`p${b}-${i}`))),
        )),
      );
    }
    const [dead, up] = c.stats().endpoints;
    expect(results.every((r) => r.endpoint === live.baseUrl)).toBe(true);
    expect(live.requests).toHaveLength(60);
    // Least-loaded picking alone hands a replica that fails at once half of every batch's first
    // tries; marked down, it gets only half of the first batch (5), before it is known to refuse.
    expect(dead!.requests).toBe(5);
    expect(dead!.markedDown).toBe(1);
    expect(up!.markedDown).toBe(0);
    expect(results.filter((r) => r.attempts === 1)).toHaveLength(55);
  });

  it('after the cool-down it gets one try again, and is marked down again at once if still refusing', async () => {
    const live = await serve();
    const c = client([DEAD, live.baseUrl], { concurrency: 1, backoffMs: 1, coolDownMs: 500 });
    const ask = (i: number) => c.postJson('/chat/completions', chat(`p${i}`));
    for (let i = 0; i < 10; i++) await ask(i);
    const before = c.stats().endpoints[0]!;
    expect(before).toMatchObject({ requests: 3, markedDown: 1 });
    await new Promise((r) => setTimeout(r, 600));
    for (let i = 10; i < 20; i++) await ask(i);
    // One try after the cool-down (which the live replica then answered), and down again.
    expect(c.stats().endpoints[0]).toMatchObject({ requests: 4, markedDown: 2 });
  });

  it('a replica that answers, even with errors, is not marked down; one alone never is', async () => {
    const failing = await serve({ fault: () => ({ kind: '500' }) });
    const live = await serve();
    const c = client([failing.baseUrl, live.baseUrl], { concurrency: 2, backoffMs: 1 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.postJson('/chat/completions', chat(`p${i}`))));
    expect(c.stats().endpoints.map((e) => e.markedDown)).toEqual([0, 0]);
    const alone = client([DEAD], { maxRetries: 4, backoffMs: 1 });
    await expect(alone.postJson('/chat/completions', chat('x'))).rejects.toThrow(/ECONNREFUSED/);
    expect(alone.stats().endpoints[0]).toMatchObject({ requests: 5, markedDown: 0 });
  });
});
