import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  emotionlinesFriendsLoader as loader,
  mapFriends4,
  mapFriends7,
} from '../dataset-loaders/emotionlines-friends.ts';
import { findJsonError, lineColumn, parseJsonText } from '../dataset-loaders/json-file.ts';
import { DataError } from '../harness/errors.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import type { Utterance } from '../harness/types.ts';
import { brokenCases } from './support/broken-cases.ts';
import { repoRoot } from './support/paths.ts';
import { buildTask, utterancesOf } from './support/task-counts.ts';

const fixtures = resolve(repoRoot, 'test/fixtures/friends');
const sample = loader.sampleDir!;

/** Written by scripts/make-peng-samples.py: Python's json plus bytes(...).decode('cp1252') for C1 characters. */
interface Golden {
  dialogues: number;
  n: number;
  ids: string[];
  texts: string[];
  speakers: string[];
  emotion: Record<string, number>;
  friends7: Record<string, number>;
  friends7_dropped: Record<string, number>;
  friends4: Record<string, number>;
  friends4_dropped: Record<string, number>;
  annotations?: string[];
}
const golden = JSON.parse(readFileSync(join(fixtures, 'sample-golden.json'), 'utf8')) as Record<
  string,
  Golden
>;

const utt = (label: string): Utterance => ({ id: 'x', text: 'x', label });

describe('emotionlines-friends loader on the bundled sample', () => {
  it('declares the official files and finds them', async () => {
    expect(loader.expectedFiles['emotionlines']).toEqual({
      train: ['friends_train.json'],
      dev: ['friends_dev.json'],
      test: ['friends_test.json'],
    });
    expect(sample).toBe(resolve(repoRoot, 'dataset-loaders/samples/emotionlines-friends'));
    expect(await loader.detect(sample)).toMatchObject({ found: true, missing: [] });
    expect(loader.protocols.map((p) => p.id)).toEqual(['friends-7', 'friends-4']);
  });

  it.each(['train', 'dev', 'test'])(
    '%s: positional ids, repaired text, speakers, release order',
    async (split) => {
      const loaded = await loader.load(sample, split);
      const g = golden[split]!;
      const utts = utterancesOf(loaded);
      expect(loaded.variant).toBe('emotionlines-2018');
      expect(loaded.dialogues).toHaveLength(g.dialogues);
      expect(loaded.dialogues[1]!.id).toBe(`${split}/d1`);
      expect(utts.map((u) => u.id)).toEqual(g.ids);
      expect(utts.map((u) => u.text)).toEqual(g.texts);
      expect(utts.map((u) => u.speaker)).toEqual(g.speakers);
      expect(utts.some((u) => /[\u0080-\u009f]/.test(u.text))).toBe(false);
      expect(utts[1]!.source).toEqual({ file: join(sample, `friends_${split}.json`), path: '$[0][1]' });
    },
  );

  it('repairs U+0092 to ’ and keeps a genuine U+2019 and the raw file really holds C1 characters', async () => {
    const raw = readFileSync(join(sample, 'friends_train.json'), 'utf8');
    expect(raw).toContain('\\u0092');
    expect(raw.endsWith('\n')).toBe(false); // the release has no final newline
    const utts = utterancesOf(await loader.load(sample, 'train'));
    expect(utts[0]!.text).toBe('It’s the one with the duck.');
    expect(utts.some((u) => u.text.includes('I’m'))).toBe(true);
  });

  it('reads the EmotionX-2019 form with annotation votes and case-insensitive labels', async () => {
    const dir = join(fixtures, 'annotated');
    const loaded = await loader.load(dir, 'test');
    const g = golden['annotated-test']!;
    expect(loaded.variant).toBe('emotionx-2019-annotation');
    expect(utterancesOf(loaded).map((u) => u.meta?.['annotation'])).toEqual(g.annotations);
    const t7 = await buildTask(loader, 'friends-7', 'test', dir);
    expect(t7.counts).toEqual(g.friends7);
    expect(t7.dropped).toEqual(g.friends7_dropped);
    // The generator wrote "Joy" for the first utterance of the second dialogue.
    expect(utterancesOf(loaded).find((u) => u.id === 'test/d1_u0')!.label).toBe('Joy');
    expect(t7.task.examples.find((e) => e.id === 'test/d1_u0')!.label).toBe('joy');
  });
});

