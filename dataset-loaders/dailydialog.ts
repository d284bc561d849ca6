/**
 * DailyDialog (Li et al., IJCNLP 2017), from `ijcnlp_dailydialog.zip` with its split archives
 * unpacked: `<split>/dialogues_<split>.txt` and `<split>/dialogues_emotion_<split>.txt` (plus the
 * optional `dialogues_act_<split>.txt`) for split in train, validation, test. The top-level
 * `dialogues_text.txt`/`dialogues_emotion.txt` are the whole corpus in another order and no protocol
 * uses them, so they are not read.
 *
 * Format (dataset-formats.md section 3): one dialogue per line, corresponding lines across files;
 * every utterance ends with ` __eou__` (the last one too); labels are space-separated integers with a
 * trailing space. There is no speaker field: speakers alternate A, B, A... A text line whose segment
 * count differs from its label count is an error naming both files and the line.
 *
 * Ids: `<split>/d<line>` for a dialogue and `<split>/d<line>_u<index>` (0-based) for an utterance;
 * the release identifies dialogues by line number only.
 */
import { access } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DataError } from '../harness/errors.ts';
import type { DatasetLoader, Dialogue, LoadedSplit, Protocol, Utterance } from '../harness/types.ts';
import { detectVariants, recordFiles } from './detect.ts';
import { readText, sampleDirOf } from './erc-helpers.ts';
import { stripBom } from './text-repair.ts';

const SPLITS = ['train', 'validation', 'test'] as const;

const textFile = (s: string) => `${s}/dialogues_${s}.txt`;
const emotionFile = (s: string) => `${s}/dialogues_emotion_${s}.txt`;
const actFile = (s: string) => `${s}/dialogues_act_${s}.txt`;

const expectedFiles = {
  'split-folders': Object.fromEntries(SPLITS.map((s) => [s, [textFile(s), emotionFile(s)]])),
};

/** Raw emotion codes 0..6 as the readme numbers them; 0 is "no emotion". */
export const DAILYDIALOG_LABELS = [
  'neutral',
  'anger',
  'disgust',
  'fear',
  'happiness',
  'sadness',
  'surprise',
] as const;

