import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSstLoader, parseSstTree, sstLoader, unescapePtbToken } from '../dataset-loaders/sst.ts';
import { DataError } from '../harness/errors.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import type { Utterance } from '../harness/types.ts';
import { brokenCases } from './support/broken-cases.ts';
import { hasSharedData, repoRoot, sharedData } from './support/paths.ts';
import { buildTask, countValues, protocolOf, utterancesOf } from './support/task-counts.ts';

const fixtures = resolve(repoRoot, 'test/fixtures/sst');
const sample = sstLoader.sampleDir!;

/** Written by scripts/make-peng-samples.py, re-reading the trees with a regex and GLUE with csv.QUOTE_NONE. */
interface TreeGolden {
  n: number;
  ids: string[];
  roots: Record<string, number>;
  text_brackets: string[];
  text_raw: string[];
  text_full: string[];
  sst5: Record<string, number>;
  sst2: Record<string, number>;
  sst2_dropped: Record<string, number>;
}
interface GlueGolden {
  n: number;
  ids: string[];
  texts: string[];
  sst2: Record<string, number>;
}
const golden = JSON.parse(readFileSync(join(fixtures, 'sample-golden.json'), 'utf8')) as Record<
  string,
  TreeGolden & GlueGolden
>;

const tree = (label: string, meta: Utterance['meta'] = { format: 'ptb-tree' }): Utterance => ({
  id: 'x',
  text: 'x',
  label,
  meta,
});

describe('sst loader: contract and sample', () => {
  it('declares the official files and finds them in the bundled sample', async () => {
    expect(sstLoader.expectedFiles['ptb-trees']).toEqual({
      train: ['trees/train.txt'],
      dev: ['trees/dev.txt'],
      test: ['trees/test.txt'],
    });
    expect(sstLoader.expectedFiles['glue-sst2']).toEqual({
      'glue-train': ['SST-2/train.tsv'],
      'glue-dev': ['SST-2/dev.tsv'],
      test: ['trees/test.txt'],
    });
    expect(sample).toBe(resolve(repoRoot, 'dataset-loaders/samples/sst'));
    expect(await sstLoader.detect(sample)).toMatchObject({ found: true, variant: 'ptb-trees', missing: [] });
    const empty = await sstLoader.detect(join(fixtures, 'broken/missing-file'));
    expect(empty.found).toBe(false);
    expect(empty.missing.length).toBeGreaterThan(0);
    expect(sstLoader.protocols.map((p) => p.id)).toEqual(['sst-5', 'sst-2', 'sst-2-glue']);
  });

  it.each(['train', 'dev', 'test'])(
    '%s trees: ids by line, root labels, bracket-unescaped text',
    async (split) => {
      const loaded = await sstLoader.load(sample, split);
      const g = golden[split]!;
      const utts = utterancesOf(loaded);
      expect(loaded.variant).toBe('ptb-trees');
      expect(utts.map((u) => u.id)).toEqual(g.ids);
      expect(utts.map((u) => u.text)).toEqual(g.text_brackets);
      expect(countValues(utts.map((u) => u.label))).toEqual(g.roots);
      // One-utterance dialogues, id = utterance id; source = the tree's line.
      expect(loaded.dialogues.every((d) => d.utterances.length === 1 && d.id === d.utterances[0]!.id)).toBe(
        true,
      );
      expect(utts[4]!.source).toEqual({ file: join(sample, 'trees', `${split}.txt`), line: 5 });
      expect(loaded.files.map((f) => f.path)).toEqual([join(sample, 'trees', `${split}.txt`)]);
    },
  );

  it('keeps the duplicated train sentence under two distinct line ids', async () => {
    const utts = utterancesOf(await sstLoader.load(sample, 'train'));
    // The generator appends a copy of line 4 as the last line.
    expect(utts.at(-1)!.text).toBe(utts[3]!.text);
    expect(utts.at(-1)!.id).toBe(`train/${utts.length}`);
    expect(new Set(utts.map((u) => u.id)).size).toBe(utts.length);
  });

  it.each([
    ['none', 'text_raw'],
    ['full', 'text_full'],
  ] as const)('ptbUnescape %s renders leaves like the reference', async (mode, key) => {
    const utts = utterancesOf(await createSstLoader({ ptbUnescape: mode }).load(sample, 'train'));
    expect(utts.map((u) => u.text)).toEqual(golden['train']![key]);
  });

  it('un-escapes PTB tokens per mode', () => {
    expect(unescapePtbToken('-LRB-', 'brackets')).toBe('(');
    expect(unescapePtbToken('-RRB-', 'brackets')).toBe(')');
    expect(unescapePtbToken('and\\/or', 'brackets')).toBe('and\\/or');
    expect(unescapePtbToken('and\\/or', 'full')).toBe('and/or');
    expect(unescapePtbToken('5\\*', 'full')).toBe('5*');
    expect(unescapePtbToken('``', 'full')).toBe('"');
    expect(unescapePtbToken("''", 'full')).toBe('"');
    expect(unescapePtbToken('-LRB-', 'none')).toBe('-LRB-');
  });

  it('parses a bracketed tree into root label and leaves', () => {
    expect(parseSstTree('(3 (2 A) (4 (4 great) (2 film)))')).toEqual({
      label: '3',
      leaves: ['A', 'great', 'film'],
    });
    expect(parseSstTree('(1 dull)')).toEqual({ label: '1', leaves: ['dull'] });
    expect(() => parseSstTree('(3 (2 A) (4 great)) extra')).toThrow(/unexpected text after the tree/);
  });
});

