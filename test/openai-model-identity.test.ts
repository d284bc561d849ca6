/**
 * The served model's identity in the response cache key, the fingerprint and the facts. A LoRA
 * retrained and served again under the same name must not be answered from the old adapter's cache
 * entries: the key follows what the server says about the weights (vLLM's `root` and `parent`,
 * Ollama's digest, llama.cpp's model path) and the config's `modelRevision`.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openaiAdapterFactory } from '../adapters/openai/index.ts';
import type { Adapter, Example } from '../harness/types.ts';
import { cliAsync } from './support/cli.ts';
import { example, type TestLog, testCell, testEnv } from './support/openai-cell.ts';
import { type ServedModel, serversClosedAfterEach, type TestOpenAIServer } from './support/openai-server.ts';
import { writeServedConfig } from './support/served-config.ts';

const serve = serversClosedAfterEach();

const examples: Example[] = [
  example('e1', 'I won the lottery', 'joy'),
  example('e2', 'My dog died', 'sadness'),
  example('e3', 'The bus is at nine', 'neutral'),
];

/** A vLLM listing with one LoRA served by name (`--lora-modules emo-lora=<root>`). */
function vllmModels(loraRoot: string, baseRoot = '/models/llama-3.1-8b'): ServedModel[] {
  return [
    { id: 'base-model', owned_by: 'vllm', root: baseRoot, parent: null },
    { id: 'emo-lora', owned_by: 'vllm', root: loraRoot, parent: 'base-model' },
  ];
}

async function make(raw: Record<string, unknown>, cacheDir: string): Promise<Adapter & { log: TestLog }> {
  const config = openaiAdapterFactory.parseConfig({ id: 'llm', type: 'openai', model: 'emo-lora', ...raw });
  const env = testEnv(cacheDir);
  const adapter = await openaiAdapterFactory.create({ ...config, id: 'llm' }, env);
  return Object.assign(adapter, { log: env.log });
}

/** Runs the examples through a fresh adapter (a new run); returns what the server was sent and the facts. */
async function run(s: TestOpenAIServer, raw: Record<string, unknown>, cacheDir: string) {
  const before = s.requests.length;
  const adapter = await make({ baseUrl: s.baseUrl, labelChoice: 'text', ...raw }, cacheDir);
  const preds = await adapter.predict(examples, testCell(examples));
  await adapter.close?.();
  return {
    requests: s.requests.length - before,
    cached: preds.filter((p) => p.cached).length,
    fingerprint: adapter.fingerprint(),
    facts: adapter.facts!(),
    infos: adapter.log.infos,
    warns: adapter.log.warns,
  };
}

async function cacheEntries(dir: string): Promise<{ inputs: Record<string, unknown> }[]> {
  const out: { inputs: Record<string, unknown> }[] = [];
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await cacheEntries(p)));
    else if (name.endsWith('.json')) out.push(JSON.parse(await readFile(p, 'utf8')));
  }
  return out;
}

const tmp = () => mkdtemp(join(tmpdir(), 'openai-identity-'));

