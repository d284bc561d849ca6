import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COGAT_DEV_DIALOGUES, mastodonLoader as loader, mapMastodon } from '../dataset-loaders/mastodon.ts';
import { DataError } from '../harness/errors.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import type { Utterance } from '../harness/types.ts';
import { brokenCases } from './support/broken-cases.ts';
import { hasSharedData, repoRoot, sharedData } from './support/paths.ts';
import { buildTask, countValues, protocolOf, utterancesOf } from './support/task-counts.ts';

const fixtures = resolve(repoRoot, 'test/fixtures/mastodon');
const sample = loader.sampleDir!;

/** Written by scripts/make-peng-samples.py (Python str.split on the written lines). */
const golden = JSON.parse(readFileSync(join(fixtures, 'sample-golden.json'), 'utf8')) as {
  [split: string]: unknown;
  train: {
    dialogues: number;
    n: number;
    ids: string[];
    texts: string[];
    lines: number[];
    sentiment: Record<string, number>;
  };
  test: {
    dialogues: number;
    n: number;
    ids: string[];
    texts: string[];
    lines: number[];
    sentiment: Record<string, number>;
  };
  'task-train': Record<string, number>;
  'task-dev': Record<string, number>;
  'task-dev-dialogues': string[];
};

const protocol = protocolOf(loader, 'mastodon-3');

describe('mastodon loader on the bundled sample', () => {
  it('declares the official files and finds them', async () => {
    expect(loader.expectedFiles['anonymised-2020']).toEqual({
      train: ['datatrainJoint.txt'],
      test: ['datatestJoint.txt'],
    });
    expect(loader.splits).toEqual(['train', 'test']);
    expect(sample).toBe(resolve(repoRoot, 'dataset-loaders/samples/mastodon'));
    expect(await loader.detect(sample)).toMatchObject({
      found: true,
      variant: 'anonymised-2020',
      missing: [],
    });
  });

  it.each(['train', 'test'] as const)(
    '%s: dialogues start at index 0, text without the trailing space',
    async (split) => {
      const loaded = await loader.load(sample, split);
      const g = golden[split];
      const utts = utterancesOf(loaded);
      expect(loaded.dialogues).toHaveLength(g.dialogues);
      expect(utts.map((u) => u.id)).toEqual(g.ids);
      expect(utts.map((u) => u.text)).toEqual(g.texts);
      expect(utts.map((u) => u.source?.line)).toEqual(g.lines);
      expect(utts.every((u) => u.speaker === undefined && typeof u.meta?.['act'] === 'string')).toBe(true);
      expect(
        countValues(utts.map((u) => mapMastodon(u) && (mapMastodon(u) as { label: string }).label)),
      ).toEqual(g.sentiment);
      // The raw file really ends every line with a space.
      const raw = readFileSync(
        join(sample, split === 'train' ? 'datatrainJoint.txt' : 'datatestJoint.txt'),
        'utf8',
      );
      expect(
        raw
          .split('\n')
          .slice(0, -1)
          .every((l) => l.endsWith(' ')),
      ).toBe(true);
    },
  );
});

