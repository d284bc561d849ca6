/**
 * Ctrl-C on a served run: SIGINT mid-run must end the process with exit 130 and the resume hint (not
 * exit 3 with "unexpected failure ... aborted": the requests the abort cuts short are no failure), and
 * the same command started again must finish the evaluation with every example recorded exactly once.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../harness/hash.ts';
import { cliAsync } from './support/cli.ts';
import { recordedIds } from './support/kill-resume.ts';
import { startOpenAIServer, type TestOpenAIServer } from './support/openai-server.ts';
import { writeServedConfig } from './support/served-config.ts';

const labels = ['neutral', 'joy', 'surprise', 'anger', 'sadness', 'disgust', 'fear'];

let server: TestOpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({
    // Slow answers: when SIGINT arrives, requests are certainly on the wire and get cut short.
    latencyMs: 150,
    models: [{ id: 'llama-emotion-lora', owned_by: 'generic' }],
    answer: (req) => labels[Number.parseInt(sha256(req.prompt).slice(0, 8), 16) % labels.length]!,
  });
});
afterAll(() => server.close());

function args(dir: string): string[] {
  const config = join(dir, 'run.yaml');
  writeServedConfig(config, server.baseUrl, {
    server: 'generic',
    labelChoice: 'text',
    concurrency: 2,
    batchSize: 2,
  });
  return ['run', '--config', config, '--out', join(dir, 'out'), '--name', 'r', '--no-figures', '--quiet'];
}

describe('served run interrupted with SIGINT', () => {
  it('exits 130 with the resume hint; the same command then completes without duplicates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-served-sigint-'));
    const predictions = join(dir, 'out/r/predictions/meld-7/llm/seed-1.jsonl');
    let sentAt = -1;
    const first = await cliAsync(args(dir), {
      onSpawn: (child) => {
        const timer = setInterval(() => {
          // A few batches recorded, so the run is well under way (and requests are in flight).
          if (recordedIds(predictions).length >= 6) {
            clearInterval(timer);
            sentAt = server.requests.length;
            child.kill('SIGINT');
          }
        }, 5);
        child.on('exit', () => clearInterval(timer));
      },
    });
    expect(sentAt, 'the run ended before SIGINT could be sent').toBeGreaterThan(0);
    expect(first.stderr).not.toMatch(/unexpected failure/);
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/run the same command to resume/);
    // Interrupted: no summary (the run is not finished) and only part of the examples recorded.
    expect(existsSync(join(dir, 'out/r/summary.json'))).toBe(false);
    const atInterrupt = recordedIds(predictions);
    expect(atInterrupt.length).toBeGreaterThanOrEqual(6);
    expect(new Set(atInterrupt).size).toBe(atInterrupt.length);
    // The abort stopped the run: the server saw only a few more requests than were in flight.
    expect(server.requests.length - sentAt).toBeLessThanOrEqual(8);

    const second = await cliAsync(args(dir));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/nothing to do/);
    const lines = readFileSync(predictions, 'utf8').split('\n').filter(Boolean);
    const records = lines.map((l) => JSON.parse(l) as { id: string; parse: string; pred: string | null });
    const ids = records.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const manifest = JSON.parse(readFileSync(join(dir, 'out/r/manifest.json'), 'utf8'));
    expect(ids.length).toBe(manifest.tasks['meld-7'].n);
    expect(ids.length).toBeGreaterThan(atInterrupt.length);
    for (const id of atInterrupt) expect(ids).toContain(id);
    // Every example answered: no request cut short by the interrupt was recorded as an error.
    for (const r of records) {
      expect(r.parse, r.id).toBe('ok');
      expect(labels).toContain(r.pred);
    }
    const summary = JSON.parse(readFileSync(join(dir, 'out/r/summary.json'), 'utf8'));
    expect(summary.cells).toHaveLength(1);
    expect(summary.cells[0].n).toBe(ids.length);
  }, 120_000);
});

describe('served run stopped with SIGTERM (a scheduler or CI job ending)', () => {
  it('exits 143 (128 + SIGTERM) with the resume hint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-served-sigterm-'));
    const predictions = join(dir, 'out/r/predictions/meld-7/llm/seed-1.jsonl');
    const r = await cliAsync(args(dir), {
      onSpawn: (child) => {
        const timer = setInterval(() => {
          if (recordedIds(predictions).length >= 4) {
            clearInterval(timer);
            child.kill('SIGTERM');
          }
        }, 5);
        child.on('exit', () => clearInterval(timer));
      },
    });
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/run the same command to resume/);
    expect(existsSync(join(dir, 'out/r/summary.json'))).toBe(false);
  }, 120_000);
});
