import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openaiAdapterFactory } from '../adapters/openai/index.ts';
import { Rng } from '../harness/random.ts';
import type { Adapter, Example, Prediction } from '../harness/types.ts';
import { example, type TestLog, testCell, testEnv, testProtocol } from './support/openai-cell.ts';
import { type Fault, type Reply, serversClosedAfterEach } from './support/openai-server.ts';

/** Answers keyed by the utterance, which every template puts at the end of the last user message. */
const TABLE: Record<string, string | Reply> = {
  'I won the lottery': 'joy',
  'My dog died': 'Sadness.',
  'The bus is at nine': 'neutral',
  'Best day ever': 'Happy!',
  'Whatever you say': 'I cannot tell from this sentence.',
};
function lookup(prompt: string): string | Reply | null {
  const key = Object.keys(TABLE).find((k) => prompt.endsWith(k) || prompt.includes(`${k}\n`));
  return key === undefined ? 'neutral' : TABLE[key]!;
}

const serve = serversClosedAfterEach({
  answer: (r) => lookup(r.prompt),
  models: [{ id: 'base-model', owned_by: 'someone' }],
});

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'openai-adapter-'));
}

async function make(raw: Record<string, unknown>, cacheDir: string): Promise<Adapter> {
  const config = openaiAdapterFactory.parseConfig({ id: 'llm', type: 'openai', model: 'base-model', ...raw });
  return openaiAdapterFactory.create({ ...config, id: String(raw.id ?? 'llm') }, testEnv(cacheDir));
}

const examples: Example[] = [
  example('e1', 'I won the lottery', 'joy'),
  example('e2', 'My dog died', 'sadness'),
  example('e3', 'The bus is at nine', 'neutral'),
  example('e4', 'Best day ever', 'joy'),
  example('e5', 'Whatever you say', 'neutral'),
];

