import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { meldLoader } from '../dataset-loaders/meld.ts';
import { repairCp1252, repairLegacyText } from '../dataset-loaders/text-repair.ts';
import { DataError } from '../harness/errors.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import type { LoadedSplit, Protocol } from '../harness/types.ts';
import { brokenCases } from './support/broken-cases.ts';
import { lineEndingForms } from './support/line-endings.ts';
import { hasSharedData, repoRoot, sharedData } from './support/paths.ts';

const fixtures = resolve(repoRoot, 'test/fixtures/meld');
const sample = meldLoader.sampleDir!;
const protocol = (id: string): Protocol => meldLoader.protocols.find((p) => p.id === id)!;

/** Reference facts written by scripts/make-meld-sample.py from Python's csv module. */
const golden = JSON.parse(readFileSync(join(fixtures, 'sample-golden.json'), 'utf8')) as Record<
  string,
  {
    n: number;
    dialogues: number;
    emotion: Record<string, number>;
    sentiment: Record<string, number>;
    first: { id: string; text: string; speaker: string };
    last: { id: string; text: string; speaker: string };
    ids: string[];
  }
>;

function utterances(split: LoadedSplit) {
  return split.dialogues.flatMap((d) => d.utterances);
}

function count(values: readonly (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

describe('meld loader on the bundled sample', () => {
  it('declares the official files and an absolute sample folder', async () => {
    expect(meldLoader.expectedFiles.current).toEqual({
      train: ['train_sent_emo.csv'],
      dev: ['dev_sent_emo.csv'],
      test: ['test_sent_emo.csv'],
    });
    expect(sample.startsWith('/')).toBe(true);
    const detected = await meldLoader.detect(sample);
    expect(detected).toMatchObject({ found: true, variant: 'current', missing: [] });
  });

  it.each(['train', 'dev', 'test'])(
    '%s matches the Python csv reading (ids, order, counts)',
    async (split) => {
      const loaded = await meldLoader.load(sample, split);
      const g = golden[split]!;
      const utts = utterances(loaded);
      expect(loaded.variant).toBe('current');
      expect(utts.map((u) => u.id)).toEqual(g.ids);
      expect(loaded.dialogues).toHaveLength(g.dialogues);
      expect(count(utts.map((u) => u.label))).toEqual(g.emotion);
      expect(count(utts.map((u) => u.meta?.sentiment as string))).toEqual(g.sentiment);
      expect(utts[0]).toMatchObject({ id: g.first.id, text: g.first.text, speaker: g.first.speaker });
      expect(utts.at(-1)).toMatchObject({ id: g.last.id, text: g.last.text, speaker: g.last.speaker });
      expect(loaded.files).toHaveLength(1);
      expect(loaded.files[0]!.path).toBe(join(sample, `${split}_sent_emo.csv`));
      expect(loaded.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  it('keeps release quirks: doubled quotes, skipped and non-zero ids, source lines', async () => {
    const loaded = await meldLoader.load(sample, 'train');
    const utts = utterances(loaded);
    // Line 3 of the file is `2,"He said, ""Hey, you’re not Bob.""",...` (CSV doubled quotes).
    expect(utts[1]).toMatchObject({ id: 'train/dia0_utt1', text: 'He said, "Hey, you’re not Bob."' });
    expect(utts[1]!.source).toEqual({ file: join(sample, 'train_sent_emo.csv'), line: 3 });
    // The generator skips Dialogue_ID 3 and 12, starts the 6th dialogue at Utterance_ID 1 and leaves a gap in the 3rd.
    const dialogueIds = loaded.dialogues.map((d) => d.id);
    expect(dialogueIds).not.toContain('train/dia3');
    expect(dialogueIds.slice(0, 4)).toEqual(['train/dia0', 'train/dia1', 'train/dia2', 'train/dia4']);
    expect(loaded.dialogues[5]!.utterances[0]!.id).toBe(`${loaded.dialogues[5]!.id}_utt1`);
    const third = loaded.dialogues[2]!.utterances.map((u) => u.id.replace(/^.*_utt/, ''));
    expect(third.slice(0, 3)).toEqual(['0', '1', '3']);
  });

  it('maps labels through both protocols; unknown labels are left to the task builder', () => {
    const m7 = protocol('meld-7');
    const s3 = protocol('meld-sentiment-3');
    expect(m7.labels).toEqual(['neutral', 'joy', 'surprise', 'anger', 'sadness', 'disgust', 'fear']);
    expect(s3.labels).toEqual(['positive', 'negative', 'neutral']);
    expect(m7.mapLabel({ id: 'x', text: 't', label: 'joy' })).toEqual({ label: 'joy' });
    expect(m7.mapLabel({ id: 'x', text: 't', label: 'Fear ' })).toEqual({ label: 'fear' });
    expect(m7.mapLabel({ id: 'x', text: 't', label: 'happy' })).toBeUndefined();
    expect(s3.mapLabel({ id: 'x', text: 't', label: 'joy', meta: { sentiment: 'positive' } })).toEqual({
      label: 'positive',
    });
    expect(s3.mapLabel({ id: 'x', text: 't', label: 'joy' })).toBeUndefined();
    expect(m7).toMatchObject({ headline: 'weighted_f1', neutral: 'neutral', hasContext: true });
    expect(m7.metrics).toEqual(['accuracy', 'weighted_f1', 'macro_f1']);
    expect(s3.headline).toBe('weighted_f1');
    expect(m7.splits).toEqual({ train: ['train'], dev: ['dev'], test: ['test'] });
  });

  it('builds meld-7 and meld-sentiment-3 tasks with dialogue context', async () => {
    const builder = new TaskBuilder();
    const task = await builder.build(meldLoader, protocol('meld-7'), 'test', sample);
    expect(task.examples).toHaveLength(golden.test!.n);
    const second = task.examples[1]!;
    expect(second.context.map((c) => c.id)).toEqual([task.examples[0]!.id]);
    const sentiment = await builder.build(meldLoader, protocol('meld-sentiment-3'), 'test', sample);
    expect(count(sentiment.examples.map((e) => e.label))).toEqual(golden.test!.sentiment);
  });
});

describe('meld legacy byte form (pre-2020-11-15)', () => {
  it("repairs every C1 character as Python's cp1252 codec does", () => {
    // python3 -c "print([hex(ord(bytes([b]).decode('cp1252', errors='ignore') or chr(b))) for b in range(0x80, 0xa0)])"
    const python =
      '20ac 81 201a 192 201e 2026 2020 2021 2c6 2030 160 2039 152 8d 17d 8f 90 2018 2019 201c 201d 2022 2013 2014 2dc 2122 161 203a 153 9d 17e 178';
    const c1 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(0x80 + i)).join('');
    expect([...repairCp1252(c1)].map((c) => c.codePointAt(0)!.toString(16)).join(' ')).toBe(python);
    // Genuine UTF-8 punctuation is left alone; NBSP becomes a space only in the legacy repair.
    expect(repairLegacyText('it\u2019s\u00a0ok\u0085')).toBe('it\u2019s ok\u2026');
  });

  const legacyDir = join(fixtures, 'legacy');

  it('detects the legacy form by its C1 characters', async () => {
    expect(await meldLoader.detect(legacyDir)).toMatchObject({ found: true, variant: 'legacy-cp1252' });
    const raw = readFileSync(join(legacyDir, 'train_sent_emo.csv'), 'utf8');
    expect(raw).toContain('\u0092'); // the premise: the fixture really holds mojibake
    expect(raw).toContain('\u2019'); // and one genuine right quote, which must survive
    expect(raw).not.toContain('\r\n');
  });

  it.each(['train', 'dev', 'test'])(
    '%s gives the same utterances as the current form after repair',
    async (split) => {
      const legacy = await meldLoader.load(legacyDir, split);
      const current = await meldLoader.load(sample, split);
      expect(legacy.variant).toBe('legacy-cp1252');
      const strip = (s: LoadedSplit) =>
        s.dialogues.map((d) => ({ id: d.id, utterances: d.utterances.map(({ source, ...u }) => u) }));
      expect(strip(legacy)).toEqual(strip(current));
    },
  );
});

describe('meld multi-line utterances: the same text and lines from LF and CRLF files', () => {
  // The two files differ only in line endings (inside the quoted fields too); the emotion of the
  // last row, on line 9 after two multi-line utterances, is outside the protocol.
  const forms = lineEndingForms(join(fixtures, 'multiline/rows.csv.txt'), 'test_sent_emo.csv');

  it('the fixtures really differ in their line endings', () => {
    const lf = readFileSync(join(forms.lf, 'test_sent_emo.csv'), 'utf8');
    const crlf = readFileSync(join(forms.crlf, 'test_sent_emo.csv'), 'utf8');
    expect(lf).not.toContain('\r');
    expect(crlf.split('\r\n')).toHaveLength(10);
    expect(crlf.replaceAll('\r\n', '\n')).toBe(lf);
  });

  it.each(Object.entries(forms))('%s: LF inside the text, rows on their physical lines', async (_, dir) => {
    const utts = utterances(await meldLoader.load(dir, 'test'));
    expect(utts.map((u) => u.text)).toEqual([
      'Hi.',
      'Wait,\nwhat did you\nsay?',
      'Nothing, he said "nothing".',
      'Line one\nline two',
      'Okay.',
    ]);
    expect(utts.map((u) => u.source?.line)).toEqual([2, 3, 6, 7, 9]);
  });

  it('both forms build the same meld-sentiment-3 examples, context included', async () => {
    const builder = new TaskBuilder();
    const lf = await builder.build(meldLoader, protocol('meld-sentiment-3'), 'test', forms.lf);
    const crlf = await builder.build(meldLoader, protocol('meld-sentiment-3'), 'test', forms.crlf);
    expect(crlf.examples).toEqual(lf.examples);
    expect(crlf.examples[2]!.context.map((c) => c.text)).toEqual(['Hi.', 'Wait,\nwhat did you\nsay?']);
  });

  it.each(Object.entries(forms))(
    '%s: the bad emotion after the multi-line rows is reported on its physical line 9',
    async (_, dir) => {
      await expect(new TaskBuilder().build(meldLoader, protocol('meld-7'), 'test', dir)).rejects.toThrow(
        `${join(dir, 'test_sent_emo.csv')}:9: label 'happyish' is outside the mapping of protocol meld-7`,
      );
    },
  );

  it.each(
    Object.entries(lineEndingForms(join(fixtures, 'multiline/bad-dialogue-id.csv.txt'), 'test_sent_emo.csv')),
  )('%s: a bad Dialogue_ID after multi-line rows is a DataError on its physical line 7', async (_, dir) => {
    const error = await meldLoader.load(dir, 'test').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(
      `${join(dir, 'test_sent_emo.csv')}:7: expected a non-negative integer in Dialogue_ID; found 'one'`,
    );
  });
});

describe('meld broken files', () => {
  it.each(brokenCases(join(fixtures, 'broken'), 'test'))('$name', async ({ dir, split, expected }) => {
    const error = await meldLoader.load(dir, split).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(expected);
  });

  it('an unknown emotion or sentiment fails at mapping time, naming file and line', async () => {
    const dir = join(fixtures, 'unknown-label');
    const file = join(dir, 'test_sent_emo.csv');
    const loaded = await meldLoader.load(dir, 'test');
    const [, happyish, neutrl] = utterances(loaded);
    expect(protocol('meld-7').mapLabel(happyish!)).toBeUndefined();
    expect(protocol('meld-sentiment-3').mapLabel(neutrl!)).toBeUndefined();
    const builder = new TaskBuilder();
    await expect(builder.build(meldLoader, protocol('meld-7'), 'test', dir)).rejects.toThrow(
      `${file}:3: label 'happyish'`,
    );
    // The sentiment protocol names the sentiment it read, not the row's emotion.
    await expect(builder.build(meldLoader, protocol('meld-sentiment-3'), 'test', dir)).rejects.toThrow(
      `${file}:4: sentiment '${neutrl!.meta!.sentiment}' is outside the mapping of protocol meld-sentiment-3`,
    );
  });

  it('an unknown split name is a DataError', async () => {
    await expect(meldLoader.load(sample, 'validation')).rejects.toThrow("MELD has no split 'validation'");
  });

  it('detect names the missing files', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'meld-empty-'));
    try {
      expect(await meldLoader.detect(empty)).toMatchObject({
        found: false,
        missing: ['train_sent_emo.csv', 'dev_sent_emo.csv', 'test_sent_emo.csv'],
      });
    } finally {
      await rm(empty, { recursive: true });
    }
  });
});

describe.skipIf(!hasSharedData('meld'))('meld on the real release (shared/data/meld)', () => {
  const dir = join(sharedData, 'meld');
  const legacyDir = join(dir, 'legacy-pre-2020-11-15/MELD');
  // Figures from shared/data/meld/SOURCE.txt (computed there with Python's csv module).
  const expected = {
    train: {
      n: 9989,
      dialogues: 1038,
      emotion: {
        joy: 1743,
        fear: 268,
        anger: 1109,
        disgust: 271,
        neutral: 4710,
        sadness: 683,
        surprise: 1205,
      },
      sentiment: { neutral: 4710, negative: 2945, positive: 2334 },
    },
    dev: {
      n: 1109,
      dialogues: 114,
      emotion: { joy: 163, fear: 40, anger: 153, disgust: 22, neutral: 470, sadness: 111, surprise: 150 },
      sentiment: { neutral: 470, negative: 406, positive: 233 },
    },
    test: {
      n: 2610,
      dialogues: 280,
      emotion: { joy: 402, fear: 50, anger: 345, disgust: 68, neutral: 1256, sadness: 208, surprise: 281 },
      sentiment: { neutral: 1256, negative: 833, positive: 521 },
    },
  } as const;

  it('detects both byte forms', async () => {
    expect(await meldLoader.detect(dir)).toMatchObject({ found: true, variant: 'current' });
    expect(await meldLoader.detect(legacyDir)).toMatchObject({ found: true, variant: 'legacy-cp1252' });
  });

  it.each(['train', 'dev', 'test'] as const)('%s: counts, labels and legacy equivalence', async (split) => {
    const builder = new TaskBuilder();
    const e = expected[split];
    const tasks = {
      current: await builder.build(meldLoader, protocol('meld-7'), split, dir),
      legacy: await builder.build(meldLoader, protocol('meld-7'), split, legacyDir),
    };
    const sentiment = await builder.build(meldLoader, protocol('meld-sentiment-3'), split, dir);
    expect(tasks.current.examples).toHaveLength(e.n);
    expect(tasks.current.variant).toBe('current');
    expect(tasks.legacy.variant).toBe('legacy-cp1252');
    expect(count(tasks.current.examples.map((x) => x.label))).toEqual(e.emotion);
    expect(count(sentiment.examples.map((x) => x.label))).toEqual(e.sentiment);
    expect(new Set(tasks.current.examples.map((x) => x.dialogueId)).size).toBe(e.dialogues);
    // Same examples, same repaired text, same context: the legacy file is the current one after repair.
    expect(tasks.legacy.examples).toEqual(tasks.current.examples);
    expect(tasks.current.examples.some((x) => x.text.includes('\u2019'))).toBe(true);
    expect(tasks.legacy.examples.some((x) => /[\u0080-\u009f\u00a0]/.test(x.text))).toBe(false);
  });

  it('ids are unique across splits and taken from the release', async () => {
    const ids = new Set<string>();
    for (const split of meldLoader.splits) {
      for (const u of utterances(await meldLoader.load(dir, split))) {
        expect(u.id.startsWith(`${split}/dia`)).toBe(true);
        ids.add(u.id);
      }
    }
    expect(ids.size).toBe(9989 + 1109 + 2610);
  });
});
