/**
 * Provenance under every table must name the prompt template (id and hash) each adapter ran with.
 * The facts are read in the shapes the real adapters write: the openai adapter's facts come from
 * the adapter itself (no server is contacted to build them), onnx-causal-lm's from a tiny decoder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxCausalLmFactory } from '../adapters/onnx-causal-lm/index.ts';
import { openaiAdapterFactory } from '../adapters/openai/index.ts';
import { builtinPrompts } from '../adapters/prompts/index.ts';
import { releaseSessions } from '../harness/inference/onnx.ts';
import type { Manifest, PromptTemplate } from '../harness/types.ts';
import { provenanceOf, templateFacts } from '../reports/aggregate.ts';
import { renderLeaderboard } from '../reports/leaderboard.ts';
import { loadResults, type ResultSet } from '../reports/load-results.ts';
import { testEnv } from './support/openai-cell.ts';
import { startOpenAIServer } from './support/openai-server.ts';
import {
  SCENARIO_ADAPTERS,
  TEMPLATE_A,
  TEMPLATE_B,
  TOY3_A1,
  TOY3_GOLD,
  TOY3_LABELS,
  writeRunFolder,
  writeScenario,
} from './support/result-fixture.ts';
import { writeDecoderFolder } from './support/tiny-models.ts';

const root = mkdtempSync(join(tmpdir(), 'reports-prov-'));
let results: ResultSet;

beforeAll(async () => {
  writeScenario(join(root, 'scenario'));
  results = await loadResults([join(root, 'scenario')], { predictions: true });
});
afterAll(async () => {
  await releaseSessions();
  rmSync(root, { recursive: true, force: true });
});

const A_TEXT = `template ${TEMPLATE_A.id} hash ${TEMPLATE_A.hash.slice(0, 12)}`;
const B_TEXT = `template ${TEMPLATE_B.id} hash ${TEMPLATE_B.hash.slice(0, 12)}`;

describe('template facts in the shapes adapters write', () => {
  it('reads { id, hash } objects, id + *_hash pairs, and skips template text', () => {
    expect(templateFacts({ template: { id: 'peng2023', hash: 'h1' }, model: 'm' })).toEqual({
      template: { id: 'peng2023', hash: 'h1' },
    });
    expect(templateFacts({ template: 'peng2023', template_hash: 'h2', chat: false })).toEqual({
      template: { id: 'peng2023', hash: 'h2' },
    });
    expect(templateFacts({ promptTemplateSha256: 'h3' })).toEqual({ promptTemplate: { hash: 'h3' } });
    // A chat template is the template's text, not a name to print under a table.
    expect(templateFacts({ chat_template: '{% for m in messages %}\n{{ m.content }}{% endfor %}' })).toEqual(
      {},
    );
    expect(templateFacts({ cells: { x: 1 } })).toEqual({});
    expect(templateFacts(undefined)).toEqual({});
  });

  it('the real openai adapter facts carry a template object that provenance keeps', async () => {
    // The adapter asks the server for its model list when it is created: a real loopback server.
    const server = await startOpenAIServer({
      answer: () => 'joy',
      models: [{ id: 'base-model', owned_by: 'generic' }],
    });
    const config = openaiAdapterFactory.parseConfig({
      id: 'llm',
      type: 'openai',
      model: 'base-model',
      baseUrl: server.baseUrl,
      prompt: 'peng2023',
    });
    const adapter = await Promise.resolve(
      openaiAdapterFactory.create({ ...config, id: 'llm' }, testEnv(join(root, 'oa'))),
    ).finally(() => server.close());
    const facts = adapter.facts!();
    const peng = builtinPrompts.find((t) => t.id === 'peng2023')!;
    // The shape this report reads: an object, which the old filter (strings and numbers) dropped.
    expect(facts.template).toEqual({ id: 'peng2023', hash: peng.hash });
    const dir = join(root, 'real-openai');
    writeRunFolder(dir, {
      runId: 'run-oa',
      created: '2026-03-01T00:00:00.000Z',
      adapters: { llm: { type: adapter.type, fingerprint: adapter.fingerprint(), facts } },
      cells: [
        {
          task: 'toy-3',
          adapter: 'llm',
          headline: 'weighted_f1',
          labels: TOY3_LABELS,
          gold: TOY3_GOLD,
          pred: TOY3_A1,
          metrics: { weighted_f1: 0.74 },
        },
      ],
    });
    const r = await loadResults([dir]);
    const out = renderLeaderboard(r, { format: 'md', details: false });
    expect(out).toContain(
      `llm \\[openai\\] fingerprint ${adapter.fingerprint().slice(0, 12)}, template peng2023 hash ${peng.hash.slice(0, 12)}`,
    );
  });

  it('the real onnx-causal-lm adapter facts: template id and template_hash', async () => {
    const modelDir = join(root, 'decoder');
    writeDecoderFolder(modelDir);
    const template: PromptTemplate = {
      id: 'tiny-template',
      description: 'sentence then a cue',
      hash: 'c0ffee'.repeat(10).slice(0, 64),
      render: ({ example }) => ({ messages: [{ role: 'user', content: example.text }], text: example.text }),
    };
    const config = onnxCausalLmFactory.parseConfig({ model: 'decoder' });
    const adapter = await onnxCausalLmFactory.create(
      { ...config, id: 'lm', template },
      {
        baseDir: root,
        log: { info: () => {}, warn: () => {} },
        device: 'cpu',
        cacheDir: join(root, 'cache'),
      },
    );
    const facts = adapter.facts!();
    expect(templateFacts(facts)).toEqual({ template: { id: 'tiny-template', hash: template.hash } });
  });
});

describe('provenance lines name template hashes in every format', () => {
  it('terminal, md, latex and html', () => {
    const terminal = renderLeaderboard(results, { format: 'terminal', color: false, details: false });
    const md = renderLeaderboard(results, { format: 'md', details: false });
    const latex = renderLeaderboard(results, { format: 'latex', details: false });
    const html = renderLeaderboard(results, { format: 'html' });
    // "[openai]" as each format writes brackets; the template text has nothing to escape.
    const expected = {
      terminal: `A [openai] fingerprint fp-A-0123456, ${A_TEXT}`,
      md: `A \\[openai\\] fingerprint fp-A-0123456, ${A_TEXT}`,
      latex: `A {[}openai{]} fingerprint fp-A-0123456, ${A_TEXT}`,
      html: `A [openai] fingerprint fp-A-0123456, ${A_TEXT}`,
    };
    for (const [name, out] of Object.entries({ terminal, md, latex, html })) {
      expect(out, name).toContain(expected[name as keyof typeof expected]);
      expect(out, name).toContain(B_TEXT);
    }
  });

  it('per-task tables list only the adapters (and templates) of that task', () => {
    const out = renderLeaderboard(results, { format: 'terminal', color: false });
    const perClass = out.split('\n\n').find((b) => b.startsWith('toy-3: per-class'))!;
    expect(perClass).toContain(A_TEXT);
    expect(perClass).toContain(B_TEXT);
    expect(perClass).not.toContain('C [tfidf-logreg]');
  });

  it('json keeps the full hashes', () => {
    const j = JSON.parse(renderLeaderboard(results, { format: 'json' }));
    const a = j.provenance.adapters.find((x: { id: string }) => x.id === 'A');
    expect(a.templates).toEqual({ template: TEMPLATE_A });
    const b = j.provenance.adapters.find((x: { id: string }) => x.id === 'B');
    expect(b.templates).toEqual({ template: TEMPLATE_B });
  });

  it('falls back to per-cell facts when the adapter facts are missing (a run stopped early)', async () => {
    const dir = join(root, 'stopped');
    const adapters: Manifest['adapters'] = { A: { ...SCENARIO_ADAPTERS.A!, facts: {} } };
    writeRunFolder(dir, {
      runId: 'run-stopped',
      created: '2026-03-02T00:00:00.000Z',
      adapters,
      cellFacts: { 'toy-3/A/seed-1': { server: 'vllm', template: { ...TEMPLATE_A } } },
      cells: [
        {
          task: 'toy-3',
          adapter: 'A',
          headline: 'weighted_f1',
          labels: TOY3_LABELS,
          gold: TOY3_GOLD,
          pred: TOY3_A1,
          metrics: { weighted_f1: 0.74 },
        },
      ],
    });
    const r = await loadResults([dir]);
    const p = provenanceOf(r.cells, r.runs);
    expect(p.adapters[0]!.templates).toEqual({ template: TEMPLATE_A });
    expect(renderLeaderboard(r, { format: 'terminal', color: false, details: false })).toContain(A_TEXT);
  });
});