function essence(p: Prediction) {
  return { id: p.id, label: p.label, parse: p.parse, raw: p.raw };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

describe('openai adapter: free-text answers', () => {
  it('answers every example once, in order, parsing labels, synonyms and unparseable text', async () => {
    const s = await serve();
    const adapter = await make({ baseUrl: s.baseUrl, server: 'generic' }, await tmp());
    const ctx = testCell(examples);
    const preds = await adapter.predict(examples, ctx);
    expect(preds.map(essence)).toEqual([
      { id: 'e1', label: 'joy', parse: 'ok', raw: 'joy' },
      { id: 'e2', label: 'sadness', parse: 'ok', raw: 'Sadness.' },
      { id: 'e3', label: 'neutral', parse: 'ok', raw: 'neutral' },
      { id: 'e4', label: 'joy', parse: 'ok', raw: 'Happy!' },
      { id: 'e5', label: null, parse: 'unparseable', raw: 'I cannot tell from this sentence.' },
    ]);
    expect(s.requests).toHaveLength(5);
    expect(new Set(s.requests.map((r) => r.prompt)).size).toBe(5);
    // peng2023 by default, greedy, no constraint, no logprobs.
    expect(s.requests[0]!.body).toEqual({
      model: 'base-model',
      messages: [
        {
          role: 'user',
          content: 'Classify the sentiment of the sentence to neutral, joy or sadness: I won the lottery',
        },
      ],
      max_tokens: 16,
      temperature: 0,
    });
    expect(adapter.facts!()).toMatchObject({
      thisInvocation: { answers: { ok: 4, lenient: 0, unparseable: 1, error: 0 } },
    });
    // Run-wide counts are the runner's (recomputed from the predictions files), not the adapter's.
    expect(adapter.facts!()).not.toHaveProperty('parseRate');
  });

  it('marks lenient guesses when the config asks for them, and counts them apart from parsed answers', async () => {
    const s = await serve({
      answer: (r) => (r.prompt.endsWith('My dog died') ? 'sadness' : 'The speaker is clearly sad here'),
    });
    const adapter = await make({ baseUrl: s.baseUrl, server: 'generic', lenient: true }, await tmp());
    const preds = await adapter.predict(examples.slice(0, 2), testCell(examples));
    expect(preds[0]).toMatchObject({ label: 'sadness', parse: 'ok', lenient: true });
    expect(preds[1]).toMatchObject({ label: 'sadness', parse: 'ok' });
    expect(preds[1]!.lenient).toBeUndefined();
    expect(adapter.facts!()).toMatchObject({
      lenientParsing: true,
      thisInvocation: { answers: { ok: 1, lenient: 1, unparseable: 0, error: 0 } },
    });
  });
});

describe('openai adapter: faults', () => {
  it('records every example as answered or as an error, with retries bounded', async () => {
    const batch = Array.from({ length: 8 }, (_, i) => example(`f${i}`, `utterance ${i}`, 'neutral'));
    const s = await serve({
      answer: (r) => (r.prompt.endsWith('utterance 7') ? 'no idea' : 'joy'),
      fault: (r) => {
        const i = Number(r.prompt.at(-1));
        if (i === 0 && r.attempt === 1) return { kind: '429', retryAfter: '0.3' };
        if (i === 1 && r.attempt <= 2) return { kind: '500' };
        if (i === 2 && r.attempt === 1) return { kind: 'drop' };
        if (i === 3) return { kind: 'malformed' };
        if (i === 4) return { kind: 'slow', ms: 2000 };
        if (i === 5) return { kind: 'status', status: 404, body: 'model not found' };
        if (i === 6 && r.attempt === 1) return { kind: 'malformed' };
        return undefined;
      },
    });
    const adapter = await make(
      { baseUrl: s.baseUrl, server: 'generic', timeoutMs: 250, maxRetries: 2, backoffMs: 5 },
      await tmp(),
    );
    const preds = await adapter.predict(batch, testCell(batch));
    expect(preds.map((p) => p.id)).toEqual(batch.map((e) => e.id));
    expect(preds.map((p) => p.parse)).toEqual([
      'ok',
      'ok',
      'ok',
      'error',
      'error',
      'error',
      'ok',
      'unparseable',
    ]);
    expect(preds[3]!.error).toMatch(/malformed JSON.*gave up after 3 tries/);
    expect(preds[4]!.error).toMatch(/timed out after 250 ms/);
    expect(preds[5]!.error).toMatch(/HTTP 404.*model not found/);
    for (const p of preds.filter((x) => x.parse === 'error')) expect(p.label).toBeNull();
    const tries = (i: number) => s.requests.filter((r) => r.prompt.endsWith(`utterance ${i}`)).length;
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(tries)).toEqual([2, 3, 2, 3, 3, 1, 2, 1]);
    // The 429'd example waited for Retry-After (0.3 s), not for the 5 ms backoff.
    const t0 = s.requests.filter((r) => r.prompt.endsWith('utterance 0')).map((r) => r.receivedAt);
    expect(t0[1]! - t0[0]!).toBeGreaterThanOrEqual(290);
  });

  it('under random faults on two replicas: one prediction per example, bounded tries, answers right', async () => {
    const rng = new Rng(11);
    const kinds: Fault[] = [
      { kind: '429', retryAfter: '0.05' },
      { kind: '500' },
      { kind: 'drop' },
      { kind: 'malformed' },
      { kind: 'slow', ms: 400 },
    ];
    // Decide each try's fault up front (seeded), so both replicas agree on what a try gets.
    const plan = new Map<string, Fault | undefined>();
    const fault = (r: { prompt: string; attempt: number }) => {
      const k = `${r.prompt}#${r.attempt}`;
      if (!plan.has(k)) plan.set(k, rng.next() < 0.3 ? kinds[rng.int(kinds.length)] : undefined);
      return plan.get(k);
    };
    const answer = (r: { prompt: string }) => (Number(r.prompt.split(' ').at(-1)) % 2 ? 'joy' : 'sadness');
    const a = await serve({ answer, fault });
    const b = await serve({ answer, fault });
    const batch = Array.from({ length: 120 }, (_, i) =>
      example(`r${i}`, `random ${i}`, i % 2 ? 'joy' : 'sadness'),
    );
    const adapter = await make(
      {
        baseUrl: [a.baseUrl, b.baseUrl],
        server: 'generic',
        timeoutMs: 150,
        maxRetries: 3,
        backoffMs: 2,
        concurrency: 6,
      },
      await tmp(),
    );
    const preds = await adapter.predict(batch, testCell(batch));
    expect(preds.map((p) => p.id)).toEqual(batch.map((e) => e.id));
    const all = [...a.requests, ...b.requests];
    for (const [i, p] of preds.entries()) {
      const tries = all.filter((r) => r.prompt.endsWith(`random ${i}`)).length;
      expect(tries).toBeGreaterThanOrEqual(1);
      expect(tries).toBeLessThanOrEqual(4);
      if (p.parse === 'ok') expect(p.label).toBe(batch[i]!.label);
      else {
        expect(p.parse).toBe('error');
        expect(tries).toBe(4);
      }
    }
    expect(preds.filter((p) => p.parse === 'ok').length).toBeGreaterThan(100);
    // (The per-endpoint bound is checked without faults in openai-http.test.ts: a timed-out request
    // may still be open at the server for a moment after the client has moved on.)
  });

  it('a replica that refuses connections is marked down: later batches go to the live one, and the summary says so', async () => {
    const live = await serve();
    const dead = 'http://127.0.0.1:1/v1';
    const adapter = await make(
      { baseUrl: [dead, live.baseUrl], server: 'generic', concurrency: 4, backoffMs: 1 },
      await tmp(),
    );
    const all = Array.from({ length: 48 }, (_, i) => example(`d${i}`, `down ${i}`, 'joy'));
    const preds: Prediction[] = [];
    for (let i = 0; i < all.length; i += adapter.batchSize!) {
      preds.push(...(await adapter.predict(all.slice(i, i + adapter.batchSize!), testCell(all))));
    }
    expect(preds.every((p) => p.parse === 'ok')).toBe(true);
    expect(live.requests).toHaveLength(48);
    // At most half of the first batch (16) was placed on it before it was known to refuse (without
    // marking it down, it would get about half of every batch: 24); nothing after.
    const endpoints = (adapter.facts!().http as { endpoints: { baseUrl: string; requests: number }[] })
      .endpoints;
    const tries = endpoints.find((e) => e.baseUrl === dead)!.requests;
    expect(tries).toBeGreaterThanOrEqual(3);
    expect(tries).toBeLessThanOrEqual(8);
    expect(adapter.summary!()).toContain(
      `http://127.0.0.1:1/v1: ${tries} requests, ${tries} failed (${tries} retried, 0 gave up), marked down 1 time (connections refused)`,
    );
  });

  it('never caches errors: a re-run asks again only for the failed examples', async () => {
    let broken = true;
    const s = await serve({
      fault: (r) => (broken && r.prompt.endsWith('My dog died') ? { kind: '500' } : undefined),
    });
    const dir = await tmp();
    const cfg = { baseUrl: s.baseUrl, server: 'generic', maxRetries: 1, backoffMs: 1 };
    const first = await (await make(cfg, dir)).predict(examples, testCell(examples));
    expect(first[1]!.parse).toBe('error');
    const before = s.requests.length;
    broken = false;
    const second = await (await make(cfg, dir)).predict(examples, testCell(examples));
    expect(s.requests.length - before).toBe(1);
    expect(s.requests.at(-1)!.prompt.endsWith('My dog died')).toBe(true);
    expect(second[1]).toMatchObject({ label: 'sadness', parse: 'ok' });
    expect(second.filter((p) => p.cached)).toHaveLength(4);
  });
});

