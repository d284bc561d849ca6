/**
 * MELD (Poria et al., ACL 2019): `{train,dev,test}_sent_emo.csv` from declare-lab/MELD `data/MELD/`.
 *
 * Two byte versions circulate and both are accepted (dataset-formats.md section 1): the current one
 * (clean UTF-8, CRLF, since commit ca3e126 of 2020-11-15) and the legacy one (LF, cp1252 bytes stored
 * as C1 control characters, the form of MELD.Raw.tar.gz and most older ERC repositories). A file that
 * holds any C1 character is read as legacy and repaired per character, which reproduces the current
 * text exactly; the split records which form was read.
 *
 * Ids come from the release: `<split>/dia<Dialogue_ID>_utt<Utterance_ID>`. Both ids skip (rows were
 * removed upstream), so positions are never used; a repeated pair within a split is an error.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../harness/errors.ts';
import { sha256 } from '../harness/hash.ts';
import type { DatasetLoader, Dialogue, LoadedSplit, Protocol, Utterance } from '../harness/types.ts';
import { readCsv } from './csv.ts';
import { detectVariants } from './detect.ts';
import { caseInsensitiveMapper, sampleDirOf } from './erc-helpers.ts';
import { repairLegacyText } from './text-repair.ts';

const SPLITS = ['train', 'dev', 'test'] as const;
const files = Object.fromEntries(SPLITS.map((s) => [s, [`${s}_sent_emo.csv`]]));

/** Same file names in both byte versions; detect() tells them apart by content. */
const expectedFiles = { current: files, 'legacy-cp1252': files };

const REQUIRED = ['Utterance', 'Speaker', 'Emotion', 'Sentiment', 'Dialogue_ID', 'Utterance_ID'] as const;

/** Emotion labels by descending train frequency (MELD's own statistics table order). */
export const MELD_EMOTIONS = ['neutral', 'joy', 'surprise', 'anger', 'sadness', 'disgust', 'fear'] as const;
export const MELD_SENTIMENTS = ['positive', 'negative', 'neutral'] as const;

/** True when the UTF-8 bytes hold a C1 control character (U+0080..U+009F is encoded C2 80..C2 9F). */
function bytesHaveC1(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(0xc2); i !== -1 && i < bytes.length - 1; i = bytes.indexOf(0xc2, i + 1)) {
    const next = bytes[i + 1]!;
    if (next >= 0x80 && next <= 0x9f) return true;
  }
  return false;
}

function nonNegativeInt(value: string, column: string, file: string, line: number): number {
  if (!/^\d+$/.test(value.trim())) {
    throw new DataError(file, line, `expected a non-negative integer in ${column}; found '${value}'`);
  }
  return Number(value.trim());
}

async function loadMeld(dir: string, split: string): Promise<LoadedSplit> {
  if (!(SPLITS as readonly string[]).includes(split)) {
    throw new DataError(dir, undefined, `MELD has no split '${split}'; expected one of ${SPLITS.join(', ')}`);
  }
  const file = join(dir, `${split}_sent_emo.csv`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new DataError(file, undefined, 'file not found');
    throw err;
  }
  const legacy = bytesHaveC1(bytes);
  const fix = legacy ? repairLegacyText : (s: string) => s;

  const dialogues: Dialogue[] = [];
  const finished = new Set<number>();
  // Rows of a dialogue are contiguous (checked below), so a repeated (Dialogue_ID, Utterance_ID) can
  // only repeat within the current dialogue: remembering that dialogue's rows is enough, and keeps
  // memory flat on very large files.
  let seen = new Map<number, number>();
  let current: { num: number; dialogue: Dialogue } | undefined;
  // Speakers and labels repeat on every row: one string each keeps a large release small in memory.
  const strings = new Map<string, string>();
  const intern = (value: string): string => {
    const known = strings.get(value);
    if (known !== undefined) return known;
    strings.set(value, value);
    return value;
  };

  for await (const { values: v, line } of readCsv(file, { required: REQUIRED })) {
    const dia = nonNegativeInt(v.Dialogue_ID!, 'Dialogue_ID', file, line);
    const utt = nonNegativeInt(v.Utterance_ID!, 'Utterance_ID', file, line);
    const key = `dia${dia}_utt${utt}`;
    const earlier = current?.num === dia ? seen.get(utt) : undefined;
    if (earlier !== undefined) {
      throw new DataError(
        file,
        line,
        `duplicate (Dialogue_ID, Utterance_ID) = (${dia}, ${utt}); first seen on line ${earlier}`,
      );
    }
    const text = fix(v.Utterance!);
    if (text.trim() === '')
      throw new DataError(file, line, `utterance ${key} has no text (empty Utterance field)`);
    const emotion = v.Emotion!.trim();
    if (emotion === '') throw new DataError(file, line, `utterance ${key} has an empty Emotion field`);
    const sentiment = v.Sentiment!.trim();
    if (sentiment === '') throw new DataError(file, line, `utterance ${key} has an empty Sentiment field`);

    if (!current || current.num !== dia) {
      // Dialogues are contiguous in the release; one that resumes later would break the context order.
      if (finished.has(dia))
        throw new DataError(
          file,
          line,
          `dialogue ${dia} resumes after other dialogues (rows of a dialogue must be contiguous)`,
        );
      if (current) finished.add(current.num);
      current = { num: dia, dialogue: { id: `${split}/dia${dia}`, utterances: [] } };
      dialogues.push(current.dialogue);
      seen = new Map();
    }
    seen.set(utt, line);
    const utterance: Utterance = {
      id: `${split}/${key}`,
      text,
      speaker: intern(fix(v.Speaker!)),
      label: intern(emotion),
      source: { file, line },
      meta: { sentiment: intern(sentiment) },
    };
    current.dialogue.utterances.push(utterance);
  }
  return {
    dialogues,
    files: [{ path: file, sha256: sha256(bytes), bytes: bytes.length }],
    variant: legacy ? 'legacy-cp1252' : 'current',
  };
}

