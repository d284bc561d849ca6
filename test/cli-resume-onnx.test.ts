/**
 * Kill and resume, in-process path: the ONNX baseline is SIGKILLed at 20 seeded points of a run and
 * started again each time with the same command. The final predictions and metrics must equal an
 * uninterrupted run's byte for byte, with no duplicate or missing line, and no example that was
 * already recorded may be handed to the adapter again (checked on the EMOTION_EVAL_TRACE log).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliAsync } from './support/cli.ts';
import { killAndResume } from './support/kill-resume.ts';
import { repoRoot } from './support/paths.ts';
import { writeSyntheticMeld } from './support/synthetic-meld.ts';

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

    const { kills } = await killAndResume({
      root,
      args,
      predictions: (out) => join(out, 'r/predictions/meld-7/tfidf-logreg/seed-1.jsonl'),
      total: 1500,
      kills: 20,
      seed: 20,
      verify: (out) => {
        for (const rel of [
          'predictions/meld-7/tfidf-logreg/seed-1.jsonl',
          'metrics/meld-7/tfidf-logreg/seed-1.json',
        ]) {
          expect(readFileSync(join(out, 'r', rel), 'utf8'), rel).toBe(
            readFileSync(join(root, 'clean/r', rel), 'utf8'),
          );
        }
        const cells = (dir: string) => JSON.parse(readFileSync(join(dir, 'r/summary.json'), 'utf8')).cells;
        expect(cells(out)).toEqual(cells(join(root, 'clean')));
      },
    });
    expect(kills).toBe(20);
  }, 600_000);
});

describe('concurrent runs into one results folder', () => {
  it('a second process on a run that a live process holds is refused (exit 3); a dead holder is taken over', () => {
    const root = mkdtempSync(join(tmpdir(), 'ee-concurrent-'));
    const args = [
      'run',
      '--config',
      join(repoRoot, 'test/fixtures/plugin/config.yaml'),
      '--out',
      join(root, 'out'),
      '--name',
      'same',
      '--no-figures',
      '--quiet',
    ];
    const lock = join(root, 'out/same/.lock');
    mkdirSync(join(root, 'out/same'), { recursive: true });
    // This test process is alive: it stands for a first run in progress.
    writeFileSync(
      lock,
      JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
    );
    const refused = cli(args);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(new RegExp(`is in use by process ${process.pid}`));
    expect(existsSync(join(root, 'out/same/predictions'))).toBe(false);
    // A holder that died (a pid no process has) leaves a stale lock: the next run takes it over.
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 30, host: hostname(), since: new Date().toISOString() }));
    const ok = cli(args);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });
});
