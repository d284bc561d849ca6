import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { m3edLoader as loader, mapM3ed } from '../dataset-loaders/m3ed.ts';
import { DataError } from '../harness/errors.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import type { TaskSplit, Utterance } from '../harness/types.ts';
import { brokenCases } from './support/broken-cases.ts';
import { repoRoot } from './support/paths.ts';
import { buildTask, utterancesOf } from './support/task-counts.ts';

const fixtures = resolve(repoRoot, 'test/fixtures/m3ed');
const sample = loader.sampleDir!;

/** Written by scripts/make-peng-samples.py: Python's json, keys sorted by int(key.rsplit('_', 1)[1]). */
const golden = JSON.parse(readFileSync(join(fixtures, 'sample-golden.json'), 'utf8')) as Record<
  string,
  {
    dialogues: string[];
    n: number;
    ids: string[];
    texts: string[];
    speakers: string[];
    'm3ed-7': Record<string, number>;
  }
>;

describe('m3ed loader on the bundled sample', () => {
  it('declares annotation.json and the split lists, and finds them', async () => {
    expect(loader.splits).toEqual(['train', 'val', 'test']);
    expect(loader.expectedFiles['rucm3ed']).toEqual({
      train: ['annotation.json', 'splitInfo/movie_list_train.txt'],
      val: ['annotation.json', 'splitInfo/movie_list_val.txt'],
      test: ['annotation.json', 'splitInfo/movie_list_test.txt'],
    });
    expect(sample).toBe(resolve(repoRoot, 'dataset-loaders/samples/m3ed'));
    expect(await loader.detect(sample)).toMatchObject({ found: true, variant: 'rucm3ed', missing: [] });
    // The list files have no final newline, as released.
    expect(readFileSync(join(sample, 'splitInfo/movie_list_train.txt'), 'utf8').endsWith('\n')).toBe(false);
  });

  it.each(['train', 'val', 'test'])(
    '%s: series by list, dialogues and turns in numeric order',
    async (split) => {
      const loaded = await loader.load(sample, split);
      const g = golden[split]!;
      const utts = utterancesOf(loaded);
      expect(loaded.dialogues.map((d) => d.id)).toEqual(g.dialogues);
      expect(utts.map((u) => u.id)).toEqual(g.ids);
      expect(utts.map((u) => u.text)).toEqual(g.texts);
      expect(utts.map((u) => u.speaker)).toEqual(g.speakers);
      expect(loaded.files.map((f) => f.path)).toEqual([
        join(sample, 'annotation.json'),
        join(sample, `splitInfo/movie_list_${split}.txt`),
      ]);
    },
  );

  it('sorts "_10" after "_9" although the file stores keys in string order', async () => {
    const raw = readFileSync(join(sample, 'annotation.json'), 'utf8');
    expect(raw.indexOf('"chunfengli_10"')).toBeLessThan(raw.indexOf('"chunfengli_2"'));
    const loaded = await loader.load(sample, 'train');
    const series = loaded.dialogues.filter((d) => d.id.startsWith('chunfengli_')).map((d) => d.id);
    expect(series).toEqual(Array.from({ length: 11 }, (_, i) => `chunfengli_${i + 1}`));
    const second = loaded.dialogues.find((d) => d.id === 'chunfengli_2')!;
    expect(second.utterances.map((u) => u.id)).toEqual(
      Array.from({ length: 12 }, (_, i) => `chunfengli_2_${i + 1}`),
    );
  });

  it('names speakers from SpeakerInfo and keeps the A/B tag, the multi-label and the JSON path', async () => {
    const loaded = await loader.load(sample, 'test');
    const first = loaded.dialogues[0]!.utterances[0]!;
    const ann = JSON.parse(readFileSync(join(sample, 'annotation.json'), 'utf8'));
    const [series, dialogue] = [first.id.split('_')[0]!, loaded.dialogues[0]!.id];
    const raw = ann[series][dialogue];
    expect(first.meta?.['speakerTag']).toBe(raw.Dialog[first.id].Speaker);
    expect(first.speaker).toBe(raw.SpeakerInfo[raw.Dialog[first.id].Speaker].Name);
    expect(first.meta?.['final_mul_emo']).toBe(raw.Dialog[first.id].EmoAnnotation.final_mul_emo);
    expect(first.label).toBe(raw.Dialog[first.id].EmoAnnotation.final_main_emo);
    expect(first.source).toEqual({
      file: join(sample, 'annotation.json'),
      path: `$.${series}.${dialogue}.Dialog.${first.id}`,
    });
  });
});

describe('m3ed-7 protocol', () => {
  it('maps the capitalised labels case-insensitively, in the README order', () => {
    const u = (label: string): Utterance => ({ id: 'x', text: 'x', label });
    const p = loader.protocols[0]!;
    expect(p.id).toBe('m3ed-7');
    expect(p.labels).toEqual(['happy', 'neutral', 'sad', 'disgust', 'anger', 'fear', 'surprise']);
    expect(mapM3ed(u('Happy'))).toEqual({ label: 'happy' });
    expect(mapM3ed(u('SURPRISE'))).toEqual({ label: 'surprise' });
    expect(mapM3ed(u('Contempt'))).toBeUndefined();
    expect(p).toMatchObject({
      headline: 'weighted_f1',
      metrics: ['accuracy', 'weighted_f1', 'ua'],
      hasContext: true,
    });
    expect(p.splits).toEqual({ train: ['train'], dev: ['val'], test: ['test'] });
  });

  it.each([
    ['train', 'train'],
    ['val', 'dev'],
    ['test', 'test'],
  ] as [string, TaskSplit][])('%s task counts match the reference', async (split, taskSplit) => {
    const t = await buildTask(loader, 'm3ed-7', taskSplit, sample, new TaskBuilder());
    expect(t.counts).toEqual(golden[split]!['m3ed-7']);
    expect(t.dropped).toEqual({});
  });
});

describe('m3ed broken files', () => {
  for (const c of brokenCases(join(fixtures, 'broken'), 'test')) {
    it(`${c.name}: ${c.expected.replaceAll(c.dir, '<dir>')}`, async () => {
      const err = await loader.load(c.dir, c.split).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toBe(c.expected);
    });
  }

  it('an emotion outside the seven fails the task with the JSON path', async () => {
    const dir = join(fixtures, 'unknown-label');
    const err = await buildTask(loader, 'm3ed-7', 'test', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(
      `${dir}/annotation.json: label 'Contempt' is outside the mapping of protocol m3ed-7 (expected one of: happy, neutral, sad, disgust, anger, fear, surprise) at $.cc.cc_1.Dialog.cc_1_2`,
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
