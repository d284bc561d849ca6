import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cmuMosiLoader as loader,
  mapMosi2,
  mapMosi2Has0,
  mapMosi3,
  mapMosi7,
  roundHalfEven,
} from '../dataset-loaders/cmu-mosi.ts';
import { DataError } from '../harness/errors.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import type { TaskSplit, Utterance } from '../harness/types.ts';
import { brokenCases } from './support/broken-cases.ts';
import { repoRoot } from './support/paths.ts';
import { buildTask, utterancesOf } from './support/task-counts.ts';

const fixtures = resolve(repoRoot, 'test/fixtures/mosi');
const sample = loader.sampleDir!;

interface ModeGolden {
  n: number;
  ids: string[];
  texts: string[];
  'mosi-2': Record<string, number>;
  'mosi-2-dropped': Record<string, number>;
  'mosi-2-has0': Record<string, number>;
  'mosi-3': Record<string, number>;
  'mosi-7': Record<string, number>;
}
/** Written by scripts/make-peng-samples.py: Python's csv.DictReader and round() (half to even, as np.round). */
const golden = JSON.parse(readFileSync(join(fixtures, 'sample-golden.json'), 'utf8')) as Record<
  'sample' | 'reordered',
  Record<'train' | 'valid' | 'test', ModeGolden>
>;

const u = (label: string): Utterance => ({ id: 'x', text: 'x', label });
const MODES: [string, TaskSplit][] = [
  ['train', 'train'],
  ['valid', 'dev'],
  ['test', 'test'],
];

describe('cmu-mosi loader on the bundled sample', () => {
  it('declares label.csv for every mode and finds it', async () => {
    expect(loader.splits).toEqual(['train', 'valid', 'test']);
    expect(loader.expectedFiles['mmsa-label-csv']).toEqual({
      train: ['label.csv'],
      valid: ['label.csv'],
      test: ['label.csv'],
    });
    expect(sample).toBe(resolve(repoRoot, 'dataset-loaders/samples/cmu-mosi'));
    expect(await loader.detect(sample)).toMatchObject({ found: true, missing: [] });
    expect(loader.protocols.map((p) => p.id)).toEqual(['mosi-2', 'mosi-2-has0', 'mosi-3', 'mosi-7']);
  });

  it.each(['train', 'valid', 'test'] as const)(
    '%s: MMSA ids as strings, text as written, raw float label',
    async (mode) => {
      const loaded = await loader.load(sample, mode);
      const g = golden.sample[mode];
      const utts = utterancesOf(loaded);
      expect(utts.map((x) => x.id)).toEqual(g.ids);
      expect(utts.map((x) => x.text)).toEqual(g.texts);
      expect(
        utts.every((x) => x.meta?.['annotation'] !== undefined && x.meta?.['video_id'] !== undefined),
      ).toBe(true);
      expect(loaded.dialogues.every((d) => d.utterances.length === 1)).toBe(true);
    },
  );

  it('keeps video ids that start with "_" or hold "-", and labels exactly as written', async () => {
    const utts = utterancesOf(await loader.load(sample, 'valid'));
    expect(utts[0]!.id).toBe('_dI--eQ6qVU$_$1');
    const csv = readFileSync(join(sample, 'label.csv'), 'utf8').split('\n');
    const line = utts[0]!.source!.line!;
    expect(csv[line - 1]!.startsWith('_dI--eQ6qVU,1,')).toBe(true);
    expect(csv[line - 1]).toContain(`,${utts[0]!.label},`);
  });

  it('selects columns by header name (MOSEI-style column order)', async () => {
    for (const mode of ['train', 'valid', 'test'] as const) {
      const reordered = utterancesOf(await loader.load(join(fixtures, 'reordered'), mode));
      const g = golden.reordered[mode];
      expect(reordered.map((x) => x.id)).toEqual(g.ids);
      expect(reordered.map((x) => x.text)).toEqual(g.texts);
      const original = new Map(utterancesOf(await loader.load(sample, mode)).map((x) => [x.id, x]));
      for (const r of reordered) {
        expect(r.label).toBe(original.get(r.id)!.label);
        expect(r.meta?.['annotation']).toBe(original.get(r.id)!.meta?.['annotation']);
      }
    }
  });
});