describe('served model identity: vLLM LoRA served by name', () => {
  it('a LoRA at another path under the same name is asked again; the same path is answered from the cache', async () => {
    const s = await serve({ models: vllmModels('/loras/emo-step-500'), version: '0.12.1' });
    const dir = await tmp();
    const first = await run(s, {}, dir);
    expect(first).toMatchObject({ requests: 3, cached: 0 });

    const same = await run(s, {}, dir);
    expect(same).toMatchObject({ requests: 0, cached: 3 });
    expect(same.fingerprint).toBe(first.fingerprint);

    // Retrained and served again: `--lora-modules emo-lora=/loras/emo-step-1000`.
    s.update({ models: vllmModels('/loras/emo-step-1000') });
    const retrained = await run(s, {}, dir);
    expect(retrained).toMatchObject({ requests: 3, cached: 0 });
    // A run started on the old adapter is not resumed on the new one (the runner compares these).
    expect(retrained.fingerprint).not.toBe(first.fingerprint);

    // Another base model under the same served name (the LoRA path unchanged) is another model too.
    s.update({ models: vllmModels('/loras/emo-step-1000', '/models/llama-3.2-3b') });
    expect(await run(s, {}, dir)).toMatchObject({ requests: 3, cached: 0 });

    // Back to the first adapter: its answers are still there, under its own key.
    s.update({ models: vllmModels('/loras/emo-step-500') });
    const back = await run(s, {}, dir);
    expect(back).toMatchObject({ requests: 0, cached: 3 });
    expect(back.fingerprint).toBe(first.fingerprint);
  });

  it('records the LoRA path and the base model in the facts and in each cache entry', async () => {
    const s = await serve({ models: vllmModels('/loras/emo-step-500'), version: '0.12.1' });
    const dir = await tmp();
    const r = await run(s, {}, dir);
    expect(r.facts).toMatchObject({
      model: 'emo-lora',
      servedModel: {
        root: '/loras/emo-step-500',
        parent: 'base-model',
        parentRoot: '/models/llama-3.1-8b',
        keyedOn: 'path',
        source: 'server',
      },
    });
    expect(r.facts.modelRevision).toBeUndefined();
    const answers = (await cacheEntries(dir)).filter((e) => !('probe' in (e.inputs.body as object)));
    expect(answers).toHaveLength(3);
    for (const e of answers) {
      expect(e.inputs.modelIdentity).toEqual({
        root: '/loras/emo-step-500',
        parent: 'base-model',
        parentRoot: '/models/llama-3.1-8b',
      });
    }
    // A path is not the weights: the run log says once that retraining in place needs modelRevision.
    expect(r.infos.filter((l) => /retrained in place/.test(l))).toEqual([
      "cached answers of llm are keyed on 'emo-lora' and where the server loaded it from (/loras/emo-step-500): weights retrained in place look the same (set modelRevision when you retrain)",
    ]);
    // Tells the server kind from the same listing: GET /v1/models once, then GET /version.
    expect(s.gets).toEqual(['/v1/models', '/version']);
  });
});

describe('served model identity: modelRevision', () => {
  it('a changed revision asks again, the same revision is answered from the cache, and the facts record it', async () => {
    // A hosted-style listing: nothing about the weights.
    const s = await serve({ models: [{ id: 'emo-lora', owned_by: 'someone' }] });
    const dir = await tmp();
    const a = await run(s, { modelRevision: 'sha-1111' }, dir);
    expect(a).toMatchObject({ requests: 3, cached: 0 });
    expect(a.facts).toMatchObject({ modelRevision: 'sha-1111', servedModel: { keyedOn: 'none' } });
    expect(await run(s, { modelRevision: 'sha-1111' }, dir)).toMatchObject({ requests: 0, cached: 3 });
    const b = await run(s, { modelRevision: 'sha-2222' }, dir);
    expect(b).toMatchObject({ requests: 3, cached: 0 });
    expect(b.fingerprint).not.toBe(a.fingerprint);
    // No revision at all is a third identity (the name alone), not either of the revisions.
    const none = await run(s, {}, dir);
    expect(none).toMatchObject({ requests: 3, cached: 0 });
    // With a revision set, the run log has no note about keying on the name only.
    expect(a.infos.some((l) => /model name only/.test(l))).toBe(false);
  });

  it('with a revision and a vLLM path, both are keyed', async () => {
    const s = await serve({ models: vllmModels('/loras/emo'), version: '0.12.1' });
    const dir = await tmp();
    await run(s, { modelRevision: 'step-500' }, dir);
    // Retrained in place (same path): only the revision tells the new weights apart.
    expect(await run(s, { modelRevision: 'step-1000' }, dir)).toMatchObject({ requests: 3, cached: 0 });
    const entry = (await cacheEntries(dir)).find((e) => !('probe' in (e.inputs.body as object)))!;
    expect(entry.inputs.modelIdentity).toMatchObject({ root: '/loras/emo', parent: 'base-model' });
    expect(['step-500', 'step-1000']).toContain(
      (entry.inputs.modelIdentity as { revision: string }).revision,
    );
  });
});