const splits = { train: ['train'], dev: ['dev'], test: ['test'] } as const;
const mapEmotion = caseInsensitiveMapper(MELD_EMOTIONS);
const mapSentiment = caseInsensitiveMapper(MELD_SENTIMENTS);

const meld7: Protocol = {
  id: 'meld-7',
  dataset: 'meld',
  description: 'MELD 7-class emotion (Ekman six + neutral), official train/dev/test, text only',
  labels: MELD_EMOTIONS,
  synonyms: {
    neutral: ['none', 'no emotion', 'calm'],
    joy: ['happy', 'happiness', 'joyful', 'joyous'],
    surprise: ['surprised', 'shock', 'shocked', 'astonished'],
    anger: ['angry', 'mad', 'annoyed', 'furious'],
    sadness: ['sad', 'unhappy', 'sorrow'],
    disgust: ['disgusted', 'disgusting'],
    fear: ['scared', 'afraid', 'fearful', 'frightened'],
  },
  splits,
  mapLabel: (u) => mapEmotion(u.label),
  headline: 'weighted_f1',
  metrics: ['accuracy', 'weighted_f1', 'macro_f1'],
  neutral: 'neutral',
  hasContext: true,
  notes: [
    'Text-only: multimodal MELD results (and DialogueLLM, which adds video descriptions) are not comparable.',
    'Labels are listed by train frequency; papers index them differently (MELD README: neutral, surprise, fear, sadness, joy, disgust, anger).',
  ],
};

const meldSentiment3: Protocol = {
  id: 'meld-sentiment-3',
  dataset: 'meld',
  description: 'MELD 3-class sentiment (Sentiment column), official train/dev/test, text only',
  labels: MELD_SENTIMENTS,
  synonyms: { positive: ['pos'], negative: ['neg'], neutral: ['neu', 'none'] },
  splits,
  mapLabel: (u) => {
    const s = u.meta?.sentiment;
    return typeof s === 'string' ? mapSentiment(s) : undefined;
  },
  labelOf: (u) => ({
    field: 'sentiment',
    value: typeof u.meta?.sentiment === 'string' ? u.meta.sentiment : undefined,
  }),
  headline: 'weighted_f1',
  metrics: ['accuracy', 'weighted_f1', 'macro_f1'],
  neutral: 'neutral',
  positive: 'positive',
  negative: 'negative',
  hasContext: true,
};

export const meldLoader: DatasetLoader = {
  id: 'meld',
  title: 'MELD: Multimodal EmotionLines Dataset (text annotations)',
  citation:
    'Poria, Hazarika, Majumder, Naik, Cambria, Mihalcea. MELD: A Multimodal Multi-Party Dataset for Emotion Recognition in Conversations. ACL 2019.',
  licence: 'GPL-3.0 (declare-lab/MELD repository licence)',
  homepage: 'https://github.com/declare-lab/MELD',
  splits: SPLITS,
  expectedFiles,
  async detect(dir) {
    const result = await detectVariants(dir, { current: files });
    if (!result.found) return result;
    // Same names in both versions: the content says which one is there.
    for (const f of result.present) {
      if (bytesHaveC1(await readFile(join(dir, f)))) return { ...result, variant: 'legacy-cp1252' };
    }
    return result;
  },
  load: loadMeld,
  protocols: [meld7, meldSentiment3],
  sampleDir: sampleDirOf('meld'),
};
