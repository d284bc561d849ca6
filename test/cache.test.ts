import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CacheKeyInputs,
  cacheKey,
  deploymentId,
  normaliseBaseUrl,
  ResponseCache,
} from '../harness/cache.ts';
import { sha256 } from '../harness/hash.ts';

const base: CacheKeyInputs = {
  endpoint: 'http://127.0.0.1:8000/v1',
  model: 'llama3',
  api: 'chat',
  body: { model: 'llama3', messages: [{ role: 'user', content: 'hi' }], temperature: 0, max_tokens: 8 },
  sampleSeed: null,
};

describe('cacheKey', () => {
  it('is sha256 of the sorted-key JSON of the inputs', () => {
    // Hand-written canonical form: keys sorted at every level.
    const canonical =
      '{"api":"chat","body":{"max_tokens":8,"messages":[{"content":"hi","role":"user"}],"model":"llama3","temperature":0},' +
      '"endpoint":"http://127.0.0.1:8000/v1","model":"llama3","sampleSeed":null,"v":1}';
    expect(cacheKey(base)).toBe(sha256(canonical));
  });
  it('does not depend on key order in the body', () => {
    const reordered = {
      ...base,
      body: { max_tokens: 8, temperature: 0, messages: base.body.messages, model: 'llama3' },
    };
    expect(cacheKey(reordered)).toBe(cacheKey(base));
  });
  it('changes when any one input changes', () => {
    const k = cacheKey(base);
    const variants: CacheKeyInputs[] = [
      { ...base, endpoint: 'http://127.0.0.1:8001/v1' },
      { ...base, model: 'llama3-lora-emo' },
      { ...base, api: 'completions' },
      { ...base, body: { ...base.body, temperature: 0.7 } },
      { ...base, body: { ...base.body, max_tokens: 9 } },
      { ...base, body: { ...base.body, messages: [{ role: 'user', content: 'hi!' }] } },
      { ...base, sampleSeed: 1 },
    ];
    const keys = new Set(variants.map(cacheKey));
    expect(keys.size).toBe(variants.length);
    expect(keys.has(k)).toBe(false);
  });
});

describe('deployment identity', () => {
  it('normalises base URLs and strips credentials, query and default ports', () => {
    expect(normaliseBaseUrl('HTTP://User:Secret@LocalHost:80/v1/?x=1#f')).toBe('http://localhost/v1');
    expect(normaliseBaseUrl('https://api.example.com:443/v1')).toBe('https://api.example.com/v1');
    expect(normaliseBaseUrl('http://127.0.0.1:8000/v1//')).toBe('http://127.0.0.1:8000/v1');
  });
  it('treats replicas as one deployment whatever their order; a name overrides the URLs', () => {
    const a = deploymentId(['http://10.0.0.2:8000/v1', 'http://10.0.0.1:8000/v1']);
    const b = deploymentId(['http://10.0.0.1:8000/v1/', 'http://10.0.0.2:8000/v1']);
    expect(a).toBe(b);
    expect(a).toBe('http://10.0.0.1:8000/v1 http://10.0.0.2:8000/v1');
    expect(deploymentId(['http://10.0.0.9:8000/v1'], 'lab-llama')).toBe(
      deploymentId(['http://x:1/v1'], 'lab-llama'),
    );
  });
});

describe('ResponseCache', () => {
  it('stores one JSON file per key under a two-hex-digit shard, with the key inputs, atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cache-'));
    const cache = new ResponseCache<{ text: string }>(dir);
    expect(await cache.get(base)).toBeUndefined();
    await cache.put(base, { text: 'joy' });
    const key = cacheKey(base);
    expect(await readdir(dir)).toEqual([key.slice(0, 2)]);
    expect(await readdir(join(dir, key.slice(0, 2)))).toEqual([`${key}.json`]);
    const stored = JSON.parse(await readFile(cache.pathFor(key), 'utf8'));
    expect(stored.inputs).toEqual(base);
    expect(stored.value).toEqual({ text: 'joy' });
    const hit = await cache.get(base);
    expect(hit?.value).toEqual({ text: 'joy' });
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1, writes: 1 });
    // A second instance over the same folder (a re-run) sees the entry.
    expect((await new ResponseCache(dir).get(base))?.value).toEqual({ text: 'joy' });
  });
  it('treats a corrupt or foreign entry as a miss and overwrites it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cache-'));
    const cache = new ResponseCache<string>(dir);
    await cache.put(base, 'x');
    await writeFile(cache.pathFor(cacheKey(base)), '{"key": "trunc');
    expect(await cache.get(base)).toBeUndefined();
    expect(cache.stats.unreadable).toBe(1);
    await cache.put(base, 'y');
    expect((await cache.get(base))?.value).toBe('y');
  });
  it('concurrent writers of one key leave exactly one complete entry and no temp files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cache-'));
    const cache = new ResponseCache<number>(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.put(base, i)));
    const shard = join(dir, cacheKey(base).slice(0, 2));
    expect(await readdir(shard)).toEqual([`${cacheKey(base)}.json`]);
    const v = (await cache.get(base))?.value;
    expect(typeof v).toBe('number');
  });
});
