import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.ts';
import { repoRoot } from './support/paths.ts';

const config = join(repoRoot, 'test/fixtures/plugin/config.yaml');

describe('plugins: a loader and an adapter from a fixture folder behave like built-in ones', () => {
  it('lists the plugin adapter with its origin', () => {
    const r = cli(['adapters', '--config', config, '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { type: string; origin: string }[];
    expect(rows.find((x) => x.type === 'keyword')?.origin).toBe('./toy-plugin.ts');
    expect(rows.find((x) => x.type === 'majority')?.origin).toBe('built-in');
  });

  it('lists the plugin dataset with its counts per split', () => {
    const r = cli(['datasets', '--config', config, '--json']);
    expect(r.code).toBe(0);
    const toy = (
      JSON.parse(r.stdout) as { id: string; protocols: Record<string, { splits: Record<string, unknown> }> }[]
    ).find((d) => d.id === 'toy')!;
    expect(toy.protocols['toy-2']!.splits.test).toEqual({ n: 6, labels: { happy: 3, sad: 3 }, dropped: {} });
    expect(toy.protocols['toy-2']!.splits.train).toEqual({ n: 4, labels: { happy: 2, sad: 2 }, dropped: {} });
  });

  it('runs the plugin adapter on the plugin dataset, then resumes as a no-op, and refuses a changed config', () => {
    const out = mkdtempSync(join(tmpdir(), 'ee-plugin-run-'));
    const r = cli(['run', '--config', config, '--out', out, '--no-figures', '--quiet']);
    expect(r.stderr).not.toMatch(/unexpected/);
    expect(r.code).toBe(0);
    const runDir = r.stderr.match(/results in (.*)\n/)![1]!;
    const metrics = JSON.parse(readFileSync(join(runDir, 'metrics/toy-2/kw/seed-1.json'), 'utf8'));
    // Hand-worked: 5 of 6 right ("not glad at all" is sad, the keyword says happy).
    // happy: P 3/4, R 1, F1 6/7; sad: P 1, R 2/3, F1 4/5.
    expect(metrics.metrics.accuracy).toBeCloseTo(5 / 6, 12);
    expect(metrics.metrics.macro_f1).toBeCloseTo((6 / 7 + 4 / 5) / 2, 12);
    expect(metrics.confusion.matrix).toEqual([
      [3, 0, 0],
      [1, 2, 0],
    ]);
    expect(readFileSync(join(runDir, 'leaderboard.md'), 'utf8')).toContain('kw');

    const again = cli(['run', '--config', config, '--out', out, '--no-figures', '--quiet']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing to do');

    const changed = cli(['run', '--config', config, '--out', out, '--seeds', '2', '--no-figures', '--quiet']);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/exists with a different config \(seeds changed\); use --force-new/);
    const forced = cli([
      'run',
      '--config',
      config,
      '--out',
      out,
      '--seeds',
      '2',
      '--force-new',
      '--no-figures',
      '--quiet',
    ]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/results in .*-2\n/);
  });
});

describe('bad input: one line, exit code 2, nothing written', () => {
  it('an unknown config key names the file and the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-bad-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'datasetz: [meld]\n');
    const r = cli(['run', '--config', file, '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${file}: unknown key 'datasetz'`);
  });

  it('a near-miss dataset id gets a suggestion', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-bad-'));
    const r = cli(['run', '--datasets', 'mled', '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("did you mean 'meld'");
  });

  it('a data folder without the release files names what is missing and writes no run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-bad-'));
    const r = cli([
      'run',
      '--datasets',
      'meld',
      '--data-dir',
      join(dir, 'nodata'),
      '--out',
      join(dir, 'out'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/meld: folder not found/);
    expect(() => readFileSync(join(dir, 'out'))).toThrow();
  });

  it('a broken release file stops the run before anything is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-bad-'));
    cpSync(join(repoRoot, 'dataset-loaders/samples/meld'), join(dir, 'data/meld'), { recursive: true });
    const test = join(dir, 'data/meld/test_sent_emo.csv');
    writeFileSync(test, readFileSync(test, 'utf8').replace(/,neutral,/, ',bored,'));
    const r = cli(['run', '--datasets', 'meld', '--data-dir', join(dir, 'data'), '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(`${test.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: label 'bored'`),
    );
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('score names the file and line of a bad record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-bad-'));
    const file = join(dir, 'p.jsonl');
    writeFileSync(file, '{"id":"a","gold":"joy","pred":"joy"}\n{"id":"b","pred":"joy"}\n');
    const r = cli(['score', '--predictions', file, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:2: expected "gold"`);
  });

  it('an unknown option is exit code 2', () => {
    expect(cli(['run', '--frobnicate']).code).toBe(2);
  });
});
