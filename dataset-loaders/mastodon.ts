/**
 * Mastodon dialogue sentiment (Cerisara et al., COLING 2018), the authors' anonymised release:
 * `datatrainJoint.txt` and `datatestJoint.txt`, one post per line, `<idx> <S>_<DA> <tokens> ` with a
 * trailing space; idx 0 starts a new dialogue; S is + (positive), - (negative) or * (neutral); DA is
 * one of 15 dialogue-act letters (kept in meta.act, unused by the protocol). There are no speakers.
 *
 * Ids: the release has none, so dialogue `<split>/d<k>` (k = 0-based dialogue index in the file) and
 * post `<split>/d<k>_u<idx>` (idx as written). Posts repeat across dialogues (reply-tree branches);
 * each copy is its own example, as in Co-GAT/DARER.
 *
 * Splits: Peng's numbers come from the Co-GAT split (train 967 / dev 108 / test 1,142 posts). Its test
 * equals datatestJoint.txt label for label; its train/dev split is rebuilt from the anonymised train
 * file by dialogue index (COGAT_DEV_DIALOGUES), which reproduces Co-GAT's train exactly and 96 of its
 * 108 dev posts (one dev dialogue was removed by the authors' anonymisation).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError, InputError, unknownName } from '../harness/errors.ts';
import type {
  DatasetLoader,
  Dialogue,
  LabelMapping,
  LoadedSplit,
  Protocol,
  TaskSplit,
  Utterance,
} from '../harness/types.ts';
import { detectVariants, recordFiles } from './detect.ts';
import { readTextFile, splitLines } from './text-file.ts';

const SPLITS = ['train', 'test'] as const;
const FILES: Record<(typeof SPLITS)[number], string> = {
  train: 'datatrainJoint.txt',
  test: 'datatestJoint.txt',
};

export const MASTODON_EXPECTED_FILES = {
  'anonymised-2020': { train: ['datatrainJoint.txt'], test: ['datatestJoint.txt'] },
} as const;

/**
 * 0-based indices of the datatrainJoint.txt dialogues that form Co-GAT's dev set (25 dialogues,
 * 96 posts); the other 243 dialogues (967 posts) are exactly Co-GAT's train (peng-dataset-formats §3b).
 */
export const COGAT_DEV_DIALOGUES: ReadonlySet<number> = new Set([
  12, 15, 16, 17, 49, 53, 63, 72, 79, 81, 103, 110, 117, 118, 138, 144, 164, 166, 192, 211, 214, 236, 245,
  253, 259,
]);

const LINE = /^(\d+) (\S+?)_(\S+)(?: (.*))?$/;

async function loadMastodon(dir: string, split: (typeof SPLITS)[number]): Promise<LoadedSplit> {
  const file = join(dir, FILES[split]);
  const lines = splitLines(await readTextFile(file));
  const dialogues: Dialogue[] = [];
  let current: Dialogue | undefined;
  let previousIdx = -1;
  for (let k = 0; k < lines.length; k++) {
    const line = k + 1;
    const m = LINE.exec(lines[k]!);
    if (!m) {
      throw new DataError(
        file,
        line,
        `expected "<index> <sentiment>_<act> <text>" (e.g. "0 +_I some text "), found ${JSON.stringify(lines[k]!.slice(0, 60))}`,
      );
    }
    const idx = Number(m[1]);
    const sentiment = m[2]!;
    const act = m[3]!;
    // The release ends every line with a space; it is not part of the text.
    const text = (m[4] ?? '').trimEnd();
    if (text.trim() === '') throw new DataError(file, line, 'expected post text after the label, found none');
    if (idx === 0) {
      current = { id: `${split}/d${dialogues.length}`, utterances: [] };
      dialogues.push(current);
    } else if (!current || idx !== previousIdx + 1) {
      throw new DataError(
        file,
        line,
        `expected post index ${current ? `${previousIdx + 1} or 0 (new dialogue)` : '0 (the first line starts a dialogue)'}, found ${idx}`,
      );
    }
    previousIdx = idx;
    current!.utterances.push({
      id: `${current!.id}_u${idx}`,
      text,
      label: sentiment,
      source: { file, line },
      meta: { act },
    });
  }
  return { dialogues, files: await recordFiles([file]), variant: 'anonymised-2020' };
}

const SENTIMENT: Readonly<Record<string, string>> = { '+': 'positive', '-': 'negative', '*': 'neutral' };

export function mapMastodon(u: Utterance): LabelMapping {
  const label = SENTIMENT[u.label ?? ''];
  return label ? { label } : undefined;
}

/** The dialogue's 0-based index in its file, from the id `<split>/d<k>`. */
export function mastodonDialogueIndex(dialogue: Dialogue): number {
  const m = /\/d(\d+)$/.exec(dialogue.id);
  if (!m) throw new DataError(dialogue.id, undefined, 'expected a Mastodon dialogue id "<split>/d<index>"');
  return Number(m[1]);
}

/** Co-GAT split: loader split 'train' feeds task train (all but the dev list) and task dev (the list). */
function selectCoGat(dialogue: Dialogue, split: TaskSplit): boolean {
  if (split === 'test') return true;
  const isDev = COGAT_DEV_DIALOGUES.has(mastodonDialogueIndex(dialogue));
  return split === 'dev' ? isDev : !isDev;
}

const PROTOCOLS: Protocol[] = [
  {
    id: 'mastodon-3',
    dataset: 'mastodon',
    description:
      'Mastodon post sentiment (positive / negative / neutral), Co-GAT split; dialogue acts ignored.',
    labels: ['positive', 'negative', 'neutral'],
    synonyms: { positive: ['pos', '+'], negative: ['neg', '-'], neutral: ['none', 'objective'] },
    splits: { train: ['train'], dev: ['train'], test: ['test'] },
    selectDialogue: selectCoGat,
    mapLabel: mapMastodon,
    headline: 'macro_f1',
    metrics: ['accuracy', 'macro_f1', 'pos_neg_f1'],
    neutral: 'neutral',
    positive: 'positive',
    negative: 'negative',
    hasContext: true,
    notes: [
      "DARER's 59.59 (cited by Peng) is the Co-GAT metric: mean of F1(positive) and F1(negative), neutral ignored = pos_neg_f1 here; Peng's own F1 is 3-class macro-F1.",
      "Test is the authors' anonymised file, label-identical to Co-GAT test (1,142 posts); dev is Co-GAT dev minus the one dialogue the anonymisation removed (96 of 108 posts).",
      'Peng classified each post without dialogue context.',
    ],
  },
];

export const mastodonLoader: DatasetLoader = {
  id: 'mastodon',
  title: 'Mastodon dialogue sentiment and dialogue acts',
  citation:
    'Cerisara, C., Jafaritazehjani, S., Oluokun, A., Le, H. T. (2018). Multi-task dialog act and sentiment recognition on Mastodon. COLING 2018.',
  licence: "GPL-3.0 (the authors' repository; no separate data licence); anonymised text.",
  homepage: 'https://github.com/cerisara/DialogSentimentMastodon',
  splits: SPLITS,
  expectedFiles: MASTODON_EXPECTED_FILES,
  detect: (dir) => detectVariants(dir, MASTODON_EXPECTED_FILES),
  load(dir, split) {
    if (split !== 'train' && split !== 'test') {
      return Promise.reject(new InputError(unknownName('Mastodon split', split, SPLITS)));
    }
    return loadMastodon(dir, split);
  },
  protocols: PROTOCOLS,
  sampleDir: fileURLToPath(new URL('./samples/mastodon', import.meta.url)),
};
