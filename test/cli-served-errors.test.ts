/**
 * Answers that never came (every request failed) count as wrong, so a run must not look like a
 * success: a warning even with --quiet, exit 3 when a cell got no answer at all, the same on a
 * re-run of the finished run, and --retry-errors asks them again once the server is back.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliAsync } from './support/cli.ts';
import { startOpenAIServer, type TestOpenAIServer } from './support/openai-server.ts';
import { writeServedConfig } from './support/served-config.ts';

let failing = true;
let server: TestOpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({
    models: [{ id: 'llama-emotion-lora', owned_by: 'generic' }],
    answer: () => 'joy',
    fault: () => (failing ? { kind: 'status', status: 503 } : undefined),
  });
});
afterAll(() => server.close());

describe('a served run whose requests all fail', () => {
  it('warns, exits 3, says so again on a re-run, and recovers with --retry-errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-served-errors-'));
    const config = join(dir, 'run.yaml');
    writeServedConfig(config, server.baseUrl, {
      server: 'generic',
      labelChoice: 'text',
      concurrency: 4,
      maxRetries: 0,
    });
    const args = [
      'run',
      '--config',
      config,
      '--out',
      join(dir, 'out'),
      '--name',
      'r',
      '--no-figures',
      '--quiet',
    ];
    const read = (rel: string) => JSON.parse(readFileSync(join(dir, 'out/r', rel), 'utf8'));

    const first = await cliAsync(args);
    const n = read('manifest.json').tasks['meld-7'].n as number;
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toContain(
      `warning: ${n} examples were recorded as errors (no answer; they count as wrong): meld-7/llm (seed 1) ${n}/${n}; run the same command with --retry-errors`,
    );
    expect(first.stderr).toMatch(/emotion-eval: no answer at all in meld-7\/llm \(seed 1\)/);
    expect(read('metrics/meld-7/llm/seed-1.json').parse_counts.error).toBe(n);

    const again = await cliAsync(args);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/nothing to do/);
    expect(again.stderr).toContain(`warning: ${n} examples were recorded as errors`);

    failing = false;
    const retried = await cliAsync([...args, '--retry-errors']);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stderr).not.toMatch(/recorded as errors/);
    expect(read('metrics/meld-7/llm/seed-1.json').parse_counts).toMatchObject({ ok: n, error: 0 });
  }, 120_000);
});