/** Lines of a file without the final empty piece after the last newline; CR before LF tolerated. */
function lines(text: string): string[] {
  const out = stripBom(text).split('\n');
  if (out.at(-1) === '') out.pop();
  return out.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Corresponding files must have one line per dialogue each. */
function checkLineCount(file: string, got: number, other: string, expected: number): void {
  if (got !== expected) {
    throw new DataError(
      file,
      Math.min(got, expected) + 1,
      `has ${got} line${got === 1 ? '' : 's'} but ${basename(other)} has ${expected} (one line per dialogue in both files)`,
    );
  }
}

async function loadDailyDialog(dir: string, split: string): Promise<LoadedSplit> {
  if (!(SPLITS as readonly string[]).includes(split)) {
    throw new DataError(
      dir,
      undefined,
      `DailyDialog has no split '${split}'; expected one of ${SPLITS.join(', ')}`,
    );
  }
  const tFile = join(dir, textFile(split));
  const eFile = join(dir, emotionFile(split));
  const aFile = join(dir, actFile(split));
  const hasAct = await exists(aFile);
  const [text, emotion, act] = await Promise.all([
    readText(tFile).then(lines),
    readText(eFile).then(lines),
    hasAct ? readText(aFile).then(lines) : undefined,
  ]);
  checkLineCount(eFile, emotion.length, tFile, text.length);
  if (act) checkLineCount(aFile, act.length, tFile, text.length);

  const dialogues: Dialogue[] = [];
  for (let i = 0; i < text.length; i++) {
    const line = i + 1;
    const raw = text[i]!;
    if (raw.trim() === '')
      throw new DataError(tFile, line, 'empty line: expected a dialogue, each utterance ending with __eou__');
    const pieces = raw.split('__eou__');
    const tail = pieces.pop()!;
    if (tail.trim() !== '') {
      throw new DataError(
        tFile,
        line,
        `expected the line to end with __eou__; found trailing text '${tail.trim()}'`,
      );
    }
    const labels = emotion[i]!.trim()
      .split(/\s+/)
      .filter((t) => t !== '');
    if (labels.length !== pieces.length) {
      throw new DataError(
        tFile,
        line,
        `${pieces.length} utterances (__eou__ segments) but ${labels.length} emotion labels on line ${line} of ${basename(eFile)}`,
      );
    }
    const acts =
      act === undefined
        ? undefined
        : act[i]!.trim()
            .split(/\s+/)
            .filter((t) => t !== '');
    if (acts && acts.length !== pieces.length) {
      throw new DataError(
        tFile,
        line,
        `${pieces.length} utterances (__eou__ segments) but ${acts.length} act labels on line ${line} of ${basename(aFile)}`,
      );
    }
    const id = `${split}/d${line}`;
    const utterances: Utterance[] = pieces.map((piece, k) => {
      const utteranceText = piece.trim();
      if (utteranceText === '')
        throw new DataError(
          tFile,
          line,
          `utterance ${k + 1} of the dialogue has no text (nothing before its __eou__)`,
        );
      const u: Utterance = {
        id: `${id}_u${k}`,
        text: utteranceText,
        speaker: k % 2 === 0 ? 'A' : 'B',
        label: labels[k]!,
        source: { file: tFile, line },
      };
      if (acts) u.meta = { act: acts[k]! };
      return u;
    });
    dialogues.push({ id, utterances });
  }
  return {
    dialogues,
    files: await recordFiles(hasAct ? [tFile, eFile, aFile] : [tFile, eFile]),
    variant: 'split-folders',
  };
}

const byCode = new Map<string, string>(DAILYDIALOG_LABELS.map((l, i) => [String(i), l]));

const dailydialog7: Protocol = {
  id: 'dailydialog-7',
  dataset: 'dailydialog',
  description: 'DailyDialog 7-class emotion (no emotion + Ekman six), official train/validation/test',
  labels: DAILYDIALOG_LABELS,
  synonyms: {
    neutral: ['no emotion', 'no_emotion', 'none', 'neutral'],
    anger: ['angry', 'mad'],
    disgust: ['disgusted'],
    fear: ['scared', 'afraid', 'fearful'],
    happiness: ['happy', 'joy', 'joyful'],
    sadness: ['sad'],
    surprise: ['surprised'],
  },
  splits: { train: ['train'], dev: ['validation'], test: ['test'] },
  mapLabel: (u) => {
    const label = u.label === undefined ? undefined : byCode.get(u.label.trim());
    return label === undefined ? undefined : { label };
  },
  headline: 'micro_f1_excl_neutral',
  metrics: ['micro_f1_excl_neutral', 'macro_f1', 'accuracy'],
  neutral: 'neutral',
  hasContext: true,
  notes: [
    'Raw codes 0..6 (0 = no emotion, named neutral here); COSMIC-style pickles renumber them. Micro-F1 excludes neutral, as COSMIC does.',
    'Test and validation share 5 dialogues and contain exact duplicates (dataset-formats.md section 3).',
  ],
};

export const dailydialogLoader: DatasetLoader = {
  id: 'dailydialog',
  title: 'DailyDialog',
  citation:
    'Li, Su, Shen, Li, Cao, Niu. DailyDialog: A Manually Labelled Multi-turn Dialogue Dataset. IJCNLP 2017.',
  licence: 'CC BY-NC-SA 4.0',
  homepage: 'http://yanran.li/dailydialog',
  splits: SPLITS,
  expectedFiles,
  detect: (dir) => detectVariants(dir, expectedFiles),
  load: loadDailyDialog,
  protocols: [dailydialog7],
  sampleDir: sampleDirOf('dailydialog'),
};
