import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, runArgs } from './support/cli.ts';

const records = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; context?: unknown[] });

describe('the peng2023 suite classifies utterances alone, as Peng et al. do', () => {
  it('no dialogue context reaches the adapters; the same protocol outside the suite keeps it', () => {
    const out = mkdtempSync(join(tmpdir(), 'ee-suite-context-'));
    const run = (name: string, extra: string[]) =>
      cli(runArgs({ datasets: 'mastodon-3', adapters: 'majority', out, name, extra }));
    expect(run('peng', ['--suite', 'peng2023']).code).toBe(0);
    expect(run('plain', []).code).toBe(0);
    const peng = records(join(out, 'peng/predictions/mastodon-3/majority/seed-1.jsonl'));
    const plain = records(join(out, 'plain/predictions/mastodon-3/majority/seed-1.jsonl'));
    expect(peng.map((r) => r.id)).toEqual(plain.map((r) => r.id));
    expect(plain.filter((r) => (r.context ?? []).length > 0).length).toBeGreaterThan(plain.length / 2);
    expect(peng.filter((r) => (r.context ?? []).length > 0)).toEqual([]);
    const manifest = (name: string) => JSON.parse(readFileSync(join(out, name, 'manifest.json'), 'utf8'));
    expect(manifest('peng').tasks['mastodon-3'].context).toBe(false);
    expect(manifest('plain').tasks['mastodon-3'].context).toBeUndefined();
    // Other inputs, other run identity.
    expect(manifest('peng').config_hash).not.toBe(manifest('plain').config_hash);
  });
});
