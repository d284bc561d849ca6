import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../harness/hash.ts';
import type { Manifest } from '../harness/types.ts';
import { cli, runArgs } from './support/cli.ts';
import { repoRoot } from './support/paths.ts';

/** A copy of the bundled MELD sample to change: DATA/meld under a fresh folder. */
function meldCopy(): { root: string; data: string } {
  const root = mkdtempSync(join(tmpdir(), 'ee-inputs-'));
  const data = join(root, 'data');
  cpSync(join(repoRoot, 'dataset-loaders/samples/meld'), join(data, 'meld'), { recursive: true });
  return { root, data };
}

describe('files read to fit and tune', () => {
  it('are hashed in the manifest, and a changed train file makes a resumed run refuse', () => {
    const { root, data } = meldCopy();
    const out = join(root, 'out');
    const args = runArgs({ datasets: 'meld-7', adapters: 'tfidf-logreg', dataDir: data, out, name: 'r' });
    const first = cli(args);
    expect(first.code).toBe(0);
    const manifestPath = join(out, 'r', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    const files = manifest.datasets.meld!.files;
    const byName = Object.fromEntries(files.map((f) => [f.path.split('/').pop(), f.sha256]));
    // The evaluated split and the two the baseline read to fit (train) and choose C (dev).
    for (const split of ['train', 'dev', 'test']) {
      const path = join(data, 'meld', `${split}_sent_emo.csv`);
      expect(byName[`${split}_sent_emo.csv`]).toBe(sha256(readFileSync(path)));
    }

    // Unchanged: the finished run is reused as it is.
    const again = cli(args);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/nothing to do/);

    // One train label changed: the finished cells were fitted on other data, so the run refuses.
    const train = join(data, 'meld', 'train_sent_emo.csv');
    const text = readFileSync(train, 'utf8');
    const changed = text.replace(/,neutral,neutral,/, ',anger,negative,');
    expect(changed).not.toBe(text);
    writeFileSync(train, changed);
    const refused = cli(args);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`${train} changed since this run read it`);
    expect(refused.stderr).toContain('--force-new');

    const fresh = cli([...args, '--force-new']);
    expect(fresh.code).toBe(0);
    const runs = ['r', 'r-2'].map((id) => existsSync(join(out, id, 'summary.json')));
    expect(runs).toEqual([true, true]);
  });

  it('bad input in a train file read only to fit leaves no run folder behind', () => {
    const { root, data } = meldCopy();
    const train = join(data, 'meld', 'train_sent_emo.csv');
    // A byte that is not UTF-8 in the third line: the loader names file and line.
    const bytes = readFileSync(train);
    const third = bytes.indexOf(0x0a, bytes.indexOf(0x0a) + 1) + 5;
    bytes[third] = 0xff;
    writeFileSync(train, bytes);
    const out = join(root, 'out');
    const r = cli(runArgs({ datasets: 'meld-7', adapters: 'tfidf-logreg', dataDir: data, out, name: 'r' }));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${train}:3`);
    expect(existsSync(out)).toBe(false);
  });
});
