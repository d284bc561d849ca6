/**
 * EmoryNLP Emotion Detection (Zahiri & Choi, 2018): Friends scenes annotated with Willcox's seven
 * feelings. Two releases circulate and they are NOT comparable (dataset-formats.md section 2):
 *
 * - `csv`: `emorynlp_{train,dev,test}_final.csv` from declare-lab/MELD `data/emorynlp/` (7,551 / 954 /
 *   984 utterances, only those with subtitle times). The COSMIC version the LLM-ERC papers use.
 * - `json`: `emotion-detection-{trn,dev,tst}.json` from emorynlp/emotion-detection (9,934 / 1,344 /
 *   1,328 utterances).
 *
 * The CSV is preferred when it is complete; otherwise the most complete variant is read, and a split
 * that variant lacks is a missing-file error (never a silent switch to the other variant). The
 * variant is recorded with every split. Both use the JSON's ids (`s01_e15_c01_u002`; the CSV's
 * Season/Episode/Scene_ID/Utterance_ID are the same numbers), so the two can be compared row by row.
 * A dialogue is a scene.
 */
import { join } from 'node:path';
import { DataError, InputError, unknownName } from '../harness/errors.ts';
import type { DatasetLoader, Dialogue, LoadedSplit, Protocol, Utterance } from '../harness/types.ts';
import { readCsv } from './csv.ts';
import { detectVariants, recordFiles } from './detect.ts';
import { caseInsensitiveMapper, sampleDirOf } from './erc-helpers.ts';
import { readJsonFile } from './json-file.ts';
import { parsePythonStringList } from './python-list-literal.ts';

export type EmoryNlpVariant = 'csv' | 'json';

const SPLITS = ['train', 'dev', 'test'] as const;
type Split = (typeof SPLITS)[number];
const JSON_SEASON: Record<Split, string> = { train: 'trn', dev: 'dev', test: 'tst' };

/** Declaration order is preference order (detectVariants returns the first complete one). */
const expectedFiles = {
  csv: {
    train: ['emorynlp_train_final.csv'],
    dev: ['emorynlp_dev_final.csv'],
    test: ['emorynlp_test_final.csv'],
  },
  json: {
    train: ['emotion-detection-trn.json'],
    dev: ['emotion-detection-dev.json'],
    test: ['emotion-detection-tst.json'],
  },
} as const;

/** Labels as the release spells them, in COSMIC's index order. */
export const EMORYNLP_LABELS = ['Joyful', 'Mad', 'Peaceful', 'Neutral', 'Sad', 'Powerful', 'Scared'] as const;

const CSV_COLUMNS = [
  'Utterance',
  'Speaker',
  'Emotion',
  'Scene_ID',
  'Utterance_ID',
  'Season',
  'Episode',
] as const;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function positiveInt(value: string, column: string, file: string, line: number): number {
  if (!/^\d+$/.test(value.trim()))
    throw new DataError(file, line, `expected an integer in ${column}; found '${value}'`);
  return Number(value.trim());
}

async function loadCsv(file: string): Promise<Dialogue[]> {
  const dialogues: Dialogue[] = [];
  const finished = new Set<string>();
  const seen = new Map<string, number>();
  let current: Dialogue | undefined;
  for await (const { values: v, line } of readCsv(file, { required: CSV_COLUMNS })) {
    const season = positiveInt(v.Season!, 'Season', file, line);
    const episode = positiveInt(v.Episode!, 'Episode', file, line);
    const scene = positiveInt(v.Scene_ID!, 'Scene_ID', file, line);
    const utt = positiveInt(v.Utterance_ID!, 'Utterance_ID', file, line);
    const sceneId = `s${pad(season, 2)}_e${pad(episode, 2)}_c${pad(scene, 2)}`;
    const id = `${sceneId}_u${pad(utt, 3)}`;
    const earlier = seen.get(id);
    if (earlier !== undefined)
      throw new DataError(
        file,
        line,
        `duplicate utterance ${id} (Season, Episode, Scene_ID, Utterance_ID); first seen on line ${earlier}`,
      );
    seen.set(id, line);
    let speakers: string[];
    try {
      speakers = parsePythonStringList(v.Speaker!);
    } catch (err) {
      throw new DataError(file, line, `Speaker: ${(err as Error).message}`);
    }
    const text = v.Utterance!;
    if (text.trim() === '')
      throw new DataError(file, line, `utterance ${id} has no text (empty Utterance field)`);
    const emotion = v.Emotion!.trim();
    if (emotion === '') throw new DataError(file, line, `utterance ${id} has an empty Emotion field`);
    if (current?.id !== sceneId) {
      if (finished.has(sceneId))
        throw new DataError(
          file,
          line,
          `scene ${sceneId} resumes after other scenes (rows of a scene must be contiguous)`,
        );
      if (current) finished.add(current.id);
      current = { id: sceneId, utterances: [] };
      dialogues.push(current);
    }
    current.utterances.push(utterance(id, text, speakers, emotion, { file, line }, { season, episode }));
  }
  return dialogues;
}