describe('sst protocols', () => {
  it('maps roots to SST-5 and SST-2 labels, dropping neutral roots for SST-2', () => {
    const sst5 = protocolOf(sstLoader, 'sst-5');
    const sst2 = protocolOf(sstLoader, 'sst-2');
    expect(['0', '1', '2', '3', '4'].map((r) => sst5.mapLabel(tree(r)))).toEqual([
      { label: 'very negative' },
      { label: 'negative' },
      { label: 'neutral' },
      { label: 'positive' },
      { label: 'very positive' },
    ]);
    expect(['0', '1', '2', '3', '4'].map((r) => sst2.mapLabel(tree(r)))).toEqual([
      { label: 'negative' },
      { label: 'negative' },
      { drop: 'neutral' },
      { label: 'positive' },
      { label: 'positive' },
    ]);
    // GLUE labels are 0/1 with 1 = positive, unlike tree root 1 (negative).
    expect(sst2.mapLabel(tree('1', { format: 'glue' }))).toEqual({ label: 'positive' });
    expect(sst2.mapLabel(tree('0', { format: 'glue' }))).toEqual({ label: 'negative' });
    expect(sst5.mapLabel(tree('1', { format: 'glue' }))).toBeUndefined();
    expect(sst5.mapLabel(tree('5'))).toBeUndefined();
    expect(sst2.mapLabel(tree('2', { format: 'glue' }))).toBeUndefined();
    expect(sst5.labelNames?.['very negative']).toBe('negative');
    expect(sst5.labelNames?.['negative']).toBe('somewhat negative');
    expect(sst2).toMatchObject({
      headline: 'accuracy',
      metrics: ['accuracy', 'macro_f1'],
      hasContext: false,
    });
  });

  it.each(['train', 'dev', 'test'] as const)('%s task counts match the reference', async (split) => {
    const builder = new TaskBuilder();
    const g = golden[split]!;
    const s5 = await buildTask(sstLoader, 'sst-5', split, sample, builder);
    expect(s5.counts).toEqual(g.sst5);
    expect(s5.dropped).toEqual({});
    const s2 = await buildTask(sstLoader, 'sst-2', split, sample, builder);
    expect(s2.counts).toEqual(g.sst2);
    expect(s2.dropped).toEqual(g.sst2_dropped);
  });

  it('sst-2-glue trains on GLUE rows and tests on the trees', async () => {
    const train = await buildTask(sstLoader, 'sst-2-glue', 'train', sample);
    expect(train.counts).toEqual(golden['glue-train']!.sst2);
    expect(train.task.examples.map((e) => e.id)).toEqual(golden['glue-train']!.ids);
    // Trailing space before the TAB is not part of the text.
    expect(train.task.examples.map((e) => e.text)).toEqual(golden['glue-train']!.texts);
    expect(train.task.variant).toBe('glue-sst2');
    const dev = await buildTask(sstLoader, 'sst-2-glue', 'dev', sample);
    expect(dev.counts).toEqual(golden['glue-dev']!.sst2);
    const test = await buildTask(sstLoader, 'sst-2-glue', 'test', sample);
    expect(test.counts).toEqual(golden['test']!.sst2);
    expect(test.task.variant).toBe('ptb-trees');
  });
});

