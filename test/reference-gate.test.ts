/**
 * The committed reference run (results/reference/default) must be what the default suite produces
 * today: same predictions and metrics, byte for byte. When a baseline or loader changes on purpose,
 * regenerate it with `npm run reference` and commit it. The gate over it must pass for an identical
 * candidate and fail for a candidate with a planted regression.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../harness/random.ts';
import { cli } from './support/cli.ts';
import { repoRoot } from './support/paths.ts';

const reference = join(repoRoot, 'results/reference/default');
let candidate: string;

function filesUnder(dir: string, sub: string): string[] {
  return readdirSync(join(dir, sub), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json') || f.endsWith('.jsonl'))
    .map((f) => join(sub, f))
    .sort();
}

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), 'ee-reference-'));
  const r = cli([
    'run',
    '--suite',
    'default',
    '--out',
    out,
    '--name',
    'candidate',
    '--no-figures',
    '--quiet',
  ]);
  expect(r.code, r.stderr).toBe(0);
  candidate = join(out, 'candidate');
}, 180_000);

describe('committed reference run', () => {
  it('equals a fresh run of the default suite, predictions and metrics byte for byte', () => {
    for (const sub of ['predictions', 'metrics']) {
      const want = filesUnder(reference, sub);
      expect(filesUnder(candidate, sub)).toEqual(want);
      for (const f of want) {
        expect(readFileSync(join(candidate, f), 'utf8'), `${f} differs: run npm run reference`).toBe(
          readFileSync(join(reference, f), 'utf8'),
        );
      }
    }
  });

  it('the gate passes an identical candidate and fails a planted regression', () => {
    const ok = cli(['compare', '--baseline', reference, '--candidate', candidate, '--max-drop', '0.01']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);

    // Plant a regression: 40% of tfidf-logreg's correct answers on meld-7 become wrong.
    const planted = mkdtempSync(join(tmpdir(), 'ee-planted-'));
    cpSync(candidate, planted, { recursive: true });
    const file = join(planted, 'predictions/meld-7/tfidf-logreg/seed-1.jsonl');
    const rng = new Rng(7);
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const r = JSON.parse(l);
        if (r.pred === r.gold && rng.next() < 0.4) r.pred = r.gold === 'neutral' ? 'joy' : 'neutral';
        return JSON.stringify(r);
      });
    writeFileSync(file, `${lines.join('\n')}\n`);
    const dir = mkdtempSync(join(tmpdir(), 'ee-gate-'));
    const bad = cli([
      'compare',
      '--baseline',
      reference,
      '--candidate',
      planted,
      '--max-drop',
      '0.01',
      '--junit',
      join(dir, 'gate.xml'),
      '--markdown',
      join(dir, 'gate.md'),
      '--chart',
      join(dir, 'gate.png'),
    ]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    const md = readFileSync(join(dir, 'gate.md'), 'utf8');
    expect(md).toMatch(/meld-7.*tfidf-logreg.*regressed/);
    const xml = readFileSync(join(dir, 'gate.xml'), 'utf8');
    expect(xml).toMatch(/<failure/);
    const png = readFileSync(join(dir, 'gate.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(5_000);
    expect(relative(repoRoot, reference)).toBe('results/reference/default');
  });
});