function utterance(
  id: string,
  text: string,
  speakers: readonly string[],
  emotion: string,
  source: Utterance['source'],
  meta: Record<string, string | number>,
): Utterance {
  const u: Utterance = { id, text, label: emotion, source, meta: { ...meta, speakers: speakers.length } };
  // Several speakers say some lines together; they are joined as the transcript would print them.
  if (speakers.length > 0) u.speaker = speakers.join(', ');
  return u;
}

/** Checks one JSON node's type; `path` is its JSON path for the error message. */
function check<T>(file: string, value: unknown, path: string, what: string, ok: (v: unknown) => boolean): T {
  if (!ok(value)) {
    const found =
      value === undefined
        ? 'nothing'
        : Array.isArray(value)
          ? 'an array'
          : value === null
            ? 'null'
            : typeof value === 'string'
              ? `the string ${JSON.stringify(value)}`
              : `a ${typeof value}`;
    throw new DataError(file, undefined, `expected ${what} at ${path}; found ${found}`);
  }
  return value as T;
}

const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown) => typeof v === 'string';
const isNonEmptyString = (v: unknown) => typeof v === 'string' && v.trim() !== '';

async function loadJson(file: string, split: Split): Promise<Dialogue[]> {
  const root = check<Record<string, unknown>>(file, await readJsonFile(file), '$', 'an object', isObject);
  const season = check<string>(file, root.season_id, '$.season_id', 'a string', isString);
  if (season !== JSON_SEASON[split]) {
    throw new DataError(
      file,
      undefined,
      `expected season_id '${JSON_SEASON[split]}' for the ${split} split at $.season_id; found '${season}'`,
    );
  }
  const episodes = check<unknown[]>(file, root.episodes, '$.episodes', 'an array', Array.isArray);
  const dialogues: Dialogue[] = [];
  const seen = new Map<string, string>();
  episodes.forEach((ep, e) => {
    const epPath = `$.episodes[${e}]`;
    const episode = check<Record<string, unknown>>(file, ep, epPath, 'an episode object', isObject);
    const episodeId = check<string>(
      file,
      episode.episode_id,
      `${epPath}.episode_id`,
      'a string',
      isNonEmptyString,
    );
    const scenes = check<unknown[]>(file, episode.scenes, `${epPath}.scenes`, 'an array', Array.isArray);
    scenes.forEach((sc, s) => {
      const scPath = `${epPath}.scenes[${s}]`;
      const scene = check<Record<string, unknown>>(file, sc, scPath, 'a scene object', isObject);
      const sceneId = check<string>(file, scene.scene_id, `${scPath}.scene_id`, 'a string', isNonEmptyString);
      const utts = check<unknown[]>(
        file,
        scene.utterances,
        `${scPath}.utterances`,
        'an array',
        Array.isArray,
      );
      const dialogue: Dialogue = { id: sceneId, utterances: [] };
      utts.forEach((ut, k) => {
        const path = `${scPath}.utterances[${k}]`;
        const u = check<Record<string, unknown>>(file, ut, path, 'an utterance object', isObject);
        const id = check<string>(file, u.utterance_id, `${path}.utterance_id`, 'a string', isNonEmptyString);
        const earlier = seen.get(id);
        if (earlier !== undefined)
          throw new DataError(
            file,
            undefined,
            `duplicate utterance_id '${id}' at ${path}; first at ${earlier}`,
          );
        seen.set(id, path);
        const speakers = check<string[]>(
          file,
          u.speakers,
          `${path}.speakers`,
          'an array of strings',
          (v) => Array.isArray(v) && v.every(isString),
        );
        const text = check<string>(
          file,
          u.transcript,
          `${path}.transcript`,
          'a non-empty transcript string',
          isNonEmptyString,
        );
        const emotion = check<string>(
          file,
          u.emotion,
          `${path}.emotion`,
          'an emotion string',
          isNonEmptyString,
        );
        dialogue.utterances.push(
          utterance(id, text, speakers, emotion, { file, path }, { episode: episodeId }),
        );
      });
      dialogues.push(dialogue);
    });
  });
  return dialogues;
}

