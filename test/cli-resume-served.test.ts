import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../harness/hash.ts';
import { cliAsync } from './support/cli.ts';
import { killAndResume } from './support/kill-resume.ts';
import { startOpenAIServer, type TestOpenAIServer } from './support/openai-server.ts';
import { writeServedConfig } from './support/served-config.ts';

const KEY = 'sk-test-2f7c1e0b9d8a-should-never-be-written';
const labels = ['neutral', 'joy', 'surprise', 'anger', 'sadness', 'disgust', 'fear'];

let server: TestOpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({
    latencyMs: 40,
    models: [{ id: 'llama-emotion-lora', owned_by: 'generic' }],
    // A fixed answer per prompt; one prompt in eight gets an answer that is no label.
    answer: (req) => {
      const h = Number.parseInt(sha256(req.prompt).slice(0, 8), 16);
      return h % 8 === 0 ? 'I cannot tell' : labels[h % labels.length]!;
    },
  });
});
afterAll(() => server.close());

function writeConfig(dir: string, cache: string): string {
  const file = join(dir, 'run.yaml');
  writeFileSync(
    file,
    [
      'datasets: [meld]',
      `cacheDir: ${cache}`,
      'bootstrap: { resamples: 100 }',
      'adapters:',
      '  - id: llm',
      '    type: openai',
      `    baseUrl: ${server.baseUrl}`,
      '    model: llama-emotion-lora',
      '    prompt: peng2023',
      '    labelChoice: text',
      '    concurrency: 2',
      '    apiKeyEnv: EE_TEST_KEY',
      '',
    ].join('\n'),
  );
  return file;
}

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe('served adapter through the CLI: kill -9 mid-run, resume, same result', () => {
  it('gives byte-identical predictions and metrics, repeats no recorded example, and writes the key nowhere', async () => {
    const env = { EE_TEST_KEY: KEY };
    const clean = mkdtempSync(join(tmpdir(), 'ee-served-clean-'));
    const cleanRun = await cliAsync(
      [
        'run',
        '--config',
        writeConfig(clean, join(clean, 'cache')),
        '--out',
        join(clean, 'out'),
        '--name',
        'r',
        '--no-figures',
        '--quiet',
      ],
      { env },
    );
    expect(cleanRun.stderr).not.toMatch(/unexpected/);
    expect(cleanRun.stderr + cleanRun.stdout).not.toContain(KEY);
    expect(cleanRun.code).toBe(0);
    const cleanRequests = server.requests.length;
    const cleanRecords = readFileSync(join(clean, 'out/r/predictions/meld-7/llm/seed-1.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; text: string; pred: string | null; parse: string });
    const n = cleanRecords.length;
    const distinctTexts = new Set(cleanRecords.map((r) => r.text)).size;
    expect(n).toBeGreaterThan(40);
    // One request per distinct prompt: repeated utterances ("Okay.") are answered from the cache.
    expect(cleanRequests).toBe(distinctTexts);
    expect(cleanRecords.some((r) => r.parse === 'unparseable' && r.pred === null)).toBe(true);

    const killed = mkdtempSync(join(tmpdir(), 'ee-served-killed-'));
    const config = writeConfig(killed, join(killed, 'cache'));
    const args = [
      'run',
      '--config',
      config,
      '--out',
      join(killed, 'out'),
      '--name',
      'r',
      '--no-figures',
      '--quiet',
    ];
    const predictions = join(killed, 'out/r/predictions/meld-7/llm/seed-1.jsonl');
    const before = server.requests.length;
    const first = await cliAsync(args, {
      env,
      onSpawn: (child) => {
        const timer = setInterval(() => {
          const lines = existsSync(predictions)
            ? readFileSync(predictions, 'utf8').split('\n').length - 1
            : 0;
          if (lines >= n / 3) {
            clearInterval(timer);
            child.kill('SIGKILL');
          }
        }, 5);
      },
    });
    expect(first.signal).toBe('SIGKILL');
    const complete = readFileSync(predictions, 'utf8').split('\n');
    complete.pop(); // a line cut by the kill has no newline yet
    const recordedAtKill = complete.filter(Boolean).map((l) => JSON.parse(l).text as string);
    expect(recordedAtKill.length).toBeGreaterThanOrEqual(n / 3);
    expect(recordedAtKill.length).toBeLessThan(n);

    const afterKill = server.requests.length;
    const second = await cliAsync(args, { env });
    expect(second.code).toBe(0);
    // Recorded examples are never asked again; answers in flight at the kill come from the cache.
    const resumedPrompts = server.requests.slice(afterKill).map((r) => r.prompt);
    for (const text of recordedAtKill) expect(resumedPrompts.some((p) => p.endsWith(text))).toBe(false);
    expect(server.requests.length - before).toBeLessThanOrEqual(distinctTexts + 8);

    for (const rel of ['predictions/meld-7/llm/seed-1.jsonl', 'metrics/meld-7/llm/seed-1.json']) {
      expect(readFileSync(join(killed, 'out/r', rel), 'utf8')).toBe(
        readFileSync(join(clean, 'out/r', rel), 'utf8'),
      );
    }
    const ids = readFileSync(predictions, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).id);
    expect(new Set(ids).size).toBe(n);

    // A third run of the finished evaluation sends nothing at all.
    const beforeThird = server.requests.length;
    const third = await cliAsync(args, { env });
    expect(third.code).toBe(0);
    expect(third.stderr).toContain('nothing to do');
    expect(server.requests.length).toBe(beforeThird);

    for (const f of [...allFiles(clean), ...allFiles(killed)])
      expect(readFileSync(f, 'utf8').includes(KEY)).toBe(false);
    // The server did receive the key: it was used, just never stored.
    expect(server.requests.at(-1)!.authorization).toBe(`Bearer ${KEY}`);
  });
});

describe('served faults at about 15% of requests on two replicas', () => {
  it('completes; every example is answered or an error with its cause; a summary line counts retries per endpoint', async () => {
    const kinds = ['429', '500', 'drop', 'slow', 'malformed', 'empty'] as const;
    const replicas = await Promise.all(
      [0, 1].map(() =>
        startOpenAIServer({
          models: [{ id: 'llama-emotion-lora', owned_by: 'generic' }],
          answer: (req) => labels[Number.parseInt(sha256(req.prompt).slice(0, 8), 16) % labels.length]!,
          fault: (req) => {
            const h = Number.parseInt(sha256(`${req.prompt}#${req.attempt}`).slice(0, 8), 16);
            if (h % 100 >= 15) return undefined;
            const kind = kinds[h % kinds.length]!;
            if (kind === '429') return { kind: '429', retryAfter: '0' };
            if (kind === 'slow') return { kind: 'slow', ms: 2_000 };
            if (kind === 'empty') return { kind: 'status', status: 200, body: '{"choices":[]}' };
            return { kind };
          },
        }),
      ),
    );
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ee-served-faults-'));
      const config = join(dir, 'run.yaml');
      writeServedConfig(
        config,
        replicas.map((r) => r.baseUrl),
        { labelChoice: 'text', concurrency: 4, timeoutMs: 400, maxRetries: 1, backoffMs: 5 },
      );
      const r = await cliAsync([
        'run',
        '--config',
        config,
        '--out',
        join(dir, 'out'),
        '--name',
        'f',
        '--no-figures',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const records = readFileSync(join(dir, 'out/f/predictions/meld-7/llm/seed-1.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { id: string; pred: string | null; parse: string; error?: string });
      expect(new Set(records.map((x) => x.id)).size).toBe(records.length);
      for (const x of records) {
        if (x.parse === 'error') expect(x.error, x.id).toMatch(/\S/);
        else expect(labels).toContain(x.pred);
      }
      // With one retry, a few examples fail twice in a row and are kept as errors; most are answered.
      expect(records.filter((x) => x.parse === 'ok').length).toBeGreaterThan(records.length * 0.8);
      const summary = r.stderr.split('\n').find((l) => l.startsWith('llm: '));
      expect(summary).toMatch(/llm: \d+ requests, \d+ retries \(.+\), \d+ examples recorded as errors/);
      for (const rep of replicas) expect(summary).toContain(`${rep.baseUrl.replace(/\/+$/, '')}: `);
      const errors = records.filter((x) => x.parse === 'error').length;
      expect(summary).toContain(`${errors} examples recorded as errors`);
      // Per endpoint: retried tries add up to the run's retries; give-ups are the examples kept as
      // errors after failing for good on that endpoint (an answer with no choices fails no call).
      const total = Number(/ (\d+) retries/.exec(summary!)![1]);
      expect(total).toBeGreaterThan(0);
      let retried = 0;
      for (const rep of replicas) {
        const url = rep.baseUrl.replace(/\/+$/, '');
        const m = new RegExp(
          `${url.replace(/[.]/g, '\\.')}: \\d+ requests, \\d+ failed \\((\\d+) retried, (\\d+) gave up\\)`,
        ).exec(summary!);
        expect(m, url).not.toBeNull();
        retried += Number(m![1]);
        const finalHere = records.filter(
          (x) =>
            x.parse === 'error' &&
            x.error!.startsWith(`${url}/`) &&
            /gave up after|: HTTP \d{3}/.test(x.error!),
        ).length;
        expect(Number(m![2]), url).toBe(finalHere);
      }
      expect(retried).toBe(total);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });
});

describe('served adapter: kill -9 at 20 points', () => {
  it('ends byte-identical to an uninterrupted run, and no recorded example is asked again', async () => {
    const env = { EE_TEST_KEY: KEY };
    const root = mkdtempSync(join(tmpdir(), 'ee-served-20-'));
    const cleanDir = join(root, 'clean');
    const clean = await cliAsync(
      [
        'run',
        '--config',
        writeConfig(root, join(root, 'cache-clean')),
        '--out',
        cleanDir,
        '--name',
        'r',
        '--no-figures',
        '--quiet',
      ],
      { env },
    );
    expect(clean.code, clean.stderr).toBe(0);
    const total = readFileSync(join(cleanDir, 'r/predictions/meld-7/llm/seed-1.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean).length;
    let episodeCache = '';
    const textOf = new Map(
      readFileSync(join(cleanDir, 'r/predictions/meld-7/llm/seed-1.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const r = JSON.parse(l) as { id: string; text: string };
          return [r.id, r.text] as const;
        }),
    );
    let seen = server.requests.length;
    const { kills } = await killAndResume({
      root,
      total,
      kills: 20,
      seed: 4,
      env,
      args: (out) => {
        // Each episode has its own response cache, so every answer it gets is asked of the server.
        episodeCache = `${out}-cache`;
        const dir = `${out}-config`;
        mkdirSync(dir, { recursive: true });
        return [
          'run',
          '--config',
          writeConfig(dir, episodeCache),
          '--out',
          out,
          '--name',
          'r',
          '--no-figures',
          '--quiet',
        ];
      },
      predictions: (out) => join(out, 'r/predictions/meld-7/llm/seed-1.jsonl'),
      // Count requests: nothing recorded before a start is asked of the server again by it (answers
      // in flight at a kill were cached when they arrived, so they are not asked again either).
      afterAttempt: ({ before, attempt }) => {
        const recorded = [...before].map((id) => `: ${textOf.get(id)}`);
        for (const req of server.requests.slice(seen)) {
          expect(
            recorded.some((t) => req.prompt.endsWith(t)),
            `attempt ${attempt} asked again: ${req.prompt}`,
          ).toBe(false);
        }
        seen = server.requests.length;
      },
      verify: (out) => {
        for (const rel of ['predictions/meld-7/llm/seed-1.jsonl', 'metrics/meld-7/llm/seed-1.json']) {
          expect(readFileSync(join(out, 'r', rel), 'utf8'), rel).toBe(
            readFileSync(join(cleanDir, 'r', rel), 'utf8'),
          );
        }
      },
    });
    expect(kills).toBe(20);
    for (const f of allFiles(root)) expect(readFileSync(f, 'utf8').includes(KEY), f).toBe(false);
  }, 600_000);
});