describe('mosi protocols', () => {
  it('rounds half to even like np.round', () => {
    expect([2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 1.4999, -1.6666666666666667, 3].map(roundHalfEven)).toEqual([
      2, -2, 0, 0, 2, -2, 1, -2, 3,
    ]);
    expect(Object.is(roundHalfEven(-0.4), 0)).toBe(true);
  });

  it('maps floats by the published rules', () => {
    expect(mapMosi2(u('-0.2'))).toEqual({ label: 'negative' });
    expect(mapMosi2(u('0.0'))).toEqual({ drop: 'zero' });
    expect(mapMosi2(u('-0.0'))).toEqual({ drop: 'zero' });
    expect(mapMosi2(u('0.2'))).toEqual({ label: 'positive' });
    expect(mapMosi2Has0(u('0.0'))).toEqual({ label: 'non-negative' });
    expect(mapMosi2Has0(u('-0.2'))).toEqual({ label: 'negative' });
    expect(mapMosi3(u('0.0'))).toEqual({ label: 'neutral' });
    expect(mapMosi3(u('-3.0'))).toEqual({ label: 'negative' });
    expect(mapMosi3(u('0.3333333333333333'))).toEqual({ label: 'positive' });
    expect(mapMosi7(u('-2.5'))).toEqual({ label: '-2' });
    expect(mapMosi7(u('2.6'))).toEqual({ label: '3' });
    expect(mapMosi7(u('0.5'))).toEqual({ label: '0' });
    expect(mapMosi7(u('-3.0'))).toEqual({ label: '-3' });
    expect(mapMosi7(u('positive'))).toBeUndefined();
    expect(mapMosi2(u(''))).toBeUndefined();
  });

  it('declares Peng metrics with accuracy as headline and the comparability notes', () => {
    for (const p of loader.protocols) {
      expect(p.metrics).toEqual(['accuracy', 'weighted_f1', 'macro_f1']);
      expect(p.headline).toBe('accuracy');
      expect(p.splits).toEqual({ train: ['train'], dev: ['valid'], test: ['test'] });
      expect(p.notes?.join(' ')).toMatch(/multimodal/);
    }
    expect(loader.protocols[2]!.labels).toEqual(['negative', 'neutral', 'positive']);
    expect(loader.protocols[3]!.labels).toEqual(['-3', '-2', '-1', '0', '1', '2', '3']);
  });

  it.each(MODES)('%s task counts match the reference for every protocol', async (mode, split) => {
    const builder = new TaskBuilder();
    const g = golden.sample[mode as 'train'];
    const m2 = await buildTask(loader, 'mosi-2', split, sample, builder);
    expect(m2.counts).toEqual(g['mosi-2']);
    expect(m2.dropped).toEqual(g['mosi-2-dropped']);
    expect((await buildTask(loader, 'mosi-2-has0', split, sample, builder)).counts).toEqual(g['mosi-2-has0']);
    expect((await buildTask(loader, 'mosi-3', split, sample, builder)).counts).toEqual(g['mosi-3']);
    expect((await buildTask(loader, 'mosi-7', split, sample, builder)).counts).toEqual(g['mosi-7']);
  });
});

describe('mosi broken files', () => {
  for (const c of brokenCases(join(fixtures, 'broken'), 'test')) {
    it(`${c.name}: ${c.expected.replace(c.dir, '<dir>')}`, async () => {
      const err = await loader.load(c.dir, c.split).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toBe(c.expected);
    });
  }

  it('checks rows of every mode, not only the one requested', async () => {
    // The bad row in label-out-of-range is a test row; loading train must still fail on it.
    await expect(loader.load(join(fixtures, 'broken/label-out-of-range'), 'train')).rejects.toThrow(
      'expected a label in [-3, 3], found 3.2',
    );
  });
});

it('gives ids that are unique across all loader splits', async () => {
  const ids: string[] = [];
  for (const split of loader.splits)
    ids.push(...utterancesOf(await loader.load(sample, split)).map((u) => u.id));
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBeGreaterThan(100);
});
