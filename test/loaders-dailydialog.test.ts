import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dailydialogLoader } from '../dataset-loaders/dailydialog.ts';
import { DataError } from '../harness/errors.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import type { LoadedSplit } from '../harness/types.ts';
import { brokenCases } from './support/broken-cases.ts';
import { hasSharedData, repoRoot, sharedData } from './support/paths.ts';

const fixtures = resolve(repoRoot, 'test/fixtures/dailydialog');
const sample = dailydialogLoader.sampleDir!;
const protocol = dailydialogLoader.protocols[0]!;

/** Reference facts written by scripts/make-dailydialog-sample.py (documented parsing, in Python). */
const golden = JSON.parse(readFileSync(join(fixtures, 'sample-golden.json'), 'utf8')) as Record<
  string,
  {
    dialogues: number;
    utterances: number;
    emotion: Record<string, number>;
    first_dialogue: string[];
    last_utterance: string;
  }
>;

const utterances = (s: LoadedSplit) => s.dialogues.flatMap((d) => d.utterances);
function count(values: readonly (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

describe('dailydialog loader on the bundled sample', () => {
  it('declares the unpacked split folders', async () => {
    expect(dailydialogLoader.splits).toEqual(['train', 'validation', 'test']);
    expect(dailydialogLoader.expectedFiles['split-folders']!.validation).toEqual([
      'validation/dialogues_validation.txt',
      'validation/dialogues_emotion_validation.txt',
    ]);
    expect(await dailydialogLoader.detect(sample)).toMatchObject({ found: true, missing: [] });
  });

  it.each(['train', 'validation', 'test'])('%s matches the Python reading', async (split) => {
    const loaded = await dailydialogLoader.load(sample, split);
    const g = golden[split]!;
    const utts = utterances(loaded);
    expect(loaded.dialogues).toHaveLength(g.dialogues);
    expect(utts).toHaveLength(g.utterances);
    expect(count(utts.map((u) => u.label))).toEqual(g.emotion);
    expect(loaded.dialogues[0]!.utterances.map((u) => u.text)).toEqual(g.first_dialogue);
    expect(utts.at(-1)!.text).toBe(g.last_utterance);
    // Text, emotion and act files are all recorded.
    expect(loaded.files.map((f) => f.path)).toEqual([
      join(sample, split, `dialogues_${split}.txt`),
      join(sample, split, `dialogues_emotion_${split}.txt`),
      join(sample, split, `dialogues_act_${split}.txt`),
    ]);
  });

  it('alternates speakers A/B, uses line-number ids, keeps acts and sources', async () => {
    const loaded = await dailydialogLoader.load(sample, 'test');
    const second = loaded.dialogues[1]!;
    expect(second.id).toBe('test/d2');
    expect(second.utterances.map((u) => u.id).slice(0, 3)).toEqual([
      'test/d2_u0',
      'test/d2_u1',
      'test/d2_u2',
    ]);
    expect(second.utterances.map((u) => u.speaker).slice(0, 4)).toEqual(['A', 'B', 'A', 'B']);
    expect(second.utterances[0]!.source).toEqual({ file: join(sample, 'test/dialogues_test.txt'), line: 2 });
    // Line 2 of dialogues_act_test.txt, read by hand: "1 1 2 3 1 2 1 1 1 ".
    const acts = readFileSync(join(sample, 'test/dialogues_act_test.txt'), 'utf8')
      .split('\n')[1]!
      .trim()
      .split(' ');
    expect(second.utterances.map((u) => u.meta?.act)).toEqual(acts);
  });

  it('parses a hand-written line exactly (pre-tokenised text, trailing __eou__)', async () => {
    const loaded = await dailydialogLoader.load(join(fixtures, 'unknown-label'), 'test');
    expect(loaded.dialogues.map((d) => d.utterances.map((u) => [u.text, u.speaker, u.label]))).toEqual([
      [
        ['Hi .', 'A', '0'],
        ['Hello .', 'B', '0'],
      ],
      [
        ['Wow !', 'A', '7'],
        ['Yes .', 'B', '0'],
      ],
    ]);
    // No act file there: no act meta, and only two files recorded.
    expect(loaded.files).toHaveLength(2);
    expect(loaded.dialogues[0]!.utterances[0]!.meta).toBeUndefined();
  });

  it('maps raw codes 0..6 to names; neutral is excluded by the headline metric', () => {
    expect(protocol.id).toBe('dailydialog-7');
    expect(protocol.labels).toEqual([
      'neutral',
      'anger',
      'disgust',
      'fear',
      'happiness',
      'sadness',
      'surprise',
    ]);
    const map = (label: string) => protocol.mapLabel({ id: 'x', text: 't', label });
    expect(['0', '1', '2', '3', '4', '5', '6'].map((c) => map(c))).toEqual(
      protocol.labels.map((label) => ({ label })),
    );
    expect(map('7')).toBeUndefined();
    expect(map('happiness')).toBeUndefined();
    expect(protocol).toMatchObject({
      headline: 'micro_f1_excl_neutral',
      neutral: 'neutral',
      hasContext: true,
    });
    expect(protocol.metrics).toEqual(['micro_f1_excl_neutral', 'macro_f1', 'accuracy']);
    expect(protocol.splits).toEqual({ train: ['train'], dev: ['validation'], test: ['test'] });
  });
});

describe('dailydialog broken files', () => {
  it.each(brokenCases(join(fixtures, 'broken'), 'test'))('$name', async ({ dir, split, expected }) => {
    const error = await dailydialogLoader.load(dir, split).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(expected);
  });

  it('an unknown code fails at mapping time, naming file and line', async () => {
    const dir = join(fixtures, 'unknown-label');
    await expect(new TaskBuilder().build(dailydialogLoader, protocol, 'test', dir)).rejects.toThrow(
      `${join(dir, 'test/dialogues_test.txt')}:2: label '7'`,
    );
  });
});

describe.skipIf(!hasSharedData('dailydialog'))(
  'dailydialog on the real release (shared/data/dailydialog)',
  () => {
    const dir = join(sharedData, 'dailydialog');
    // Figures from shared/data/dailydialog/SOURCE.txt (codes 0..6 in protocol order).
    const expected = {
      dev: { n: 8069, dialogues: 1000, codes: [7108, 77, 3, 11, 684, 79, 107] },
      test: { n: 7740, dialogues: 1000, codes: [6321, 118, 47, 17, 1019, 102, 116] },
    } as const;

    it('detect reports the missing train text', async () => {
      expect(await dailydialogLoader.detect(dir)).toMatchObject({
        found: false,
        missing: ['train/dialogues_train.txt'],
      });
      await expect(dailydialogLoader.load(dir, 'train')).rejects.toThrow(
        `${join(dir, 'train/dialogues_train.txt')}: file not found`,
      );
    });

    it.each(['dev', 'test'] as const)('%s: counts and labels', async (split) => {
      const task = await new TaskBuilder().build(dailydialogLoader, protocol, split, dir);
      const e = expected[split];
      expect(task.examples).toHaveLength(e.n);
      expect(new Set(task.examples.map((x) => x.dialogueId)).size).toBe(e.dialogues);
      expect(count(task.examples.map((x) => x.label))).toEqual(
        Object.fromEntries(protocol.labels.map((l, i) => [l, e.codes[i]])),
      );
      // The first test dialogue, as dataset-formats.md quotes it.
      if (split === 'test') {
        expect(task.examples.slice(0, 2).map((x) => x.text)).toEqual([
          'Hey man , you wanna buy some weed ?',
          'Some what ?',
        ]);
        expect(task.examples[1]!.context).toEqual([
          { id: 'test/d1_u0', speaker: 'A', text: 'Hey man , you wanna buy some weed ?' },
        ]);
      }
    });
  },
);
