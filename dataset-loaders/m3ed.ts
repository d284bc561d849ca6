/**
 * M3ED (Zhao et al., ACL 2022), Chinese multimodal dialogue emotion, used text-only as Peng et al.
 * 2023 did. Files of github AIM3-RUC/RUCM3ED: `annotation.json` ({series: {dialogue: {SpeakerInfo,
 * Dialog: {utterance: {Text, Speaker, EmoAnnotation: {final_main_emo, ...}}}}}}) and the split by TV
 * series `splitInfo/movie_list_{train,val,test}.txt` (one series per line, no final newline).
 *
 * Order: series in list-file order; dialogues and utterances by the integer after the last "_" of
 * their keys ("anjia_10" after "anjia_9"), never lexicographically. Ids are the release's own keys.
 *
 * Consistency between the two sources is an error, not a warning: a listed series missing from
 * annotation.json would silently shrink a split, and a series in annotation.json that no list names
 * (or that two lists name) means the files come from different releases.
 */
import { stat } from 'node:fs/promises';
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
import { readTextFile, splitLines } from './text-file.ts';

const SPLITS = ['train', 'val', 'test'] as const;
type M3edSplit = (typeof SPLITS)[number];
const listFile = (split: M3edSplit) => `splitInfo/movie_list_${split}.txt`;

export const M3ED_EXPECTED_FILES = {
  rucm3ed: {
    train: ['annotation.json', listFile('train')],
    val: ['annotation.json', listFile('val')],
    test: ['annotation.json', listFile('test')],
  },
} as const;

/**
 * A series name quoted for an error message, clipped to 40 characters (as json-file.ts quotes values):
 * a stray 2 MB line in a list file must not become a 2 MB error line.
 */
function quoteSeries(name: string): string {
  return `'${name.length > 40 ? `${name.slice(0, 40)}…` : name}'`;
}

/** Reads the three series lists; a series named twice (in one list or across lists) is an error. */
async function readSeriesLists(
  dir: string,
): Promise<Map<M3edSplit, { file: string; series: string[]; lines: number[] }>> {
  const lists = new Map<M3edSplit, { file: string; series: string[]; lines: number[] }>();
  const owner = new Map<string, string>();
  for (const split of SPLITS) {
    const file = join(dir, listFile(split));
    const series: string[] = [];
    const lines: number[] = [];
    splitLines(await readTextFile(file)).forEach((raw, k) => {
      const name = raw.trim();
      if (name === '') return;
      const where = `${file}:${k + 1}`;
      const first = owner.get(name);
      if (first !== undefined)
        throw new DataError(file, k + 1, `series ${quoteSeries(name)} is already listed at ${first}`);
      owner.set(name, where);
      series.push(name);
      lines.push(k + 1);
    });
    lists.set(split, { file, series, lines });
  }
  return lists;
}

/** The integer after the last "_" of a key of the form `<prefix>_<n>`. */
function keyIndex(key: string, prefix: string, json: JsonReader, path: string): number {
  const m = /^(.*)_(\d+)$/.exec(key);
  if (!m || m[1] !== prefix) throw json.error(path, `a key of the form "${prefix}_<number>"`, key);
  return Number(m[2]);
}

function sortedEntries(
  obj: Record<string, unknown>,
  prefix: string,
  json: JsonReader,
  path: string,
): [string, unknown][] {
  return Object.entries(obj)
    .map(([k, v]) => ({ k, v, n: keyIndex(k, prefix, json, jsonPath(path, k)) }))
    .sort((a, b) => a.n - b.n)
    .map(({ k, v }) => [k, v]);
}

/** annotation.json can be tens of MB; one parse serves the three splits while the file is unchanged. */
let cache: { file: string; mtimeMs: number; size: number; root: Record<string, unknown> } | undefined;

async function readAnnotation(file: string, json: JsonReader): Promise<Record<string, unknown>> {
  const info = await stat(file).catch(() => undefined);
  if (info && cache && cache.file === file && cache.mtimeMs === info.mtimeMs && cache.size === info.size) {
    return cache.root;
  }
  const root = json.object(await readJsonFile(file), '$');
  if (info) cache = { file, mtimeMs: info.mtimeMs, size: info.size, root };
  return root;
}

