/**
 * Nearest-label guesses (`lenient: true`) are reported as such: each guess is marked in the
 * predictions file, counted apart from parsed answers in the metrics file (parse_counts.lenient) and
 * the summary, and left out of parse_rate, which keeps its meaning (answers the explicit parser,
 * constraint or logprobs mapped to a label) whether guessing is on or off. The run-wide counts in the
 * manifest are recomputed from the predictions, so a resumed or re-run evaluation does not erase them.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../harness/hash.ts';
import { computeMetrics } from '../harness/metrics.ts';
import { scoreRecords } from '../harness/stats.ts';
import { cliAsync } from './support/cli.ts';
import { startOpenAIServer, type TestOpenAIServer } from './support/openai-server.ts';
import { writeServedConfig } from './support/served-config.ts';

const labels = ['neutral', 'joy', 'surprise', 'anger', 'sadness', 'disgust', 'fear'];
const protocol = { labels: ['a', 'b'], headline: 'accuracy' as const, metrics: ['accuracy' as const] };

describe('parse counts with nearest-label guesses', () => {
  const records = [
    { gold: 'a', pred: 'a', parse: 'ok' as const },
    { gold: 'b', pred: 'b', parse: 'ok' as const, lenient: true },
    { gold: 'b', pred: 'a', parse: 'ok' as const, lenient: true },
    { gold: 'a', pred: null, parse: 'unparseable' as const },
    { gold: 'a', pred: null, parse: 'error' as const },
  ];

  it('counts guesses under lenient, not ok; parse_rate = ok / n; the guessed label is scored', () => {
    const m = computeMetrics(records, protocol);
    expect(m.parse_counts).toEqual({ ok: 1, unparseable: 1, error: 1, lenient: 2 });
    expect(m.metrics.parse_rate).toBeCloseTo(1 / 5, 12);
    // The guesses are predictions: the right one counts as correct, the wrong one as wrong.
    expect(m.metrics.accuracy).toBeCloseTo(2 / 5, 12);
    expect(m.confusion.matrix).toEqual([
      [1, 0, 2],
      [1, 1, 0],
    ]);
  });

  it('without guesses the counts keep their three keys, and parse_rate is unchanged by the flag', () => {
    const strict = records.map(({ lenient: _l, ...r }) => r);
    expect(computeMetrics(strict, protocol).parse_counts).toEqual({ ok: 3, unparseable: 1, error: 1 });
    expect(computeMetrics(strict, protocol).metrics.parse_rate).toBeCloseTo(3 / 5, 12);
    // Accuracy does not depend on whether a label was parsed or guessed.
    expect(computeMetrics(strict, protocol).metrics.accuracy).toBe(
      computeMetrics(records, protocol).metrics.accuracy,
    );
  });

  it('the bootstrap interval of parse_rate is over the same definition', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ ...records[i % 5]!, id: `r${i}` }));
    const scored = scoreRecords(
      many,
      { ...protocol, metrics: ['accuracy', 'parse_rate'] },
      {
        resamples: 200,
        unit: 'utterance',
      },
    );
    expect(scored.metrics.parse_rate).toBeCloseTo(1 / 5, 12);
    expect(scored.ci?.parse_rate?.high).toBeLessThan(0.5);
  });
});

let server: TestOpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({
    latencyMs: 20,
    models: [{ id: 'llama-emotion-lora', owned_by: 'generic' }],
    // Per prompt: a label as it should be, a label inside a sentence (only a guess finds it), or none.
    answer: (req) => {
      const h = Number.parseInt(sha256(req.prompt).slice(0, 8), 16);
      const label = labels[h % labels.length]!;
      if (h % 5 === 0) return 'I cannot tell';
      if (h % 5 === 1) return `I think the answer is ${label}, mostly`;
      return label;
    },
  });
});
afterAll(() => server.close());

function args(dir: string): string[] {
  const config = join(dir, 'run.yaml');
  writeServedConfig(
    config,
    server.baseUrl,
    { server: 'generic', labelChoice: 'text', lenient: true, concurrency: 2, batchSize: 4 },
    50,
  );
  return ['run', '--config', config, '--out', join(dir, 'out'), '--name', 'r', '--no-figures', '--quiet'];
}

interface Rec {
  id: string;
  gold: string;
  pred: string | null;
  parse: string;
  raw?: string;
  lenient?: boolean;
}
const read = (dir: string, rel: string) => JSON.parse(readFileSync(join(dir, 'out/r', rel), 'utf8'));
const records = (dir: string): Rec[] =>
  readFileSync(join(dir, 'out/r/predictions/meld-7/llm/seed-1.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('served run with lenient: true', () => {
  it('reports guesses per cell and run-wide, and keeps the counts through a re-run and a resume', async () => {
    const clean = mkdtempSync(join(tmpdir(), 'ee-lenient-'));
    const first = await cliAsync(args(clean));
    expect(first.code, first.stderr).toBe(0);
    const recs = records(clean);
    const n = recs.length;
    const guesses = recs.filter((r) => r.lenient);
    const strict = recs.filter((r) => r.parse === 'ok' && !r.lenient);
    const unparseable = recs.filter((r) => r.parse === 'unparseable');
    expect(guesses.length).toBeGreaterThan(2);
    expect(unparseable.length).toBeGreaterThan(0);
    for (const g of guesses) {
      expect(g.parse).toBe('ok');
      expect(labels).toContain(g.pred);
      expect(g.raw).toMatch(/^I think the answer is /);
    }
    for (const r of strict) expect(r.raw).toBe(r.pred);

    const counts = { ok: strict.length, unparseable: unparseable.length, error: 0, lenient: guesses.length };
    const metrics = read(clean, 'metrics/meld-7/llm/seed-1.json');
    expect(metrics.parse_counts).toEqual(counts);
    expect(metrics.metrics.parse_rate).toBeCloseTo(strict.length / n, 12);
    const correct = recs.filter((r) => r.pred === r.gold).length;
    expect(metrics.metrics.accuracy).toBeCloseTo(correct / n, 12);
    const [cell] = read(clean, 'summary.json').cells;
    expect(cell).toMatchObject({ n, lenient: guesses.length });
    expect(cell.parse_rate).toBeCloseTo(strict.length / n, 12);
    // `score` on the stored predictions counts the guesses the same way.
    const scored = await cliAsync([
      'score',
      '--predictions',
      join(clean, 'out/r/predictions/meld-7/llm/seed-1.jsonl'),
      '--protocol',
      'meld-7',
      '--json',
    ]);
    expect(scored.code, scored.stderr).toBe(0);
    expect(JSON.parse(scored.stdout).parse_counts).toEqual(counts);

    const manifest = read(clean, 'manifest.json');
    expect(manifest.adapters.llm.parse_counts).toEqual(counts);
    expect(manifest.adapters.llm.facts).toMatchObject({
      lenientParsing: true,
      thisInvocation: { answers: { ok: strict.length, lenient: guesses.length } },
    });
    expect(manifest.adapters.llm.facts).not.toHaveProperty('lenientAnswers');

    // A re-run of the finished evaluation answers nothing itself, and erases no count.
    const again = await cliAsync(args(clean));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('nothing to do');
    const reran = read(clean, 'manifest.json');
    expect(reran.adapters.llm.parse_counts).toEqual(counts);
    // Having seen nothing, the re-run keeps the facts of the invocation that did the work.
    expect(reran.adapters.llm.facts).toEqual(manifest.adapters.llm.facts);
    expect(read(clean, 'summary.json').cells[0].lenient).toBe(guesses.length);

    // Killed part-way (its tallies die with it) and resumed: the counts still cover every answer.
    const killed = mkdtempSync(join(tmpdir(), 'ee-lenient-killed-'));
    const predictions = join(killed, 'out/r/predictions/meld-7/llm/seed-1.jsonl');
    const cut = await cliAsync(args(killed), {
      onSpawn: (child) => {
        const timer = setInterval(() => {
          const lines = existsSync(predictions)
            ? readFileSync(predictions, 'utf8').split('\n').length - 1
            : 0;
          if (lines >= n / 2) {
            clearInterval(timer);
            child.kill('SIGKILL');
          }
        }, 5);
        child.on('exit', () => clearInterval(timer));
      },
    });
    expect(cut.signal).toBe('SIGKILL');
    const resumed = await cliAsync(args(killed));
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const rel of ['predictions/meld-7/llm/seed-1.jsonl', 'metrics/meld-7/llm/seed-1.json']) {
      expect(readFileSync(join(killed, 'out/r', rel), 'utf8'), rel).toBe(
        readFileSync(join(clean, 'out/r', rel), 'utf8'),
      );
    }
    const after = read(killed, 'manifest.json');
    expect(after.adapters.llm.parse_counts).toEqual(counts);
    // The resumed process guessed only for the examples it answered itself.
    const own = after.adapters.llm.facts.thisInvocation.answers;
    expect(own.ok + own.lenient + own.unparseable + own.error).toBeLessThan(n);
  }, 120_000);
});
