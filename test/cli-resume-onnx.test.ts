/**
 * Kill and resume, in-process path: the ONNX baseline is SIGKILLed at 20 seeded points of a run and
 * started again each time with the same command. The final predictions and metrics must equal an
 * uninterrupted run's byte for byte, with no duplicate or missing line, and no example that was
 * already recorded may be handed to the adapter again (checked on the EMOTION_EVAL_TRACE log).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../harness/random.ts';
import { cliAsync } from './support/cli.ts';
import { writeSyntheticMeld } from './support/synthetic-meld.ts';

/** Ids of the complete lines (a line cut by the kill has no newline yet and is left out). */
const recordedIds = (file: string): string[] => {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop();
  return lines.filter(Boolean).map((l) => JSON.parse(l).id);
};

describe('kill -9 at 20 points and resume (ONNX baseline)', () => {
  it('ends byte-identical to an uninterrupted run and never recomputes a recorded example', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ee-kill-onnx-'));
    const data = join(root, 'data');
    writeSyntheticMeld(data, { train: 400, dev: 120, test: 1500 }, 3);
    const config = join(root, 'run.yaml');
    writeFileSync(
      config,
      [
        'datasets: [meld]',
        `dataDir: ${data}`,
        'bootstrap: { resamples: 200 }',
        'adapters:',
        '  - { id: tfidf-logreg, type: tfidf-logreg, batchSize: 2, cGrid: [1, 10], threads: 1 }',
        '',
      ].join('\n'),
    );
    const args = (out: string) => [
      'run',
      '--config',
      config,
      '--out',
      out,
      '--name',
      'r',
      '--no-figures',
      '--quiet',
    ];
    const clean = await cliAsync(args(join(root, 'clean')));
    expect(clean.code, clean.stderr).toBe(0);

    // Kills happen in episodes: each episode kills one output folder at seeded points until a start
    // is let run to the end, then checks it. A start that finishes before its kill point (a loaded
    // machine) just ends the episode early; episodes go on until 20 kills have happened.
    const rng = new Rng(20);
    let kills = 0;
    let episodes = 0;
    while (kills < 20 && episodes < 12) {
      const out = join(root, `killed-${episodes}`);
      const predictions = join(out, 'r/predictions/meld-7/tfidf-logreg/seed-1.jsonl');
      let finished = false;
      for (let attempt = 0; attempt < 40 && !finished; attempt++) {
        const trace = join(root, `trace-${episodes}-${attempt}.jsonl`);
        const before = new Set(recordedIds(predictions));
        const target = before.size + 1 + rng.int(Math.max(1, Math.floor((1500 - before.size) / 40)));
        const r = await cliAsync(args(out), {
          env: { EMOTION_EVAL_TRACE: trace },
          onSpawn: (child) => {
            if (kills >= 20) return;
            const timer = setInterval(() => {
              if (recordedIds(predictions).length >= target) {
                clearInterval(timer);
                child.kill('SIGKILL');
              }
            }, 2);
            child.on('exit', () => clearInterval(timer));
          },
        });
        if (r.signal === 'SIGKILL') kills++;
        else {
          expect(r.code, r.stderr).toBe(0);
          finished = true;
        }
        const handed = existsSync(trace)
          ? readFileSync(trace, 'utf8')
              .split('\n')
              .filter(Boolean)
              .flatMap((l) => JSON.parse(l).ids as string[])
          : [];
        for (const id of handed)
          expect(before.has(id), `${id} was recorded before attempt ${attempt}`).toBe(false);
      }
      expect(finished).toBe(true);
      const ids = recordedIds(predictions);
      expect(ids.length).toBe(1500);
      expect(new Set(ids).size).toBe(1500);
      for (const rel of [
        'predictions/meld-7/tfidf-logreg/seed-1.jsonl',
        'metrics/meld-7/tfidf-logreg/seed-1.json',
        'summary.json',
      ]) {
        const a = readFileSync(join(root, 'clean/r', rel), 'utf8');
        const b = readFileSync(join(out, 'r', rel), 'utf8');
        if (rel === 'summary.json') expect(JSON.parse(b).cells).toEqual(JSON.parse(a).cells);
        else expect(b, rel).toBe(a);
      }
      episodes++;
    }
    expect(kills).toBe(20);
  }, 600_000);
});