describe('served model identity: a server that says nothing', () => {
  it('keeps the keys as they were (name only) and says so once in the run log', async () => {
    const s = await serve({ models: [{ id: 'emo-lora', owned_by: 'someone' }] });
    const dir = await tmp();
    const r = await run(s, {}, dir);
    expect(r.requests).toBe(3);
    expect(r.infos.filter((l) => /keyed on the model name only/.test(l))).toHaveLength(1);
    expect(r.infos.find((l) => /model name only/.test(l))).toMatch(/set modelRevision/);
    // Entries carry no identity, so their keys are those computed before identities were keyed:
    // caches written by earlier versions stay valid.
    for (const e of await cacheEntries(dir)) expect(e.inputs).not.toHaveProperty('modelIdentity');
    expect(r.facts).toMatchObject({ servedModel: { keyedOn: 'none', source: 'server' } });
    expect(await run(s, {}, dir)).toMatchObject({ requests: 0, cached: 3 });
  });
});

describe('served model identity: Ollama and llama.cpp', () => {
  it('Ollama: a model re-created under the same name (new digest) is asked again', async () => {
    const tags = (digest: string) => [
      { name: 'other:latest', model: 'other:latest', digest: 'd0' },
      { name: 'emo:latest', model: 'emo:latest', digest, modified_at: '2025-10-03T23:34:03-07:00' },
    ];
    const s = await serve({ models: [{ id: 'emo:latest', owned_by: 'library' }], ollamaTags: tags('a1') });
    const dir = await tmp();
    // "emo" is what users write; Ollama lists it as "emo:latest".
    const first = await run(s, { model: 'emo' }, dir);
    expect(first.requests).toBe(3);
    expect(first.facts).toMatchObject({
      servedModel: { digest: 'a1', modifiedAt: '2025-10-03T23:34:03-07:00', keyedOn: 'content' },
    });
    // A digest names the content: no note about retraining in place.
    expect(first.infos.some((l) => /keyed on/.test(l))).toBe(false);
    expect(await run(s, { model: 'emo' }, dir)).toMatchObject({ requests: 0, cached: 3 });
    s.update({ ollamaTags: tags('b2') });
    expect(await run(s, { model: 'emo' }, dir)).toMatchObject({ requests: 3, cached: 0 });
    expect(s.gets).toContain('/api/tags');
  });

  it('llama.cpp: another model file or LoRA file behind the same alias is asked again', async () => {
    const s = await serve({
      models: [{ id: 'emo-lora', owned_by: 'llamacpp' }],
      props: { model_path: '/gguf/base-q4.gguf', total_slots: 4 },
      loraAdapters: [{ id: 0, path: '/gguf/emo-lora-v1.gguf', scale: 1 }],
    });
    const dir = await tmp();
    const first = await run(s, {}, dir);
    expect(first.requests).toBe(3);
    expect(first.facts).toMatchObject({
      servedModel: {
        modelPath: '/gguf/base-q4.gguf',
        loraAdapters: [{ id: 0, path: '/gguf/emo-lora-v1.gguf', scale: 1 }],
      },
    });
    expect(await run(s, {}, dir)).toMatchObject({ requests: 0, cached: 3 });
    s.update({ loraAdapters: [{ id: 0, path: '/gguf/emo-lora-v2.gguf', scale: 1 }] });
    expect(await run(s, {}, dir)).toMatchObject({ requests: 3, cached: 0 });
    s.update({ props: { model_path: '/gguf/base-q8.gguf' } });
    expect(await run(s, {}, dir)).toMatchObject({ requests: 3, cached: 0 });
  });
});

