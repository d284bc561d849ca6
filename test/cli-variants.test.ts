import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emorynlpLoader } from '../dataset-loaders/emorynlp.ts';
import { cli, runArgs } from './support/cli.ts';
import { repoRoot } from './support/paths.ts';

interface JsonUtterance {
  emotion: string;
}
interface JsonRelease {
  episodes: { scenes: { utterances: JsonUtterance[] }[] }[];
}

/** Emotion counts of an EmoryNLP JSON file, walked here by hand (season -> episodes -> scenes -> utterances). */
function jsonCounts(file: string): Record<string, number> {
  const release = JSON.parse(readFileSync(file, 'utf8')) as JsonRelease;
  const counts: Record<string, number> = {};
  for (const e of release.episodes)
    for (const s of e.scenes) for (const u of s.utterances) counts[u.emotion] = (counts[u.emotion] ?? 0) + 1;
  return counts;
}

/** Rows of an EmoryNLP CSV file (no line breaks inside fields in the sample). */
function csvCount(file: string): number {
  return readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean).length - 1;
}

interface DatasetJson {
  id: string;
  variant: string;
  protocols: { 'emorynlp-7': { splits: { test: { n: number; labels: Record<string, number> } } } };
}

describe('--variant: the form of a release to read where two sit side by side', () => {
  const data = mkdtempSync(join(tmpdir(), 'ee-variants-'));
  const dir = join(data, 'emorynlp');
  cpSync(join(repoRoot, 'dataset-loaders/samples/emorynlp'), dir, { recursive: true });
  cpSync(join(repoRoot, 'test/fixtures/emorynlp/json'), dir, { recursive: true });
  expect(readdirSync(dir).sort()).toHaveLength(6);
  const report = (extra: string[]) => {
    const r = cli(['datasets', '--data-dir', data, '--json', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as DatasetJson[]).find((d) => d.id === 'emorynlp')!;
  };

  it('reads the CSV by default and the JSON release when asked', () => {
    const byDefault = report([]);
    expect(byDefault.variant).toBe('csv');
    expect(byDefault.protocols['emorynlp-7'].splits.test.n).toBe(
      csvCount(join(dir, 'emorynlp_test_final.csv')),
    );

    const json = report(['--variant', 'emorynlp=json']);
    expect(json.variant).toBe('json');
    const want = jsonCounts(join(dir, 'emotion-detection-tst.json'));
    const n = Object.values(want).reduce((a, b) => a + b, 0);
    expect(json.protocols['emorynlp-7'].splits.test.n).toBe(n);
    // Every label of the protocol, counted as in the file (an empty or partial count fails).
    expect(json.protocols['emorynlp-7'].splits.test.labels).toEqual(
      Object.fromEntries(emorynlpLoader.protocols[0]!.labels.map((l) => [l, want[l] ?? 0])),
    );
    expect(Object.values(json.protocols['emorynlp-7'].splits.test.labels).reduce((a, b) => a + b, 0)).toBe(n);
    expect(n).not.toBe(byDefault.protocols['emorynlp-7'].splits.test.n);
  });

  it('a run records the form read, and the two forms are two runs', () => {
    const out = join(data, 'out');
    const run = (extra: string[]) =>
      cli(runArgs({ datasets: 'emorynlp-7', adapters: 'majority', dataDir: data, out, extra }));
    const csv = run(['--name', 'csv']);
    const json = run(['--name', 'json', '--variant', 'emorynlp=json']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(json.code, json.stderr).toBe(0);
    const manifest = (name: string) => JSON.parse(readFileSync(join(out, name, 'manifest.json'), 'utf8'));
    expect(manifest('csv').datasets.emorynlp.variant).toBe('csv');
    expect(manifest('json').datasets.emorynlp.variant).toBe('json');
    expect(
      manifest('json').datasets.emorynlp.files.map((f: { path: string }) => f.path.split('/').pop()),
    ).toContain('emotion-detection-tst.json');
    expect(manifest('json').config.variants).toEqual({ emorynlp: 'json' });
  });

  it('a form that does not exist, or a dataset with no forms to choose, is one line and exit 2', () => {
    const typo = cli(['datasets', '--data-dir', data, '--variant', 'emorynlp=jsn']);
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim().split('\n')).toEqual([
      "emotion-eval: unknown EmoryNLP form 'jsn' (did you mean 'json'?); known: csv, json",
    ]);
    const none = cli(['datasets', '--variant', 'meld=legacy']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^emotion-eval: variants\.meld: dataset 'meld' has no forms to choose from/);
    const unknown = cli(['datasets', '--variant', 'emorynpl=json']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown dataset 'emorynpl' \(did you mean 'emorynlp'\?\)/);
    const bad = cli(['datasets', '--variant', 'emorynlp']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--variant: expected DATASET=FORM/);
  });
});
