/**
 * Content-addressed response cache for served models. One JSON file per key under
 * `<dir>/<first two hex digits>/<key>.json`, written to a temporary name and renamed, so a killed run
 * leaves either the whole entry or none. Each entry stores the inputs its key was computed from, so
 * anyone can audit why two runs shared (or did not share) an answer.
 *
 * What the key covers (and why):
 * - `endpoint`: the deployment identity. The adapter passes a configured deployment name, or the sorted,
 *   normalised list of its base URLs. All replicas listed in one adapter config are one deployment: they
 *   share entries whichever replica answered, because the key is computed before a replica is chosen.
 * - `model`: the served model or LoRA adapter name (a cache that omits it serves one model's answers
 *   as another's).
 * - `modelIdentity`, when known: which weights the name stands for, as the server tells it (vLLM's
 *   `root` and `parent`, Ollama's digest, llama.cpp's model path) and the config's `modelRevision`. A
 *   name is kept when a LoRA is retrained and served again; these change. Absent when nothing is
 *   known, so such keys are the ones computed before the field existed.
 * - `api` and the full rendered request `body`, which carries every decoding parameter, the label-choice
 *   constraint and any extra server fields.
 * - `sampleSeed`: the run seed when sampling (temperature > 0); null for greedy decoding, where the
 *   seed cannot change the answer and runs with different seeds may share entries.
 * Never in the key or the entry: API keys or any request header.
 * Only successful responses are stored; errors are never cached.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashValue } from './hash.ts';

export interface CacheKeyInputs {
  /** Deployment identity (see the module comment), never containing credentials. */
  endpoint: string;
  model: string;
  /** Which weights `model` stands for (server-reported fields, configured revision); absent when unknown. */
  modelIdentity?: Record<string, unknown>;
  api: 'chat' | 'completions';
  /** The exact JSON body sent to the server (model, messages or prompt, decoding, constraints). */
  body: Record<string, unknown>;
  /** Run seed when decoding samples; null when decoding is greedy. */
  sampleSeed: number | null;
}

export interface CacheEntry<V = unknown> {
  key: string;
  /** Format version of entries; a change makes old entries unreadable by design (a miss, not a wrong hit). */
  version: 1;
  inputs: CacheKeyInputs;
  value: V;
  created: string;
}

const ENTRY_VERSION = 1;

// The callback API rather than node:fs/promises: an entry is looked up and written per request, the
// largest share of a served run's main-thread time (bench/served-throughput.bench.ts profile), and
// fs/promises' FileHandle-based readFile/writeFile kept the main thread busy about twice as long per
// lookup + write + rename (50-90 us against 30-40 us, 16 in flight, on a 2-core machine).
const readFile = promisify(fs.readFile);
const writeFile = promisify(fs.writeFile);
const rename = promisify(fs.rename);
const mkdir = promisify(fs.mkdir);
const rm = promisify(fs.rm);

/** The cache key: sha256 over the key inputs, with object keys sorted. */
export function cacheKey(inputs: CacheKeyInputs): string {
  return hashValue({ v: ENTRY_VERSION, ...inputs });
}

/**
 * Base URL as it goes into the deployment identity: lower-case scheme and host, no credentials,
 * no default port, no query or fragment, no trailing slash.
 */
export function normaliseBaseUrl(raw: string): string {
  const u = new URL(raw);
  const defaultPort =
    (u.protocol === 'http:' && u.port === '80') || (u.protocol === 'https:' && u.port === '443');
  const port = u.port && !defaultPort ? `:${u.port}` : '';
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.protocol}//${u.hostname.toLowerCase()}${port}${path}`;
}

/** Deployment identity for a set of replicas: a configured name, or the sorted normalised URLs. */
export function deploymentId(baseUrls: readonly string[], deployment?: string): string {
  if (deployment) return `deployment:${deployment}`;
  return [...new Set(baseUrls.map(normaliseBaseUrl))].sort().join(' ');
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  writes: number;
  /** Entries that could not be read (corrupt or foreign): treated as misses and overwritten. */
  unreadable: number;
}

export class ResponseCache<V = unknown> {
  readonly stats: ResponseCacheStats = { hits: 0, misses: 0, writes: 0, unreadable: 0 };
  /** Shard folders known to exist (saves a mkdir per write on the hot path). */
  readonly #shards = new Set<string>();

  constructor(readonly dir: string) {}

  pathFor(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  /** The stored entry for these inputs, or undefined. `key` may be passed when already computed. */
  async get(inputs: CacheKeyInputs, key = cacheKey(inputs)): Promise<CacheEntry<V> | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathFor(key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.stats.misses++;
        return undefined;
      }
      throw err;
    }
    try {
      const entry = JSON.parse(text) as CacheEntry<V>;
      if (entry.key !== key || entry.version !== ENTRY_VERSION) throw new Error('key mismatch');
      this.stats.hits++;
      return entry;
    } catch {
      this.stats.unreadable++;
      this.stats.misses++;
      return undefined;
    }
  }

  /** Stores a successful response atomically (temp file + rename). */
  async put(inputs: CacheKeyInputs, value: V, key = cacheKey(inputs)): Promise<CacheEntry<V>> {
    const entry: CacheEntry<V> = {
      key,
      version: ENTRY_VERSION,
      inputs,
      value,
      created: new Date().toISOString(),
    };
    const file = this.pathFor(key);
    const shard = key.slice(0, 2);
    if (!this.#shards.has(shard)) {
      await mkdir(join(this.dir, shard), { recursive: true });
      this.#shards.add(shard);
    }
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify(entry, null, 1)}\n`, 'utf8');
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.stats.writes++;
    return entry;
  }
}
