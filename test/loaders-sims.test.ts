import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chSimsLoader as loader,
  mapSims2,
  mapSims2Non0,
  mapSims3,
  mapSims5,
} from '../dataset-loaders/ch-sims.ts';
import { DataError } from '../harness/errors.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import type { TaskSplit, Utterance } from '../harness/types.ts';
import { brokenCases } from './support/broken-cases.ts';
import { repoRoot } from './support/paths.ts';
import { buildTask, utterancesOf } from './support/task-counts.ts';

const fixtures = resolve(repoRoot, 'test/fixtures/sims');
const sample = loader.sampleDir!;

interface ModeGolden {
  n: number;
  ids: string[];
  texts: string[];
  'chsims-2': Record<string, number>;
  'chsims-2-non0': Record<string, number>;
  zeros: number;
  'chsims-3': Record<string, number>;
  'chsims-5': Record<string, number>;
}
/** Written by scripts/make-peng-samples.py (Python csv and MMSA's bucket edges written out). */
const golden = JSON.parse(readFileSync(join(fixtures, 'sample-golden.json'), 'utf8')) as Record<
  string,
  ModeGolden
>;

const u = (label: string): Utterance => ({ id: 'x', text: 'x', label });
const label = (m: ReturnType<typeof mapSims3>) => (m && 'label' in m ? m.label : m);

describe('ch-sims loader on the bundled sample', () => {
  it('declares label.csv and finds it', async () => {
    expect(loader.expectedFiles['mmsa-label-csv']).toEqual({
      train: ['label.csv'],
      valid: ['label.csv'],
      test: ['label.csv'],
    });
    expect(sample).toBe(resolve(repoRoot, 'dataset-loaders/samples/ch-sims'));
    expect(await loader.detect(sample)).toMatchObject({ found: true, missing: [] });
    expect(loader.protocols.map((p) => p.id)).toEqual(['chsims-2', 'chsims-2-non0', 'chsims-3', 'chsims-5']);
  });

  it.each(['train', 'valid', 'test'])(
    '%s: zero-padded clip ids kept, Chinese text as written',
    async (mode) => {
      const utts = utterancesOf(await loader.load(sample, mode));
      const g = golden[mode]!;
      expect(utts.map((x) => x.id)).toEqual(g.ids);
      expect(utts.map((x) => x.text)).toEqual(g.texts);
      expect(utts.every((x) => /^video_\d{4}\$_\$\d{4}$/.test(x.id))).toBe(true);
      expect(utts.every((x) => /^\d{4}$/.test(String(x.meta?.['clip_id'])))).toBe(true);
      // Unimodal labels travel in meta.
      expect(
        utts.every((x) => ['label_T', 'label_A', 'label_V'].every((k) => typeof x.meta?.[k] === 'string')),
      ).toBe(true);
    },
  );
});

describe('ch-sims protocols (MMSA bucket edges)', () => {
  it('puts each grid value in the right bucket', () => {
    const grid = ['-1.0', '-0.8', '-0.6', '-0.4', '-0.2', '0.0', '0.2', '0.4', '0.6', '0.8', '1.0'];
    expect(grid.map((g) => label(mapSims2(u(g))))).toEqual([
      ...Array(6).fill('negative'), // zero counts as negative in MMSA
      ...Array(5).fill('positive'),
    ]);
    expect(grid.map((g) => label(mapSims3(u(g))))).toEqual([
      ...Array(5).fill('negative'),
      'neutral',
      ...Array(5).fill('positive'),
    ]);
    // Peng's buckets {-1.0,-0.8} {-0.6,-0.4,-0.2} {0.0} {0.2,0.4,0.6} {0.8,1.0}.
    expect(grid.map((g) => label(mapSims5(u(g))))).toEqual([
      'negative',
      'negative',
      'weakly negative',
      'weakly negative',
      'weakly negative',
      'neutral',
      'weakly positive',
      'weakly positive',
      'weakly positive',
      'positive',
      'positive',
    ]);
    expect(mapSims2Non0(u('0.0'))).toEqual({ drop: 'zero' });
    expect(mapSims2Non0(u('-0.2'))).toEqual({ label: 'negative' });
  });

  it('treats the interval ends as MMSA does (right-closed)', () => {
    expect(label(mapSims3(u('-0.1')))).toBe('negative');
    expect(label(mapSims3(u('0.1')))).toBe('neutral');
    expect(label(mapSims5(u('-0.7')))).toBe('negative');
    expect(label(mapSims5(u('0.7')))).toBe('weakly positive');
    expect(mapSims2(u('n/a'))).toBeUndefined();
  });

  it.each([
    ['train', 'train'],
    ['valid', 'dev'],
    ['test', 'test'],
  ] as [string, TaskSplit][])('%s task counts match the reference', async (mode, split) => {
    const builder = new TaskBuilder();
    const g = golden[mode]!;
    expect((await buildTask(loader, 'chsims-2', split, sample, builder)).counts).toEqual(g['chsims-2']);
    const non0 = await buildTask(loader, 'chsims-2-non0', split, sample, builder);
    expect(non0.counts).toEqual(g['chsims-2-non0']);
    expect(non0.dropped).toEqual(g.zeros > 0 ? { zero: g.zeros } : {});
    expect((await buildTask(loader, 'chsims-3', split, sample, builder)).counts).toEqual(g['chsims-3']);
    expect((await buildTask(loader, 'chsims-5', split, sample, builder)).counts).toEqual(g['chsims-5']);
  });

  it('reports accuracy first and notes the zero convention', () => {
    const p = loader.protocols[0]!;
    expect(p).toMatchObject({ headline: 'accuracy', metrics: ['accuracy', 'macro_f1', 'weighted_f1'] });
    expect(p.notes?.join(' ')).toMatch(/zero counts as negative/);
  });
});

describe('ch-sims broken files', () => {
  for (const c of brokenCases(join(fixtures, 'broken'), 'test')) {
    it(`${c.name}: ${c.expected.replace(c.dir, '<dir>')}`, async () => {
      const err = await loader.load(c.dir, c.split).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toBe(c.expected);
    });
  }
});

it('gives ids that are unique across all loader splits', async () => {
  const ids: string[] = [];
  for (const split of loader.splits)
    ids.push(...utterancesOf(await loader.load(sample, split)).map((u) => u.id));
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBeGreaterThan(100);
});
