import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmoryNlpLoader, emorynlpLoader } from '../dataset-loaders/emorynlp.ts';
import { parsePythonStringList } from '../dataset-loaders/python-list-literal.ts';
import { DataError } from '../harness/errors.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import type { LoadedSplit, Utterance } from '../harness/types.ts';
import { brokenCases } from './support/broken-cases.ts';
import { lineEndingForms } from './support/line-endings.ts';
import { hasSharedData, repoRoot, sharedData } from './support/paths.ts';

const fixtures = resolve(repoRoot, 'test/fixtures/emorynlp');
const sample = emorynlpLoader.sampleDir!;
const jsonDir = join(fixtures, 'json');
const protocol = emorynlpLoader.protocols[0]!;

interface GoldenForm {
  ids: string[];
  emotion: Record<string, number>;
  scenes: number;
  speakers?: string[];
  texts?: string[];
}
/** Reference facts written by scripts/make-emorynlp-sample.py (Python csv, json and ast.literal_eval). */
const golden = JSON.parse(readFileSync(join(fixtures, 'sample-golden.json'), 'utf8')) as Record<
  string,
  { csv: GoldenForm; json: GoldenForm }
>;

const utterances = (s: LoadedSplit): Utterance[] => s.dialogues.flatMap((d) => d.utterances);
function count(values: readonly (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

describe('Python list literal (EmoryNLP Speaker column)', () => {
  it('reads single, double and escaped quotes the way ast.literal_eval does', () => {
    expect(parsePythonStringList("['Monica Geller']")).toEqual(['Monica Geller']);
    expect(parsePythonStringList("['Monica Geller', 'Phoebe Buffay']")).toEqual([
      'Monica Geller',
      'Phoebe Buffay',
    ]);
    expect(parsePythonStringList(`["Phoebe's Assistant"]`)).toEqual(["Phoebe's Assistant"]);
    expect(parsePythonStringList(`['Mr. O\\'Brien', "a \\"b\\"", 'x\\\\y']`)).toEqual([
      "Mr. O'Brien",
      'a "b"',
      'x\\y',
    ]);
    expect(parsePythonStringList('[ ]')).toEqual([]);
    expect(parsePythonStringList("['a, b', 'c',]")).toEqual(['a, b', 'c']);
  });

  it('rejects what is not a list of string literals, saying where', () => {
    expect(() => parsePythonStringList('Monica Geller')).toThrow("expected '[' at character 1");
    expect(() => parsePythonStringList("['Monica Geller'")).toThrow("expected ',' or ']' at character 17");
    expect(() => parsePythonStringList("['Monica]")).toThrow("expected closing ' at character 10");
    expect(() => parsePythonStringList("['a'] x")).toThrow('expected the end of the literal at character 7');
  });
});

describe('emorynlp loader on the bundled samples', () => {
  it('prefers the CSV form and declares both', async () => {
    expect(emorynlpLoader.expectedFiles.csv!.test).toEqual(['emorynlp_test_final.csv']);
    expect(emorynlpLoader.expectedFiles.json!.train).toEqual(['emotion-detection-trn.json']);
    expect(await emorynlpLoader.detect(sample)).toMatchObject({ found: true, variant: 'csv', missing: [] });
    expect(await emorynlpLoader.detect(jsonDir)).toMatchObject({ found: true, variant: 'json', missing: [] });
  });

  it.each(['train', 'dev', 'test'])('%s in both forms matches the Python reading', async (split) => {
    const csv = await emorynlpLoader.load(sample, split);
    const json = await emorynlpLoader.load(jsonDir, split);
    const g = golden[split]!;
    expect(csv.variant).toBe('csv');
    expect(json.variant).toBe('json');
    expect(utterances(csv).map((u) => u.id)).toEqual(g.csv.ids);
    expect(utterances(csv).map((u) => u.speaker)).toEqual(g.csv.speakers);
    expect(count(utterances(csv).map((u) => u.label))).toEqual(g.csv.emotion);
    expect(csv.dialogues).toHaveLength(g.csv.scenes);
    expect(utterances(json).map((u) => u.id)).toEqual(g.json.ids);
    expect(utterances(json).map((u) => u.text)).toEqual(g.json.texts);
    expect(count(utterances(json).map((u) => u.label))).toEqual(g.json.emotion);
    expect(json.dialogues).toHaveLength(g.json.scenes);
    // The CSV keeps a subset of the JSON's utterances, with the same ids, text, speakers and labels.
    const byId = new Map(utterances(json).map((u) => [u.id, u]));
    for (const u of utterances(csv)) {
      const j = byId.get(u.id);
      expect(j, u.id).toBeDefined();
      expect({ text: u.text, speaker: u.speaker, label: u.label }).toEqual({
        text: j!.text,
        speaker: j!.speaker,
        label: j!.label,
      });
    }
  });

  it('keeps multi-speaker lines, quoted text and sources', async () => {
    const csv = utterances(await emorynlpLoader.load(sample, 'train'));
    expect(csv[0]!.speaker).toBe('Monica Geller, Phoebe Buffay');
    expect(csv[1]!.speaker).toBe("Phoebe's Assistant");
    expect(csv[2]!.text).toBe('"So how does it feel knowing you\'re about to die?"');
    expect(csv[2]!.source).toEqual({ file: join(sample, 'emorynlp_train_final.csv'), line: 4 });
    const json = utterances(await emorynlpLoader.load(jsonDir, 'train'));
    expect(json[0]!.source).toEqual({
      file: join(jsonDir, 'emotion-detection-trn.json'),
      path: '$.episodes[0].scenes[0].utterances[0]',
    });
  });

  it('maps labels case-insensitively to the release spelling', () => {
    expect(protocol.id).toBe('emorynlp-7');
    expect(protocol.labels).toEqual(['Joyful', 'Mad', 'Peaceful', 'Neutral', 'Sad', 'Powerful', 'Scared']);
    expect(protocol.mapLabel({ id: 'x', text: 't', label: 'joyful' })).toEqual({ label: 'Joyful' });
    expect(protocol.mapLabel({ id: 'x', text: 't', label: 'MAD' })).toEqual({ label: 'Mad' });
    expect(protocol.mapLabel({ id: 'x', text: 't', label: 'Angry' })).toBeUndefined();
    expect(protocol).toMatchObject({ headline: 'weighted_f1', neutral: 'Neutral', hasContext: true });
  });
});

describe('emorynlp with an incomplete JSON release', () => {
  let partial = '';
  beforeAll(async () => {
    partial = await mkdtemp(join(tmpdir(), 'emorynlp-partial-'));
    for (const f of ['emotion-detection-dev.json', 'emotion-detection-tst.json'])
      await copyFile(join(jsonDir, f), join(partial, f));
  });
  afterAll(() => rm(partial, { recursive: true }));

  it('detect reports exactly the missing train file, and loading train says so', async () => {
    expect(await emorynlpLoader.detect(partial)).toEqual({
      found: false,
      variant: 'json',
      present: ['emotion-detection-dev.json', 'emotion-detection-tst.json'],
      missing: ['emotion-detection-trn.json'],
    });
    await expect(emorynlpLoader.load(partial, 'train')).rejects.toThrow(
      `${join(partial, 'emotion-detection-trn.json')}: file not found`,
    );
    expect((await emorynlpLoader.load(partial, 'dev')).variant).toBe('json');
  });

  it('a forced CSV loader does not fall back to the JSON files', async () => {
    await expect(createEmoryNlpLoader({ variant: 'csv' }).load(partial, 'dev')).rejects.toThrow(
      `${join(partial, 'emorynlp_dev_final.csv')}: file not found`,
    );
  });
});

describe('emorynlp CSV multi-line utterances: the same text and lines from LF and CRLF files', () => {
  // Same rows, LF and CRLF line endings (inside the quoted fields too); the last row, on line 8
  // after two multi-line utterances, has an emotion outside the protocol.
  const forms = lineEndingForms(join(fixtures, 'multiline/rows.csv.txt'), 'emorynlp_test_final.csv');
  const file = (dir: string) => join(dir, 'emorynlp_test_final.csv');

  it('the fixtures really differ in their line endings', () => {
    const lf = readFileSync(file(forms.lf), 'utf8');
    const crlf = readFileSync(file(forms.crlf), 'utf8');
    expect(lf).not.toContain('\r');
    expect(crlf.split('\r\n')).toHaveLength(9);
    expect(crlf.replaceAll('\r\n', '\n')).toBe(lf);
  });

  it('both forms give the same utterances, LF inside the text, on their physical lines', async () => {
    const strip = (s: LoadedSplit) =>
      s.dialogues.map((d) => ({ id: d.id, utterances: d.utterances.map(({ source, ...u }) => u) }));
    const lf = await emorynlpLoader.load(forms.lf, 'test');
    const crlf = await emorynlpLoader.load(forms.crlf, 'test');
    expect(strip(crlf)).toEqual(strip(lf));
    expect(utterances(crlf).map((u) => u.text)).toEqual([
      'Okay.',
      "I'll be at the museum.\nBye!",
      'One,\ntwo,\nthree.',
      'Fine.',
    ]);
    expect(utterances(crlf)[2]!.speaker).toBe('Ross Geller, Joey Tribbiani');
    for (const [dir, split] of [
      [forms.lf, lf],
      [forms.crlf, crlf],
    ] as const) {
      expect(utterances(split).map((u) => u.source)).toEqual(
        [2, 3, 5, 8].map((line) => ({ file: file(dir), line })),
      );
    }
  });

  it.each(Object.entries(forms))(
    '%s: the unknown emotion after the multi-line rows is reported on its physical line 8',
    async (_, dir) => {
      await expect(new TaskBuilder().build(emorynlpLoader, protocol, 'test', dir)).rejects.toThrow(
        `${file(dir)}:8: label 'Anxious'`,
      );
    },
  );
});

describe('emorynlp broken files', () => {
  it.each(brokenCases(join(fixtures, 'broken'), 'test'))('$name', async ({ dir, split, expected }) => {
    const error = await emorynlpLoader.load(dir, split).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(expected);
  });

  it('an unknown emotion fails at mapping time, naming file and line', async () => {
    const dir = join(fixtures, 'unknown-label');
    const loaded = await emorynlpLoader.load(dir, 'test');
    expect(protocol.mapLabel(utterances(loaded)[1]!)).toBeUndefined();
    await expect(new TaskBuilder().build(emorynlpLoader, protocol, 'test', dir)).rejects.toThrow(
      `${join(dir, 'emorynlp_test_final.csv')}:3: label 'Ecstatic'`,
    );
  });
});

describe.skipIf(!hasSharedData('emorynlp'))('emorynlp on the real releases (shared/data/emorynlp)', () => {
  const dir = join(sharedData, 'emorynlp');
  const json = createEmoryNlpLoader({ variant: 'json' });
  // Figures from shared/data/emorynlp/SOURCE.txt.
  const csvExpected = {
    train: {
      n: 7551,
      scenes: 659,
      emotion: { Mad: 785, Sad: 474, Joyful: 1677, Scared: 941, Neutral: 2485, Peaceful: 638, Powerful: 551 },
    },
    dev: {
      n: 954,
      scenes: 89,
      emotion: { Mad: 97, Sad: 51, Joyful: 205, Scared: 127, Neutral: 322, Peaceful: 82, Powerful: 70 },
    },
    test: {
      n: 984,
      scenes: 79,
      emotion: { Mad: 86, Sad: 70, Joyful: 217, Scared: 116, Neutral: 288, Peaceful: 111, Powerful: 96 },
    },
  } as const;
  const jsonExpected = {
    dev: {
      n: 1344,
      scenes: 99,
      emotion: { Mad: 143, Sad: 75, Joyful: 289, Scared: 178, Neutral: 393, Peaceful: 132, Powerful: 134 },
    },
    test: {
      n: 1328,
      scenes: 85,
      emotion: { Mad: 113, Sad: 98, Joyful: 282, Scared: 182, Neutral: 349, Peaceful: 159, Powerful: 145 },
    },
  } as const;

  it.each(['train', 'dev', 'test'] as const)('CSV %s: counts and labels', async (split) => {
    const task = await new TaskBuilder().build(emorynlpLoader, protocol, split, dir);
    expect(task.variant).toBe('csv');
    expect(task.examples).toHaveLength(csvExpected[split].n);
    expect(new Set(task.examples.map((e) => e.dialogueId)).size).toBe(csvExpected[split].scenes);
    expect(count(task.examples.map((e) => e.label))).toEqual(csvExpected[split].emotion);
  });

  it('the JSON train file is missing there, and detect says exactly that', async () => {
    expect(await json.detect(dir)).toMatchObject({
      found: false,
      variant: 'json',
      missing: ['emotion-detection-trn.json'],
    });
    await expect(json.load(dir, 'train')).rejects.toThrow(
      `${join(dir, 'emotion-detection-trn.json')}: file not found`,
    );
  });

  it.each(['dev', 'test'] as const)('JSON %s: counts, labels, and the CSV rows match it', async (split) => {
    const task = await new TaskBuilder().build(json, protocol, split, dir);
    expect(task.variant).toBe('json');
    expect(task.examples).toHaveLength(jsonExpected[split].n);
    expect(new Set(task.examples.map((e) => e.dialogueId)).size).toBe(jsonExpected[split].scenes);
    expect(count(task.examples.map((e) => e.label))).toEqual(jsonExpected[split].emotion);
    // SOURCE.txt: every CSV dev/test row matches the JSON on text and emotion; the shared ids find it.
    const byId = new Map(task.examples.map((e) => [e.id, e]));
    const csvRows = utterances(await emorynlpLoader.load(dir, split));
    for (const u of csvRows) {
      const j = byId.get(u.id);
      expect(j && { text: j.text, label: j.label }, u.id).toEqual({ text: u.text, label: u.label });
    }
  });
});
