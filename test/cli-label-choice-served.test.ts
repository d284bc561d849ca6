/**
 * Label choice through the CLI on a vLLM server that refuses constrained choice: `auto` steps down to
 * logprobs (not straight to free text), the step is in the manifest facts, and a re-run of the
 * finished evaluation, which sends nothing and so learns nothing, keeps those facts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliAsync } from './support/cli.ts';
import { startOpenAIServer, type TestOpenAIServer } from './support/openai-server.ts';
import { writeServedConfig } from './support/served-config.ts';

let server: TestOpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({
    models: [{ id: 'llama-emotion-lora', owned_by: 'vllm' }],
    version: '0.12.0',
    acceptsConstraints: false,
    // The text is no label: a run that fell to free text would record every answer as unparseable.
    answer: () => ({ text: 'Well, hard to say', top: [{ token: ' joy', logprob: -0.2 }] }),
  });
});
afterAll(() => server.close());

describe('served run on a server refusing constrained choice', () => {
  it('auto steps down to logprobs, says so in the manifest, and a re-run keeps it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-label-choice-'));
    const config = join(dir, 'run.yaml');
    writeServedConfig(config, server.baseUrl, { concurrency: 4 });
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
    const first = await cliAsync(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/refused constrained choice; labels are chosen by logprobs/);
    const records = readFileSync(join(dir, 'out/r/predictions/meld-7/llm/seed-1.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { pred: string; parse: string; scores?: Record<string, number> });
    expect(records.length).toBeGreaterThan(40);
    for (const r of records) expect(r).toMatchObject({ pred: 'joy', parse: 'ok', scores: { joy: -0.2 } });
    // One request found out; no other example was sent with the constraint.
    expect(server.requests.filter((r) => r.choices)).toHaveLength(1);

    const manifest = JSON.parse(readFileSync(join(dir, 'out/r/manifest.json'), 'utf8'));
    const facts = manifest.adapters.llm.facts;
    expect(facts).toMatchObject({ labelChoiceSetting: 'auto', labelChoiceUsed: ['logprobs'] });
    expect(facts.guidedRejected).toMatch(/HTTP 400/);
    expect(facts.logprobsRejected).toBeUndefined();
    expect(manifest.cells['meld-7/llm/seed-1']).toMatchObject({ server: 'vllm', labelChoice: 'guided' });

    const before = server.requests.length;
    const again = await cliAsync(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('nothing to do');
    expect(server.requests.length).toBe(before);
    const reran = JSON.parse(readFileSync(join(dir, 'out/r/manifest.json'), 'utf8'));
    expect(reran.adapters.llm.facts).toEqual(facts);
    expect(reran.cells).toEqual(manifest.cells);
  }, 120_000);
});
