/**
 * The Friends half of EmotionLines (Hsu et al., LREC 2018), as Peng et al. 2023 and the EmotionX
 * challenges used it. Files `friends_{train,dev,test}.json`: a list of dialogues, each a list of
 * `{speaker, utterance, emotion}` in temporal order; the EmotionX-2019 copies add `annotation`
 * (seven vote digits). Both forms are read; LoadedSplit.variant says which one was found.
 *
 * Ids: the release has no dialogue or utterance ids, so positions are the only ids it has:
 * dialogue `<split>/d<i>`, utterance `<split>/d<i>_u<j>` (0-based positions in the file). They do not
 * shift for a given release file.
 *
 * Text: Windows-1252 punctuation stored as C1 code points (U+0092 for ’) is repaired character by
 * character; everything else (double spaces included) is kept as released.
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
  Utterance,
} from '../harness/types.ts';
import { detectVariants, recordFiles } from './detect.ts';
import { JsonReader, jsonPath, readJsonFile } from './json-file.ts';
import { repairCp1252 } from './text-repair.ts';

const SPLITS = ['train', 'dev', 'test'] as const;

export const FRIENDS_EXPECTED_FILES = {
  emotionlines: {
    train: ['friends_train.json'],
    dev: ['friends_dev.json'],
    test: ['friends_test.json'],
  },
} as const;

/** Variant names returned by load(): the 2018 release, or the EmotionX-2019 copies with vote strings. */
export const FRIENDS_VARIANTS = {
  plain: 'emotionlines-2018',
  annotated: 'emotionx-2019-annotation',
} as const;

async function loadFriends(dir: string, split: string): Promise<LoadedSplit> {
  const file = join(dir, `friends_${split}.json`);
  const json = new JsonReader(file);
  const root = json.array(await readJsonFile(file), '$');
  const dialogues: Dialogue[] = [];
  let annotated: boolean | undefined;
  root.forEach((rawDialogue, d) => {
    const dPath = jsonPath('$', d);
    const turns = json.array(rawDialogue, dPath);
    if (turns.length === 0) throw json.error(dPath, 'a dialogue with at least one utterance', turns);
    const dialogueId = `${split}/d${d}`;
    const utterances: Utterance[] = turns.map((rawTurn, u) => {
      const path = jsonPath(dPath, u);
      const turn = json.object(rawTurn, path);
      const speaker = json.string(turn['speaker'], jsonPath(path, 'speaker'));
      const text = repairCp1252(json.text(turn['utterance'], jsonPath(path, 'utterance')));
      const emotion = json.string(turn['emotion'], jsonPath(path, 'emotion'));
      const meta: Record<string, string> = {};
      const hasAnnotation = turn['annotation'] !== undefined;
      if (annotated === undefined) annotated = hasAnnotation;
      else if (annotated !== hasAnnotation) {
        throw new DataError(
          file,
          undefined,
          `${path}: ${hasAnnotation ? 'unexpected' : 'missing'} "annotation" (the file's first utterance ${annotated ? 'has' : 'has no'} one; a file is either the 2018 form or the 2019 form)`,
        );
      }
      if (hasAnnotation) {
        const votes = json.string(turn['annotation'], jsonPath(path, 'annotation'));
        if (!/^\d{7}$/.test(votes))
          throw json.error(jsonPath(path, 'annotation'), 'seven vote digits', votes);
        meta['annotation'] = votes;
      }
      return {
        id: `${dialogueId}_u${u}`,
        text,
        speaker,
        label: emotion,
        source: { file, path },
        ...(hasAnnotation ? { meta } : {}),
      };
    });
    dialogues.push({ id: dialogueId, utterances });
  });
  return {
    dialogues,
    files: await recordFiles([file]),
    variant: annotated ? FRIENDS_VARIANTS.annotated : FRIENDS_VARIANTS.plain,
  };
}

const FRIENDS7 = ['neutral', 'joy', 'sadness', 'fear', 'anger', 'surprise', 'disgust'] as const;
const FRIENDS4 = ['neutral', 'joy', 'sadness', 'anger'] as const;
/** Raw labels of the release that are not one of the seven emotions. */
const NON_NEUTRAL = 'non-neutral';

