import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOpenAIServer, type TestOpenAIServer } from './support/openai-server.ts';
import { repoRoot } from './support/paths.ts';

const CHILD = join(repoRoot, 'test/support/openai-child.ts');
const servers: TestOpenAIServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function runChild(
  args: string[],
  killAfterLines?: { file: string; lines: number },
): Promise<number | string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      cwd: repoRoot,
      stdio: 'inherit',
    });
    let timer: NodeJS.Timeout | undefined;
    if (killAfterLines) {
      timer = setInterval(() => {
        const f = killAfterLines.file;
        if (existsSync(f) && readFileSync(f, 'utf8').split('\n').length - 1 >= killAfterLines.lines) {
          child.kill('SIGKILL');
        }
      }, 5);
    }
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve(signal ?? code ?? -1);
    });
  });
}

async function jsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await jsonFiles(p)));
    else if (name.endsWith('.json')) out.push(p);
  }
  return out;
}

const answer = (prompt: string) => (Number(prompt.split(' ').at(-1)) % 3 === 0 ? 'sadness' : 'joy');

describe('openai adapter: SIGKILL and restart', () => {
  it('a killed process restarted on the same cache re-asks only unanswered examples and ends with the same answers', async () => {
    const n = 60;
    const s = await startOpenAIServer({
      answer: (r) => answer(r.prompt),
      latencyMs: 25,
      models: [{ id: 'base-model', owned_by: 'vllm' }],
      version: '0.12.0',
    });
    servers.push(s);
    const dir = await mkdtemp(join(tmpdir(), 'openai-resume-'));
    const cache = join(dir, 'cache');

    // Reference: an uninterrupted run on its own cache.
    const refOut = join(dir, 'reference.jsonl');
    expect(await runChild([s.baseUrl, join(dir, 'ref-cache'), refOut, String(n)])).toBe(0);
    const refRequests = s.requests.length;
    expect(refRequests).toBe(n);

    const out = join(dir, 'killed.jsonl');
    expect(await runChild([s.baseUrl, cache, out, String(n)], { file: out, lines: 20 })).toBe('SIGKILL');
    const firstLeg = s.requests.length - refRequests;
    expect(firstLeg).toBeLessThan(n);
    // Every cache entry is complete JSON (temp + rename): a kill leaves no torn entries.
    for (const f of await jsonFiles(cache)) expect(() => JSON.parse(readFileSync(f, 'utf8'))).not.toThrow();

    const resumedOut = join(dir, 'resumed.jsonl');
    expect(await runChild([s.baseUrl, cache, resumedOut, String(n)])).toBe(0);
    const secondLeg = s.requests.length - refRequests - firstLeg;
    // Only requests that were on the wire at the kill (at most concurrency = 4) are ever sent twice.
    expect(firstLeg + secondLeg).toBeLessThanOrEqual(n + 4);

    const read = async (f: string) =>
      (await readFile(f, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .map(({ id, label, parse, raw }) => ({ id, label, parse, raw }));
    const reference = await read(refOut);
    const resumed = await read(resumedOut);
    expect(resumed).toEqual(reference);
    expect(new Set(resumed.map((p) => p.id)).size).toBe(n);
    // What the killed leg answered is served from the cache on restart.
    const cachedOnRestart = (await readFile(resumedOut, 'utf8'))
      .trim()
      .split('\n')
      .filter((l) => JSON.parse(l).cached).length;
    expect(cachedOnRestart).toBeGreaterThanOrEqual(20);
    expect(cachedOnRestart + secondLeg).toBe(n);
  });
});