/** Creates the loader; `variant` forces one release form (the built-in one picks it from the files). */
export function createEmoryNlpLoader(options: { variant?: EmoryNlpVariant } = {}): DatasetLoader {
  const forced = options.variant;
  // A forced form expects only its own files (so `datasets` names those as missing, not the other's).
  const expected = forced ? { [forced]: expectedFiles[forced] } : expectedFiles;
  const detect = (dir: string) => detectVariants(dir, expected);
  return {
    id: 'emorynlp',
    title: 'EmoryNLP Emotion Detection (Friends, seasons 1-4)',
    citation:
      'Zahiri and Choi. Emotion Detection on TV Show Transcripts with Sequence-based Convolutional Neural Networks. AAAI Workshops 2018.',
    licence: 'Apache-2.0 (emorynlp/emotion-detection); the CSV form ships in declare-lab/MELD (GPL-3.0)',
    homepage: 'https://github.com/emorynlp/emotion-detection',
    splits: SPLITS,
    expectedFiles: expected,
    detect,
    async load(dir, split): Promise<LoadedSplit> {
      if (!(SPLITS as readonly string[]).includes(split)) {
        throw new DataError(
          dir,
          undefined,
          `EmoryNLP has no split '${split}'; expected one of ${SPLITS.join(', ')}`,
        );
      }
      const detected = await detect(dir);
      const variant = (detected.variant ?? forced ?? 'csv') as EmoryNlpVariant;
      const file = join(dir, expectedFiles[variant][split as Split][0]);
      const dialogues = variant === 'csv' ? await loadCsv(file) : await loadJson(file, split as Split);
      return { dialogues, files: await recordFiles([file]), variant };
    },
    protocols: [emorynlp7],
    sampleDir: sampleDirOf('emorynlp'),
    withVariant(variant) {
      if (!Object.hasOwn(expectedFiles, variant))
        throw new InputError(unknownName('EmoryNLP form', variant, Object.keys(expectedFiles)));
      return createEmoryNlpLoader({ variant: variant as EmoryNlpVariant });
    },
  };
}

const mapEmotion = caseInsensitiveMapper(EMORYNLP_LABELS);

const emorynlp7: Protocol = {
  id: 'emorynlp-7',
  dataset: 'emorynlp',
  description: 'EmoryNLP 7-class emotion (Willcox feelings wheel), official train/dev/test scenes',
  labels: EMORYNLP_LABELS,
  synonyms: {
    Joyful: ['joy', 'happy', 'happiness', 'joyful'],
    Mad: ['angry', 'anger', 'mad'],
    Peaceful: ['calm', 'content', 'peaceful', 'relaxed'],
    Neutral: ['neutral', 'none'],
    Sad: ['sad', 'sadness'],
    Powerful: ['confident', 'proud', 'powerful'],
    Scared: ['fear', 'afraid', 'fearful', 'scared'],
  },
  splits: { train: ['train'], dev: ['dev'], test: ['test'] },
  mapLabel: (u) => mapEmotion(u.label),
  headline: 'weighted_f1',
  metrics: ['accuracy', 'weighted_f1', 'macro_f1'],
  neutral: 'Neutral',
  hasContext: true,
  notes: [
    'Two releases: the CSV one (test 984, COSMIC/DialogueLLM/InstructERC) and the JSON one (test 1,328, CoMPM; DAG-ERC "EmoryNLP_big"). The manifest records which was read; only compare like with like.',
  ],
};

export const emorynlpLoader: DatasetLoader = createEmoryNlpLoader();