describe('openai adapter: cache', () => {
  it('a re-run of a finished evaluation sends no completion request; only GET /models, to see the weights are the same', async () => {
    const s = await serve({ models: [{ id: 'base-model', owned_by: 'vllm' }], version: '0.12.1' });
    const dir = await tmp();
    const first = await (await make({ baseUrl: s.baseUrl }, dir)).predict(examples, testCell(examples));
    const posts = s.requests.length;
    const gets = s.gets.length;
    expect(posts).toBe(5);
    expect(gets).toBe(2); // GET /v1/models and GET /version, once
    const again = await make({ baseUrl: s.baseUrl }, dir);
    const second = await again.predict(examples, testCell(examples));
    expect(s.requests.length).toBe(posts);
    // The server kind comes from the cache (no GET /version); the listing is asked once per run,
    // since it is what tells a retrained LoRA served under the same name (openai-model-identity.test.ts).
    expect(s.gets.slice(gets)).toEqual(['/v1/models']);
    expect(second.map(essence)).toEqual(first.map(essence));
    expect(second.every((p) => p.cached)).toBe(true);
    expect(again.facts!()).toMatchObject({ thisInvocation: { cachedAnswers: 5 }, http: { requests: 0 } });
  });

  it('the key changes when the model, the LoRA adapter, the template or a decoding parameter changes', async () => {
    const s = await serve({ models: [{ id: 'base-model', owned_by: 'llamacpp' }] });
    const dir = await tmp();
    const tplFile = join(dir, 'my-template.txt');
    await writeFile(tplFile, 'Emotion of "{{text}}"? One of {{labels}}.');
    const one = [examples[0]!];
    const variants: Record<string, unknown>[] = [
      {},
      { model: 'other-model' },
      { model: 'base-model-emotion-lora' }, // a vLLM/Ollama LoRA served by name
      { extraBody: { lora: [{ id: 0, scale: 1 }] } }, // a llama.cpp LoRA chosen per request
      { prompt: 'dialoguellm' },
      { prompt: tplFile },
      { decoding: { temperature: 0, maxTokens: 4 } },
      { decoding: { temperature: 0.7 } },
      { decoding: { temperature: 0, topP: 0.9 } },
      { api: 'completions' },
      { baseUrl: [s.baseUrl, s.baseUrl.replace('127.0.0.1', 'localhost')] },
    ];
    const fingerprints = new Set<string>();
    for (const v of variants) {
      const before = s.requests.length;
      const adapter = await make({ baseUrl: s.baseUrl, server: 'llamacpp', ...v }, dir);
      fingerprints.add(adapter.fingerprint());
      const [p] = await adapter.predict(one, testCell(one));
      expect(p!.cached, JSON.stringify(v)).toBeUndefined();
      expect(s.requests.length - before, JSON.stringify(v)).toBe(1);
    }
    expect(fingerprints.size).toBe(variants.length);
    // The LoRA name reaches the server as the model.
    expect(s.requests[2]!.body.model).toBe('base-model-emotion-lora');
    // Same settings again (different id, concurrency and timeout): served from the cache, same fingerprint.
    const same = await make(
      { id: 'renamed', baseUrl: s.baseUrl, server: 'llamacpp', concurrency: 3, timeoutMs: 999 },
      dir,
    );
    const before = s.requests.length;
    const [p] = await same.predict(one, testCell(one));
    expect(p!.cached).toBe(true);
    expect(s.requests.length).toBe(before);
    expect(fingerprints.has(same.fingerprint())).toBe(true);
  });

  it('replicas of one deployment share entries, whatever their order or which replica answered', async () => {
    const a = await serve();
    const b = await serve();
    const dir = await tmp();
    await (await make({ baseUrl: [a.baseUrl, b.baseUrl], server: 'generic' }, dir)).predict(
      examples,
      testCell(examples),
    );
    expect(a.requests.length).toBeGreaterThan(0);
    expect(b.requests.length).toBeGreaterThan(0);
    const reordered = await make({ baseUrl: [`${b.baseUrl}/`, a.baseUrl], server: 'generic' }, dir);
    expect((await reordered.predict(examples, testCell(examples))).every((p) => p.cached)).toBe(true);
    expect(a.requests.length + b.requests.length).toBe(5);
    // A named deployment keeps its entries when the replica list changes.
    await (await make({ baseUrl: a.baseUrl, deployment: 'lab', server: 'generic' }, dir)).predict(
      examples,
      testCell(examples),
    );
    expect(a.requests.length + b.requests.length).toBe(10);
    const moved = await make({ baseUrl: b.baseUrl, deployment: 'lab', server: 'generic' }, dir);
    expect((await moved.predict(examples, testCell(examples))).every((p) => p.cached)).toBe(true);
    expect(a.requests.length + b.requests.length).toBe(10);
  });

  it('keys sampled decoding by the run seed and sends it to the server', async () => {
    const s = await serve();
    const dir = await tmp();
    const cfg = { baseUrl: s.baseUrl, server: 'generic', decoding: { temperature: 0.8 } };
    const one = [examples[0]!];
    await (await make(cfg, dir)).predict(one, testCell(one, { seed: 1 }));
    await (await make(cfg, dir)).predict(one, testCell(one, { seed: 2 }));
    await (await make(cfg, dir)).predict(one, testCell(one, { seed: 1 }));
    expect(s.requests.map((r) => r.body.seed)).toEqual([1, 2]);
    // Greedy decoding: seeds share answers.
    const g = { baseUrl: s.baseUrl, server: 'generic' };
    await (await make(g, dir)).predict(one, testCell(one, { seed: 1 }));
    await (await make(g, dir)).predict(one, testCell(one, { seed: 2 }));
    expect(s.requests).toHaveLength(3);
    expect(s.requests[2]!.body.seed).toBeUndefined();
  });

  it('writes the API key into no file, fact or prediction', async () => {
    const secret = 'sk-live-DO-NOT-LEAK-4242';
    process.env.EMOTION_EVAL_TEST_KEY = secret;
    try {
      const s = await serve({ models: [{ id: 'base-model', owned_by: 'vllm' }] });
      const dir = await tmp();
      const adapter = await make({ baseUrl: s.baseUrl, apiKeyEnv: 'EMOTION_EVAL_TEST_KEY' }, dir);
      const ctx = testCell(examples);
      const cellFacts = await adapter.prepare!(ctx);
      const preds = await adapter.predict(examples, ctx);
      expect(s.requests.every((r) => r.authorization === `Bearer ${secret}`)).toBe(true);
      const files = await filesUnder(dir);
      expect(files.length).toBeGreaterThan(5);
      for (const f of files) expect(await readFile(f, 'utf8')).not.toContain(secret);
      for (const text of [
        JSON.stringify(preds),
        JSON.stringify(adapter.facts!()),
        JSON.stringify(cellFacts),
        adapter.fingerprint(),
      ]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      delete process.env.EMOTION_EVAL_TEST_KEY;
    }
  });
});

describe('openai adapter: label choice', () => {
  it('vLLM >= 0.11: structured_outputs.choice with the prompt label names', async () => {
    const s = await serve({
      models: [{ id: 'base-model', owned_by: 'vllm' }],
      version: '0.12.1',
      answer: () => 'Joy, clearly',
    });
    const adapter = await make({ baseUrl: s.baseUrl }, await tmp());
    const ctx = testCell(examples);
    expect(await adapter.prepare!(ctx)).toMatchObject({
      server: 'vllm',
      serverVersion: '0.12.1',
      labelChoice: 'guided',
      guidedParam: 'structured_outputs',
    });
    const [p] = await adapter.predict([examples[1]!], ctx);
    expect(s.requests[0]!.body.structured_outputs).toEqual({ choice: ['neutral', 'joy', 'sadness'] });
    expect(p).toMatchObject({ label: 'joy', parse: 'ok', raw: 'joy' });
  });

  it('older vLLM: guided_choice; llama.cpp: a GBNF grammar', async () => {
    const old = await serve({ models: [{ id: 'base-model', owned_by: 'vllm' }], version: '0.6.3' });
    await (await make({ baseUrl: old.baseUrl }, await tmp())).predict([examples[0]!], testCell(examples));
    expect(old.requests[0]!.body.guided_choice).toEqual(['neutral', 'joy', 'sadness']);
    const names = testProtocol({ labelNames: { joy: 'Joy "J"' } });
    const llama = await serve({
      models: [{ id: 'base-model', owned_by: 'llamacpp' }],
      answer: () => 'Joy "J", surely',
    });
    const [p] = await (await make({ baseUrl: llama.baseUrl }, await tmp())).predict(
      [examples[0]!],
      testCell(examples, { protocol: names }),
    );
    expect(llama.requests[0]!.body.grammar).toBe('root ::= "neutral" | "Joy \\"J\\"" | "sadness"');
    expect(p).toMatchObject({ label: 'joy', parse: 'ok' });
  });

  it('auto: a server refusing the constraint gets logprobs next, remembered for later cells', async () => {
    const s = await serve({
      models: [{ id: 'base-model', owned_by: 'vllm' }],
      acceptsConstraints: false,
      // The text is no label: only logprobs can give these answers their label.
      answer: () => ({ text: 'Hmm, hard to say', top: [{ token: 'Sad', logprob: -0.3 }] }),
    });
    const adapter = await make({ baseUrl: s.baseUrl }, await tmp());
    const ctx = testCell(examples);
    const preds = await adapter.predict(examples.slice(0, 3), ctx);
    expect(preds.map((p) => [p.label, p.parse])).toEqual([
      ['sadness', 'ok'],
      ['sadness', 'ok'],
      ['sadness', 'ok'],
    ]);
    expect(preds.every((p) => p.scores?.sadness === -0.3)).toBe(true);
    const constrained = s.requests.filter((r) => r.choices);
    // One request tried the constraint while the rest of the batch waited for the server's verdict:
    // a refusal costs one request, not one per example in flight.
    expect(constrained).toHaveLength(1);
    expect(constrained[0]!.body.logprobs).toBeUndefined();
    // Each example was asked again with logprobs, and with no constraint.
    const answered = s.requests.filter((r) => !r.choices);
    expect(answered).toHaveLength(3);
    for (const r of answered) expect(r.body).toMatchObject({ logprobs: true, top_logprobs: 20 });
    expect(adapter.facts!()).toMatchObject({ labelChoiceSetting: 'auto', labelChoiceUsed: ['logprobs'] });
    expect(String(adapter.facts!().guidedRejected)).toMatch(/HTTP 400.*structured_outputs/);
    expect(adapter.facts!().logprobsRejected).toBeUndefined();
    expect((ctx.log as TestLog).warns.join('\n')).toMatch(
      /refused constrained choice; labels are chosen by logprobs/,
    );

    // Another cell (other seed) of the same adapter: no constrained request at all any more.
    const before = s.requests.length;
    await adapter.predict(examples.slice(3), testCell(examples, { seed: 2 }));
    expect(s.requests.length - before).toBe(2);
    expect(s.requests.slice(before).every((r) => !r.choices && r.body.logprobs === true)).toBe(true);
  });

  it('auto: constraint and logprobs both refused -> parsed free text; every step recorded', async () => {
    const s = await serve({
      models: [{ id: 'base-model', owned_by: 'vllm' }],
      acceptsConstraints: false,
      acceptsLogprobs: false,
    });
    const adapter = await make({ baseUrl: s.baseUrl, concurrency: 4 }, await tmp());
    // Many examples at once, each waiting on the cache and the server at its own pace.
    const batch = [
      ...examples.slice(0, 3),
      ...Array.from({ length: 17 }, (_, i) => example(`x${i}`, `The bus is at nine ${i}`, 'neutral')),
    ];
    const preds = await adapter.predict(batch, testCell(examples));
    expect(preds.slice(0, 3).map((p) => p.label)).toEqual(['joy', 'sadness', 'neutral']);
    expect(preds.every((p) => p.parse === 'ok')).toBe(true);
    // Refused once for the constraint and once for logprobs (first step first), then text only.
    const kinds = s.requests.map((r) =>
      r.choices ? 'guided' : r.body.logprobs !== undefined ? 'logprobs' : 'text',
    );
    expect(kinds.slice(0, 2)).toEqual(['guided', 'logprobs']);
    expect(kinds.slice(2)).toEqual(batch.map(() => 'text'));
    const facts = adapter.facts!();
    expect(facts).toMatchObject({ labelChoiceUsed: ['text'] });
    expect(String(facts.guidedRejected)).toMatch(/HTTP 400/);
    expect(String(facts.logprobsRejected)).toMatch(/HTTP 400.*logprobs/);
  });

  it('auto on a hosted API refusing logprobs: parsed free text instead of errors', async () => {
    const s = await serve({ models: [{ id: 'base-model', owned_by: 'openai' }], acceptsLogprobs: false });
    const adapter = await make({ baseUrl: s.baseUrl, api: 'completions', concurrency: 1 }, await tmp());
    const preds = await adapter.predict(examples, testCell(examples));
    expect(preds.map((p) => p.parse)).toEqual(['ok', 'ok', 'ok', 'ok', 'unparseable']);
    expect(preds.map((p) => p.label)).toEqual(['joy', 'sadness', 'neutral', 'joy', null]);
    // Completions layout: logprobs is a number there; refused once, then never asked for again.
    expect(s.requests.map((r) => typeof r.body.logprobs)).toEqual([
      'number',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
    ]);
    expect(adapter.facts!()).toMatchObject({ labelChoiceUsed: ['text'] });
    expect(String(adapter.facts!().logprobsRejected)).toMatch(/not supported/);
  });

  it('steps down only on a refusal of the feature, and only in auto mode', async () => {
    // A 400 about something else (the prompt is too long) is that example's error, not a refusal.
    const other = await serve({
      models: [{ id: 'base-model', owned_by: 'vllm' }],
      fault: (r) =>
        r.prompt.endsWith('My dog died')
          ? { kind: 'status', status: 400, body: 'maximum context length is 8 tokens' }
          : undefined,
    });
    const a = await make({ baseUrl: other.baseUrl, concurrency: 1 }, await tmp());
    const preds = await a.predict(examples.slice(0, 3), testCell(examples));
    expect(preds.map((p) => p.parse)).toEqual(['ok', 'error', 'ok']);
    expect(other.requests.every((r) => r.choices)).toBe(true);
    expect(a.facts!()).toMatchObject({ labelChoiceUsed: ['guided'] });
    expect(a.facts!().guidedRejected).toBeUndefined();
    // A 500 naming the feature is a server fault (retried, then an error), not a refusal.
    const crashed = await serve({
      models: [{ id: 'base-model', owned_by: 'vllm' }],
      fault: () => ({ kind: 'status', status: 500, body: 'structured_outputs backend crashed' }),
    });
    const b = await make({ baseUrl: crashed.baseUrl, maxRetries: 0 }, await tmp());
    const [crash] = await b.predict([examples[0]!], testCell(examples));
    expect(crash).toMatchObject({ parse: 'error' });
    expect(crashed.requests.every((r) => r.choices)).toBe(true);

    // A server failing every request (no refusal) ends the trial: the other examples then fail side
    // by side, not one after another (which on a server that is down would take tries x examples).
    const down = await serve({
      models: [{ id: 'base-model', owned_by: 'vllm' }],
      latencyMs: 100,
      fault: () => ({ kind: '500' }),
    });
    const d = await make({ baseUrl: down.baseUrl, maxRetries: 0 }, await tmp());
    const failed = await d.predict(examples, testCell(examples));
    expect(failed.map((p) => p.parse)).toEqual(examples.map(() => 'error'));
    expect(down.requests).toHaveLength(examples.length);
    expect(down.maxInFlight).toBe(examples.length - 1);

    // Explicit modes are kept: their refusals are errors, so a run never silently changes method.
    const refusing = await serve({
      models: [{ id: 'base-model', owned_by: 'vllm' }],
      acceptsConstraints: false,
      acceptsLogprobs: false,
    });
    for (const labelChoice of ['guided', 'logprobs']) {
      const before = refusing.requests.length;
      const c = await make({ baseUrl: refusing.baseUrl, labelChoice }, await tmp());
      const got = await c.predict(examples.slice(0, 2), testCell(examples));
      expect(got.map((p) => p.parse)).toEqual(['error', 'error']);
      expect(got[0]!.error).toMatch(/HTTP 400/);
      expect(refusing.requests.length - before).toBe(2);
      expect(c.facts!()).toMatchObject({ guidedRejected: undefined, logprobsRejected: undefined });
    }
  });

  it('an unreachable server is a runtime failure in auto mode, not a silent switch to free text', async () => {
    const s = await serve();
    const url = s.baseUrl;
    await s.close();
    // Found when the adapter is made (it asks which weights the server serves), before any cell.
    await expect(make({ baseUrl: url }, await tmp())).rejects.toThrow(/cannot reach the server/);
  });

  it('a server that lists no models is generic: free text', async () => {
    const s = await serve({ models: [] });
    const adapter = await make({ baseUrl: s.baseUrl }, await tmp());
    expect(await adapter.prepare!(testCell(examples))).toMatchObject({
      server: 'generic',
      labelChoice: 'text',
    });
    await adapter.predict([examples[0]!], testCell(examples));
    expect(s.requests[0]!.choices).toBeUndefined();
    expect(s.requests[0]!.body.logprobs).toBeUndefined();
  });

  it('explicit guided on a server without constraints is a config error', async () => {
    const s = await serve({ models: [{ id: 'base-model', owned_by: 'library' }] });
    const adapter = await make({ baseUrl: s.baseUrl, labelChoice: 'guided' }, await tmp());
    await expect(adapter.predict([examples[0]!], testCell(examples))).rejects.toThrow(
      /labelChoice.*guided.*'ollama'/,
    );
  });

  it('logprobs (chat): scores labels by the first token, even when the text is no label', async () => {
    const s = await serve({
      models: [{ id: 'base-model', owned_by: 'openai' }],
      answer: () => ({
        text: 'Sad, I would say',
        top: [
          { token: 'Sad', logprob: -0.4 },
          { token: ' joy', logprob: -1.6 },
          { token: 'Neutral', logprob: -2.5 },
          { token: 'The', logprob: -3 },
        ],
      }),
    });
    const adapter = await make({ baseUrl: s.baseUrl, topLogprobs: 5 }, await tmp());
    const [p] = await adapter.predict([examples[0]!], testCell(examples));
    expect(s.requests[0]!.body).toMatchObject({ logprobs: true, top_logprobs: 5 });
    expect(p).toMatchObject({
      label: 'sadness',
      parse: 'ok',
      scores: { sadness: -0.4, joy: -1.6, neutral: -2.5 },
    });
  });

  it('logprobs (completions): a shared first token cannot decide; the text is parsed instead', async () => {
    const sst = testProtocol({
      labels: ['neg', 'sneg', 'spos', 'pos'],
      labelNames: { neg: 'negative', sneg: 'somewhat negative', spos: 'somewhat positive', pos: 'positive' },
      synonyms: {},
    });
    const s = await serve({
      answer: () => ({
        text: 'somewhat positive',
        top: [
          { token: ' somewhat', logprob: -0.2 },
          { token: ' positive', logprob: -1.9 },
        ],
      }),
    });
    const adapter = await make(
      { baseUrl: s.baseUrl, server: 'generic', labelChoice: 'logprobs', api: 'completions' },
      await tmp(),
    );
    const [p] = await adapter.predict([examples[0]!], testCell(examples, { protocol: sst }));
    expect(s.requests[0]!.body.logprobs).toBe(20);
    expect(typeof s.requests[0]!.body.prompt).toBe('string');
    expect(p).toMatchObject({ label: 'spos', parse: 'ok' });
    expect(p!.scores).toBeUndefined();
    expect(adapter.facts!()).toMatchObject({ thisInvocation: { logprobsFallbacks: 1 } });
  });
});

describe('openai adapter: prompts and shots', () => {
  it('draws k shots from train with the run seed and shows them as previous turns', async () => {
    const s = await serve();
    const train = Array.from({ length: 30 }, (_, i) =>
      example(`t${i}`, `train sentence ${i}`, i % 2 ? 'joy' : 'sadness'),
    );
    const dir = await tmp();
    const adapter = await make({ baseUrl: s.baseUrl, server: 'generic', shots: 2 }, dir);
    const ctx1 = testCell(examples, { train, seed: 1 });
    const facts1 = (await adapter.prepare!(ctx1))!;
    await adapter.predict([examples[0]!], ctx1);
    const msgs = s.requests[0]!.body.messages as { role: string; content: string }[];
    expect(msgs.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    const shotIds = facts1.shotIds as string[];
    expect(shotIds).toHaveLength(2);
    expect(msgs[0]!.content).toContain(train.find((t) => t.id === shotIds[0])!.text);
    const facts2 = (await adapter.prepare!(testCell(examples, { train, seed: 2, taskId: 'other' })))!;
    expect(facts2.shotIds).not.toEqual(shotIds);
    // Same seed in a fresh adapter: same shots.
    const again = await make({ baseUrl: s.baseUrl, server: 'generic', shots: 2 }, dir);
    expect((await again.prepare!(testCell(examples, { train, seed: 1 })))!.shotIds).toEqual(shotIds);
  });

  it('dialoguellm with contextTurns shows previous turns with speakers', async () => {
    const s = await serve();
    const adapter = await make(
      { baseUrl: s.baseUrl, server: 'generic', prompt: 'dialoguellm', contextTurns: 1 },
      await tmp(),
    );
    const target = example('d3', 'I won the lottery', 'joy', {
      speaker: 'Joey',
      context: [
        { id: 'd1', text: 'Hi', speaker: 'Ross' },
        { id: 'd2', text: 'What happened?', speaker: 'Monica' },
      ],
    });
    await adapter.predict([target], testCell([target]));
    const content = (s.requests[0]!.body.messages as { content: string }[])[0]!.content;
    expect(content).toContain('Monica: What happened?');
    expect(content).not.toContain('Ross: Hi');
    expect(content).toContain('Joey: I won the lottery');
  });
});

describe('openai adapter: config', () => {
  const parse = (raw: Record<string, unknown>) =>
    openaiAdapterFactory.parseConfig({
      id: 'x',
      type: 'openai',
      baseUrl: 'http://127.0.0.1:1/v1',
      model: 'm',
      ...raw,
    });

  it('fills defaults', () => {
    expect(parse({})).toMatchObject({
      api: 'chat',
      prompt: 'peng2023',
      shots: 0,
      server: 'auto',
      labelChoice: 'auto',
      decoding: { temperature: 0, maxTokens: 16 },
      concurrency: 8,
      maxRetries: 4,
      cache: true,
      lenient: false,
    });
  });
  it('names the key path of each problem', () => {
    expect(() => parse({ decoding: { temperature: -1 } })).toThrow(
      /openai adapter 'x': decoding\.temperature: /,
    );
    expect(() => parse({ baseUrl: ['http://ok:1/v1', 'ftp://nope'] })).toThrow(/baseUrl/);
    expect(() => parse({ labelChoice: 'magic' })).toThrow(/labelChoice: /);
    expect(() => parse({ extraBody: { model: 'y' } })).toThrow(
      /extraBody\.model: 'model' is set by the adapter/,
    );
    expect(() => parse({ extraBody: { temperature: 1 } })).toThrow(
      /extraBody\.temperature: set it as decoding\.temperature/,
    );
    expect(() => parse({ decodng: {} })).toThrow(/decodng/);
    expect(() => parse({ apiKeyEnv: 'sk-abc' })).toThrow(/apiKeyEnv: expected an environment variable name/);
  });
  it('refuses a query string or fragment in baseUrl, naming the key but not repeating its value', () => {
    for (const [baseUrl, key] of [
      ['http://127.0.0.1:1/v1?api-key=SECRET', 'baseUrl'],
      [['http://127.0.0.1:1/v1', 'http://127.0.0.1:2/v1?api-key=SECRET'], 'baseUrl\\[1\\]'],
      ['http://127.0.0.1:1/v1#SECRET', 'baseUrl'],
      // An empty query still glues a '?' in front of every route.
      ['http://127.0.0.1:1/v1?', 'baseUrl'],
    ] as const) {
      let message = '';
      try {
        parse({ baseUrl });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(
        new RegExp(`^openai adapter 'x': ${key}: a query string or fragment is refused`),
      );
      expect(message).toContain('apiKeyEnv');
      expect(message).not.toContain('SECRET');
      // One problem, one line.
      expect(message).not.toContain('\n');
    }
    expect(parse({ baseUrl: 'http://127.0.0.1:1/v1/' }).baseUrl).toBe('http://127.0.0.1:1/v1/');
  });

  it('refuses a missing API key variable, credentials in URLs and unknown prompts', async () => {
    const dir = await tmp();
    await expect(
      make({ baseUrl: 'http://127.0.0.1:1/v1', apiKeyEnv: 'EMOTION_EVAL_UNSET_VAR' }, dir),
    ).rejects.toThrow(/apiKeyEnv: environment variable EMOTION_EVAL_UNSET_VAR is not set/);
    await expect(make({ baseUrl: 'http://u:p@127.0.0.1:1/v1' }, dir)).rejects.toThrow(
      /baseUrl: credentials in URLs/,
    );
    await expect(make({ baseUrl: 'http://127.0.0.1:1/v1', prompt: 'peng2032' }, dir)).rejects.toThrow(
      /did you mean 'peng2023'/,
    );
  });
});

describe('openai adapter: interruption', () => {
  it('rejects when the run is aborted and caches only what was answered', async () => {
    const s = await serve({
      fault: (r) =>
        r.prompt.endsWith('My dog died') && r.attempt === 1 ? { kind: 'slow', ms: 3000 } : undefined,
    });
    const dir = await tmp();
    const ac = new AbortController();
    const adapter = await make({ baseUrl: s.baseUrl, server: 'generic', timeoutMs: 10_000 }, dir);
    const pending = adapter.predict(examples, testCell(examples, { signal: ac.signal }));
    setTimeout(() => ac.abort(), 300);
    await expect(pending).rejects.toThrow(/aborted/);
    const before = s.requests.length;
    const again = await make({ baseUrl: s.baseUrl, server: 'generic' }, dir);
    const preds = await again.predict(examples, testCell(examples));
    // Only the interrupted example is asked again.
    expect(s.requests.length - before).toBe(1);
    expect(preds.filter((p) => !p.cached).map((p) => p.id)).toEqual(['e2']);
  });
});