const SYNONYMS = {
  neutral: ['none', 'no emotion'],
  joy: ['happy', 'happiness', 'joyful'],
  sadness: ['sad'],
  fear: ['afraid', 'scared', 'fearful'],
  anger: ['angry', 'mad'],
  surprise: ['surprised'],
  disgust: ['disgusted'],
} as const;

/** Labels are matched case-insensitively (the release is lower-case). */
function normalise(u: Utterance): string {
  return (u.label ?? '').trim().toLowerCase();
}

export function mapFriends7(u: Utterance): LabelMapping {
  const raw = normalise(u);
  if ((FRIENDS7 as readonly string[]).includes(raw)) return { label: raw };
  if (raw === NON_NEUTRAL) return { drop: NON_NEUTRAL };
  return undefined;
}

/** EmotionX: neutral, joy, sadness, anger kept; the other emotions and non-neutral dropped (reason = raw label). */
export function mapFriends4(u: Utterance): LabelMapping {
  const raw = normalise(u);
  if ((FRIENDS4 as readonly string[]).includes(raw)) return { label: raw };
  if ((FRIENDS7 as readonly string[]).includes(raw) || raw === NON_NEUTRAL) return { drop: raw };
  return undefined;
}

const SPLIT_MAP = { train: ['train'], dev: ['dev'], test: ['test'] } as const;

const PROTOCOLS: Protocol[] = [
  {
    id: 'friends-7',
    dataset: 'emotionlines-friends',
    description: 'EmotionLines Friends, seven emotions (Peng et al. 2023); "non-neutral" utterances dropped.',
    labels: FRIENDS7,
    synonyms: SYNONYMS,
    splits: SPLIT_MAP,
    mapLabel: mapFriends7,
    headline: 'macro_f1',
    metrics: ['accuracy', 'macro_f1', 'ua'],
    neutral: 'neutral',
    hasContext: true,
    notes: [
      'The release labels 19.6% of test "non-neutral" (no emotion with 3 of 5 votes); they are dropped here (test 2,764 -> 2,223). Peng\'s Table 1 counts all 2,764; whether Peng dropped them is not stated.',
      "Peng's Friends baselines (PRE-CODE 81.30 acc / 65.90 F1, SRL-GNN) follow the EmotionX 4-class convention; compare them with friends-4, not friends-7.",
      'Peng classified each utterance without dialogue context.',
    ],
  },
  {
    id: 'friends-4',
    dataset: 'emotionlines-friends',
    description:
      'EmotionLines Friends, EmotionX convention: neutral, joy, sadness, anger; fear, surprise, disgust and non-neutral dropped.',
    labels: FRIENDS4,
    synonyms: {
      neutral: SYNONYMS.neutral,
      joy: SYNONYMS.joy,
      sadness: SYNONYMS.sadness,
      anger: SYNONYMS.anger,
    },
    splits: SPLIT_MAP,
    mapLabel: mapFriends4,
    headline: 'micro_f1',
    metrics: ['micro_f1', 'wa', 'ua'],
    neutral: 'neutral',
    hasContext: true,
    notes: [
      'EmotionX 2019 scores micro-F1 over the four classes; EmotionX 2018, HiGRU and PRE-CODE report WA and UWA (= ua) over the same four.',
      'Not comparable with friends-7 (seven classes) numbers.',
    ],
  },
];

export const emotionlinesFriendsLoader: DatasetLoader = {
  id: 'emotionlines-friends',
  title: 'EmotionLines: Friends',
  citation:
    'Hsu, C.-C., Chen, S.-Y., Kuo, C.-C., Huang, T.-H. K., Ku, L.-W. (2018). EmotionLines: An Emotion Corpus of Multi-Party Conversations. LREC 2018.',
  licence:
    'No licence statement found (text from Friends TV scripts); obtain from the authors; research use.',
  homepage: 'http://doraemon.iis.sinica.edu.tw/emotionlines',
  splits: SPLITS,
  expectedFiles: FRIENDS_EXPECTED_FILES,
  detect: (dir) => detectVariants(dir, FRIENDS_EXPECTED_FILES),
  load(dir, split) {
    if (!(SPLITS as readonly string[]).includes(split)) {
      return Promise.reject(new InputError(unknownName('Friends split', split, SPLITS)));
    }
    return loadFriends(dir, split);
  },
  protocols: PROTOCOLS,
  sampleDir: fileURLToPath(new URL('./samples/emotionlines-friends', import.meta.url)),
};