describe('sst broken files', () => {
  for (const c of brokenCases(join(fixtures, 'broken'), 'test')) {
    it(`${c.name}: ${c.expected.replace(c.dir, '<dir>')}`, async () => {
      const err = await sstLoader.load(c.dir, c.split).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toBe(c.expected);
    });
  }

  it('a root label outside 0-4 fails the task with file and line', async () => {
    const dir = join(fixtures, 'unknown-label');
    const err = await buildTask(sstLoader, 'sst-5', 'test', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(
      `${dir}/trees/test.txt:2: label '5' is outside the mapping of protocol sst-5 (expected one of: very negative, negative, neutral, positive, very positive)`,
    );
  });

  it('an unknown split is an input error naming the known ones', async () => {
    await expect(sstLoader.load(sample, 'validation')).rejects.toThrow(/unknown SST split 'validation'/);
  });
});

describe.skipIf(!hasSharedData('sst'))('sst on the real data (shared/data/sst)', () => {
  const dir = join(sharedData, 'sst');

  it('reproduces the SOURCE.txt counts for SST-5, SST-2 and GLUE', async () => {
    const builder = new TaskBuilder();
    const sst5: Record<string, Record<string, number>> = {
      train: { 'very negative': 1092, negative: 2218, neutral: 1624, positive: 2322, 'very positive': 1288 },
      dev: { 'very negative': 139, negative: 289, neutral: 229, positive: 279, 'very positive': 165 },
      test: { 'very negative': 279, negative: 633, neutral: 389, positive: 510, 'very positive': 399 },
    };
    const sst2: Record<string, Record<string, number>> = {
      train: { negative: 3310, positive: 3610 },
      dev: { negative: 428, positive: 444 },
      test: { negative: 912, positive: 909 },
    };
    for (const split of ['train', 'dev', 'test'] as const) {
      expect((await buildTask(sstLoader, 'sst-5', split, dir, builder)).counts).toEqual(sst5[split]);
      const s2 = await buildTask(sstLoader, 'sst-2', split, dir, builder);
      expect(s2.counts).toEqual(sst2[split]);
      expect(s2.dropped).toEqual({ neutral: sst5[split]!['neutral'] });
    }
    const glue = await buildTask(sstLoader, 'sst-2-glue', 'train', dir, builder);
    expect(glue.counts).toEqual({ negative: 29780, positive: 37569 });
    expect(glue.task.examples.every((e) => !e.text.endsWith(' '))).toBe(true);
    expect((await buildTask(sstLoader, 'sst-2-glue', 'dev', dir, builder)).counts).toEqual(sst2['dev']);
  });

  it('GLUE dev equals the tree-derived SST-2 dev (lower-cased, \\/ as /), label for label', async () => {
    const trees = utterancesOf(await sstLoader.load(dir, 'dev'));
    const fromTrees = new Map<string, string>();
    const sst2 = protocolOf(sstLoader, 'sst-2');
    for (const u of trees) {
      const m = sst2.mapLabel(u);
      if (m && 'label' in m) fromTrees.set(u.text.replaceAll('\\/', '/').toLowerCase(), m.label);
    }
    const glue = utterancesOf(await sstLoader.load(dir, 'glue-dev'));
    expect(glue).toHaveLength(872);
    for (const u of glue) {
      const m = sst2.mapLabel(u) as { label: string };
      expect(fromTrees.get(u.text), u.text).toBe(m.label);
    }
  });

  it('loads every split in well under the 2 s budget', async () => {
    const t0 = performance.now();
    for (const split of sstLoader.splits) await sstLoader.load(dir, split);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

it('gives ids that are unique across all loader splits', async () => {
  const ids: string[] = [];
  for (const split of sstLoader.splits)
    ids.push(...utterancesOf(await sstLoader.load(sample, split)).map((u) => u.id));
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBeGreaterThan(100);
});