describe('friends protocols', () => {
  it('friends-7 drops non-neutral; friends-4 keeps the EmotionX four and drops the rest by label', () => {
    expect(mapFriends7(utt('non-neutral'))).toEqual({ drop: 'non-neutral' });
    expect(mapFriends7(utt('NEUTRAL'))).toEqual({ label: 'neutral' });
    expect(mapFriends7(utt('disgust'))).toEqual({ label: 'disgust' });
    expect(mapFriends7(utt('happy'))).toBeUndefined();
    expect(mapFriends4(utt('fear'))).toEqual({ drop: 'fear' });
    expect(mapFriends4(utt('Non-Neutral'))).toEqual({ drop: 'non-neutral' });
    expect(mapFriends4(utt('Anger'))).toEqual({ label: 'anger' });
    expect(mapFriends4(utt('contempt'))).toBeUndefined();
    const [p7, p4] = loader.protocols;
    expect(p7).toMatchObject({
      headline: 'macro_f1',
      metrics: ['accuracy', 'macro_f1', 'ua'],
      hasContext: true,
    });
    expect(p4).toMatchObject({
      headline: 'micro_f1',
      metrics: ['micro_f1', 'wa', 'ua'],
      labels: ['neutral', 'joy', 'sadness', 'anger'],
    });
    expect(p7!.notes?.join(' ')).toMatch(/4-class|friends-4/);
  });

  it.each(['train', 'dev', 'test'] as const)(
    '%s task counts and drops match the reference',
    async (split) => {
      const builder = new TaskBuilder();
      const g = golden[split]!;
      const t7 = await buildTask(loader, 'friends-7', split, sample, builder);
      expect(t7.counts).toEqual(g.friends7);
      expect(t7.dropped).toEqual(g.friends7_dropped);
      const t4 = await buildTask(loader, 'friends-4', split, sample, builder);
      expect(t4.counts).toEqual(g.friends4);
      expect(t4.dropped).toEqual(g.friends4_dropped);
    },
  );

  it('context holds every earlier turn of the dialogue, dropped ones included', async () => {
    const { task } = await buildTask(loader, 'friends-4', 'test', sample);
    const loaded = await loader.load(sample, 'test');
    for (const e of task.examples.slice(0, 20)) {
      const [d, u] = /d(\d+)_u(\d+)$/.exec(e.id)!.slice(1).map(Number) as [number, number];
      expect(e.context.map((c) => c.id)).toEqual(
        loaded.dialogues[d]!.utterances.slice(0, u).map((x) => x.id),
      );
      expect(e.dialogueId).toBe(`test/d${d}`);
    }
  });
});

describe('friends broken files', () => {
  for (const c of brokenCases(join(fixtures, 'broken'), 'test')) {
    it(`${c.name}: ${c.expected.replace(c.dir, '<dir>')}`, async () => {
      const err = await loader.load(c.dir, c.split).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toBe(c.expected);
    });
  }

  it('truncated JSON is reported on the last line of the file', async () => {
    const dir = join(fixtures, 'broken/truncated-json');
    const text = readFileSync(join(dir, 'friends_test.json'), 'utf8');
    const lastLine = text.split('\n').length;
    await expect(loader.load(dir, 'test')).rejects.toThrow(`friends_test.json:${lastLine}: truncated JSON`);
  });

  it('an emotion outside the mapping fails the task with the JSON path', async () => {
    const dir = join(fixtures, 'unknown-label');
    const err = await buildTask(loader, 'friends-7', 'test', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(
      `${dir}/friends_test.json: label 'happy' is outside the mapping of protocol friends-7 (expected one of: neutral, joy, sadness, fear, anger, surprise, disgust) at $[0][1]`,
    );
  });
});

describe('json-file: error positions', () => {
  it.each([
    ['[1, 2', 'truncated JSON: the file ends inside an array', 5],
    ['{"a": 1,\n "b": x}', 'invalid JSON: unexpected "x" where a value was expected', 15],
    ['[1,]', 'invalid JSON: unexpected "]" where a value was expected', 3],
    ['{"a" 1}', `invalid JSON: expected ':' after key, found "1"`, 5],
    ['[1] x', 'invalid JSON: unexpected "x" after the end of the document', 4],
    ['["a\nb"]', 'invalid JSON: unterminated string (raw line break inside a string)', 1],
    ['["\\x"]', 'invalid JSON: bad escape \\x in string', 2],
    ['', 'truncated JSON: the file ends inside a value', 0],
  ])('%j -> %s at offset %i', (text, message, offset) => {
    expect(findJsonError(text)).toEqual({ message, offset });
  });

  it('accepts what JSON.parse accepts', () => {
    for (const t of ['[]', '{}', ' {"a": [1, -2.5e3, true, null, "x\\u0041\\n"]} ', '"\u00e9"', '0']) {
      expect(findJsonError(t)).toBeUndefined();
    }
  });

  it('turns offsets into 1-based line and column', () => {
    expect(lineColumn('ab\ncd\nef', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab\ncd\nef', 8)).toEqual({ line: 3, column: 3 });
    expect(() => parseJsonText('{\n  "a": 1,\n}', 'f.json')).toThrow(
      `f.json:3: invalid JSON: expected a quoted key, found "}" (column 1)`,
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