describe('mastodon-3 protocol and the Co-GAT split', () => {
  it('maps + - * and nothing else', () => {
    const u = (label: string): Utterance => ({ id: 'x', text: 'x', label });
    expect(mapMastodon(u('+'))).toEqual({ label: 'positive' });
    expect(mapMastodon(u('-'))).toEqual({ label: 'negative' });
    expect(mapMastodon(u('*'))).toEqual({ label: 'neutral' });
    expect(mapMastodon(u('?'))).toBeUndefined();
    expect(protocol).toMatchObject({
      headline: 'macro_f1',
      metrics: ['accuracy', 'macro_f1', 'pos_neg_f1'],
      positive: 'positive',
      negative: 'negative',
      splits: { train: ['train'], dev: ['train'], test: ['test'] },
    });
    expect(protocol.notes?.join(' ')).toMatch(/59\.59.*pos_neg_f1/);
  });

  it('holds the 25 dev dialogue indices of peng-dataset-formats §3b', () => {
    expect([...COGAT_DEV_DIALOGUES]).toEqual([
      12, 15, 16, 17, 49, 53, 63, 72, 79, 81, 103, 110, 117, 118, 138, 144, 164, 166, 192, 211, 214, 236, 245,
      253, 259,
    ]);
    const d = (id: string) => ({ id, utterances: [] });
    expect(protocol.selectDialogue!(d('train/d12'), 'dev')).toBe(true);
    expect(protocol.selectDialogue!(d('train/d12'), 'train')).toBe(false);
    expect(protocol.selectDialogue!(d('train/d13'), 'train')).toBe(true);
    expect(protocol.selectDialogue!(d('train/d13'), 'dev')).toBe(false);
    expect(protocol.selectDialogue!(d('test/d12'), 'test')).toBe(true);
  });

  it('train and dev tasks partition loader split train by dialogue', async () => {
    const builder = new TaskBuilder();
    const train = await buildTask(loader, 'mastodon-3', 'train', sample, builder);
    const dev = await buildTask(loader, 'mastodon-3', 'dev', sample, builder);
    const test = await buildTask(loader, 'mastodon-3', 'test', sample, builder);
    expect(train.counts).toEqual(golden['task-train']);
    expect(dev.counts).toEqual(golden['task-dev']);
    expect(test.counts).toEqual(golden.test.sentiment);
    expect([...new Set(dev.task.examples.map((e) => e.dialogueId))]).toEqual(golden['task-dev-dialogues']);
    const trainIds = new Set(train.task.examples.map((e) => e.id));
    expect(dev.task.examples.some((e) => trainIds.has(e.id))).toBe(false);
    expect(trainIds.size + dev.task.examples.length).toBe(golden.train.n);
    // Context is the dialogue so far.
    const third = test.task.examples.find((e) => e.id.endsWith('_u2'))!;
    expect(third.context.map((c) => c.id)).toEqual([
      third.id.replace(/_u2$/, '_u0'),
      third.id.replace(/_u2$/, '_u1'),
    ]);
  });
});

describe('mastodon broken files', () => {
  for (const c of brokenCases(join(fixtures, 'broken'), 'test')) {
    it(`${c.name}: ${c.expected.replace(c.dir, '<dir>')}`, async () => {
      const err = await loader.load(c.dir, c.split).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toBe(c.expected);
    });
  }

  it('an unknown sentiment mark fails the task with file and line', async () => {
    const dir = join(fixtures, 'unknown-label');
    const err = await buildTask(loader, 'mastodon-3', 'test', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(
      `${dir}/datatestJoint.txt:2: label '?' is outside the mapping of protocol mastodon-3 (expected one of: positive, negative, neutral)`,
    );
  });
});

describe.skipIf(!hasSharedData('mastodon'))('mastodon on the real data (shared/data/mastodon)', () => {
  const dir = join(sharedData, 'mastodon');

  it('reproduces SOURCE.txt: 268/267 dialogues, Co-GAT train 967, dev 96, test 1,142', async () => {
    expect((await loader.load(dir, 'train')).dialogues).toHaveLength(268);
    expect((await loader.load(dir, 'test')).dialogues).toHaveLength(267);
    const builder = new TaskBuilder();
    const train = await buildTask(loader, 'mastodon-3', 'train', dir, builder);
    const dev = await buildTask(loader, 'mastodon-3', 'dev', dir, builder);
    const test = await buildTask(loader, 'mastodon-3', 'test', dir, builder);
    expect(train.counts).toEqual({ neutral: 419, negative: 295, positive: 253 });
    expect(dev.counts).toEqual({ neutral: 40, negative: 30, positive: 26 });
    expect(new Set(dev.task.examples.map((e) => e.dialogueId)).size).toBe(25);
    expect(test.counts).toEqual({ neutral: 479, negative: 372, positive: 291 });
    expect(test.task.examples.every((e) => e.text === e.text.trimEnd())).toBe(true);
  });
});

it('gives ids that are unique across all loader splits', async () => {
  const ids: string[] = [];
  for (const split of loader.splits)
    ids.push(...utterancesOf(await loader.load(sample, split)).map((u) => u.id));
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBeGreaterThan(100);
});