describe('served model identity: a server that is down', () => {
  it('never seen: an error when the adapter is made; seen before: its recorded identity, with a warning', async () => {
    const s = await serve({ models: vllmModels('/loras/emo-step-500'), version: '0.12.1' });
    const url = s.baseUrl;
    const dir = await tmp();
    const first = await run(s, {}, dir);
    await s.close();

    await expect(make({ baseUrl: url, labelChoice: 'text' }, await tmp())).rejects.toThrow(
      /openai adapter 'llm': cannot reach the server to read which model it serves \(.*ECONNREFUSED.*\); is it up\?/,
    );

    // A finished evaluation re-run while the server is down: the last identity seen, all cached.
    const offline = await make({ baseUrl: url, labelChoice: 'text' }, dir);
    expect(offline.fingerprint()).toBe(first.fingerprint);
    const preds = await offline.predict(examples, testCell(examples));
    expect(preds.every((p) => p.cached)).toBe(true);
    expect(offline.log.warns).toHaveLength(1);
    expect(offline.log.warns[0]).toMatch(
      /^llm: cannot reach the server .*cached answers are those of the model it served on \d{4}-/,
    );
    expect(offline.facts!()).toMatchObject({
      servedModel: { root: '/loras/emo-step-500', source: 'recorded' },
    });
  });

  it('a replica that is down does not stop the identity being read from one that is up', async () => {
    const s = await serve({ models: vllmModels('/loras/emo-step-500'), version: '0.12.1' });
    const adapter = await make(
      { baseUrl: ['http://127.0.0.1:1/v1', s.baseUrl], server: 'vllm' },
      await tmp(),
    );
    expect(adapter.facts!()).toMatchObject({ servedModel: { root: '/loras/emo-step-500' } });
    await adapter.close?.();
  });
});

describe('served model identity through the CLI', () => {
  it('a LoRA retrained and served again under the same name: the run is not resumed on it, and a new run asks anew', async () => {
    const models = (root: string): ServedModel[] => [
      { id: 'base-model', owned_by: 'vllm', root: '/models/llama-3.1-8b', parent: null },
      { id: 'llama-emotion-lora', owned_by: 'vllm', root, parent: 'base-model' },
    ];
    const s = await serve({ models: models('/loras/emo-v1'), version: '0.12.1', answer: () => 'neutral' });
    const dir = await tmp();
    const config = join(dir, 'run.yaml');
    writeServedConfig(config, s.baseUrl, { labelChoice: 'text', concurrency: 4 });
    const out = join(dir, 'out');
    const args = ['run', '--config', config, '--out', out, '--name', 'r', '--no-figures'];

    const first = await cliAsync(args);
    expect(first.code, first.stderr).toBe(0);
    const n = s.requests.length;
    expect(n).toBeGreaterThan(40);
    const manifest = JSON.parse(readFileSync(join(out, 'r/manifest.json'), 'utf8'));
    expect(manifest.adapters.llm.facts.servedModel).toMatchObject({
      root: '/loras/emo-v1',
      parent: 'base-model',
      parentRoot: '/models/llama-3.1-8b',
    });
    expect(first.stderr).toMatch(/weights retrained in place look the same \(set modelRevision/);

    // `--lora-modules llama-emotion-lora=/loras/emo-v2` after retraining: the same command does not
    // pass the old run's answers off as the new adapter's.
    s.update({ models: models('/loras/emo-v2') });
    const again = await cliAsync(args);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/exists with a different config/);
    expect(s.requests.length).toBe(n);

    const fresh = await cliAsync([...args, '--force-new']);
    expect(fresh.code, fresh.stderr).toBe(0);
    // Every example asked again: none of the v1 adapter's cached answers were used.
    expect(s.requests.length).toBe(2 * n);
    // (Its "answers from the cache" are repeated utterances sharing this run's own answers.)
    expect(fresh.stderr).toMatch(new RegExp(`llm: ${n} requests, 0 retries, 0 examples recorded as errors`));
    const second = JSON.parse(readFileSync(join(out, 'r-2/manifest.json'), 'utf8'));
    expect(second.adapters.llm.facts.servedModel).toMatchObject({ root: '/loras/emo-v2' });
    expect(second.adapters.llm.fingerprint).not.toBe(manifest.adapters.llm.fingerprint);
  }, 120_000);
});