async function loadM3ed(dir: string, split: M3edSplit): Promise<LoadedSplit> {
  const file = join(dir, 'annotation.json');
  const json = new JsonReader(file);
  const lists = await readSeriesLists(dir);
  const root = await readAnnotation(file, json);
  const listed = new Set([...lists.values()].flatMap((l) => l.series));
  const unlisted = Object.keys(root).filter((s) => !listed.has(s));
  if (unlisted.length > 0) {
    throw new DataError(
      file,
      undefined,
      `series ${unlisted.map(quoteSeries).join(', ')} ${unlisted.length > 1 ? 'are' : 'is'} in no splitInfo list (expected every series in exactly one of movie_list_{train,val,test}.txt)`,
    );
  }
  const { file: list, series, lines } = lists.get(split)!;
  const absent = series.filter((s) => !(s in root));
  if (absent.length > 0) {
    throw new DataError(
      list,
      lines[series.indexOf(absent[0]!)],
      `series ${absent.map(quoteSeries).join(', ')} listed for ${split} but absent from ${file}`,
    );
  }
  const dialogues: Dialogue[] = [];
  for (const name of series) {
    const sPath = jsonPath('$', name);
    for (const [dialogueId, rawDialogue] of sortedEntries(
      json.object(root[name], sPath),
      name,
      json,
      sPath,
    )) {
      const dPath = jsonPath(sPath, dialogueId);
      const dialogue = json.object(rawDialogue, dPath);
      const speakers = json.object(dialogue['SpeakerInfo'] ?? {}, jsonPath(dPath, 'SpeakerInfo'));
      const turnsPath = jsonPath(dPath, 'Dialog');
      const utterances: Utterance[] = [];
      for (const [uttId, rawUtt] of sortedEntries(
        json.object(dialogue['Dialog'], turnsPath),
        dialogueId,
        json,
        turnsPath,
      )) {
        const path = jsonPath(turnsPath, uttId);
        const utt = json.object(rawUtt, path);
        const text = json.text(utt['Text'], jsonPath(path, 'Text'));
        const tag = json.string(utt['Speaker'], jsonPath(path, 'Speaker'));
        const emoPath = jsonPath(path, 'EmoAnnotation');
        const emo = json.object(utt['EmoAnnotation'], emoPath);
        const label = json.string(emo['final_main_emo'], jsonPath(emoPath, 'final_main_emo'));
        const info = speakers[tag];
        const speakerName =
          info && typeof info === 'object' && typeof (info as Record<string, unknown>)['Name'] === 'string'
            ? ((info as Record<string, unknown>)['Name'] as string)
            : undefined;
        const meta: Record<string, string> = { speakerTag: tag };
        if (typeof emo['final_mul_emo'] === 'string') meta['final_mul_emo'] = emo['final_mul_emo'];
        if (typeof utt['StartTime'] === 'string') meta['start'] = utt['StartTime'];
        if (typeof utt['EndTime'] === 'string') meta['end'] = utt['EndTime'];
        utterances.push({
          id: uttId,
          text,
          speaker: speakerName && speakerName.trim() !== '' ? speakerName : tag,
          label,
          source: { file, path },
          meta,
        });
      }
      if (utterances.length === 0) {
        throw new DataError(
          file,
          undefined,
          `${turnsPath}: expected at least one utterance, found an empty object`,
        );
      }
      dialogues.push({ id: dialogueId, utterances });
    }
  }
  return { dialogues, files: await recordFiles([file, list]), variant: 'rucm3ed' };
}

const M3ED7 = ['happy', 'neutral', 'sad', 'disgust', 'anger', 'fear', 'surprise'] as const;

/** final_main_emo is capitalised in the release (Happy, Neutral, ...); matched case-insensitively. */
export function mapM3ed(u: Utterance): LabelMapping {
  const raw = (u.label ?? '').trim().toLowerCase();
  return (M3ED7 as readonly string[]).includes(raw) ? { label: raw } : undefined;
}

const PROTOCOLS: Protocol[] = [
  {
    id: 'm3ed-7',
    dataset: 'm3ed',
    description: 'M3ED seven emotions (final_main_emo), split by TV series 38 / 7 / 11 (Peng et al. 2023).',
    labels: M3ED7,
    synonyms: {
      happy: ['joy', 'happiness', '高兴', '开心'],
      neutral: ['中性', '平静'],
      sad: ['sadness', '悲伤', '难过'],
      disgust: ['disgusted', '厌恶'],
      anger: ['angry', '愤怒', '生气'],
      fear: ['afraid', 'scared', '恐惧', '害怕'],
      surprise: ['surprised', '惊讶'],
    },
    splits: { train: ['train'], dev: ['val'], test: ['test'] },
    mapLabel: mapM3ed,
    headline: 'weighted_f1',
    metrics: ['accuracy', 'weighted_f1', 'ua'],
    neutral: 'neutral',
    hasContext: true,
    notes: [
      "Peng's M3ED baselines (DialogueGCN 46.09, DialogueRNN 48.80, MDI 49.42 weighted F1) come from the M3ED paper and are very likely multimodal and context-aware; Peng used text only, without context.",
      'The label is the majority label final_main_emo; the multi-label final_mul_emo is kept in meta only.',
    ],
  },
];

export const m3edLoader: DatasetLoader = {
  id: 'm3ed',
  title: 'M3ED: Multi-modal Multi-scene Multi-label Emotional Dialogue (text)',
  citation:
    'Zhao, J., Zhang, T., Hu, J., Liu, Y., Jin, Q., Wang, X., Li, H. (2022). M3ED: Multi-modal Multi-scene Multi-label Emotional Dialogue Database. ACL 2022.',
  licence: 'No licence stated in AIM3-RUC/RUCM3ED; research use.',
  homepage: 'https://github.com/AIM3-RUC/RUCM3ED',
  splits: SPLITS,
  expectedFiles: M3ED_EXPECTED_FILES,
  detect: (dir) => detectVariants(dir, M3ED_EXPECTED_FILES),
  load(dir, split) {
    if (!(SPLITS as readonly string[]).includes(split)) {
      return Promise.reject(new InputError(unknownName('M3ED split', split, SPLITS)));
    }
    return loadM3ed(dir, split as M3edSplit);
  },
  protocols: PROTOCOLS,
  sampleDir: fileURLToPath(new URL('./samples/m3ed', import.meta.url)),
};
