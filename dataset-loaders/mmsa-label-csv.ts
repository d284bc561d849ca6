/**
 * The MMSA `label.csv` shared by CMU-MOSI and CH-SIMS (thuiar/MMSA): one row per clip with
 * video_id, clip_id, text, label (a float), optional label_T/A/V and annotation, and mode
 * (train / valid / test). Column order differs between MMSA versions and datasets, so columns are
 * always selected by header name. Ids stay strings (CH-SIMS clip ids are zero-padded; MOSI video ids
 * may start with "_" or hold "-").
 */
import { DataError } from '../harness/errors.ts';
import type { Dialogue, LoadedSplit } from '../harness/types.ts';
import { readCsv } from './csv.ts';
import { recordFiles } from './detect.ts';

export const MMSA_MODES = ['train', 'valid', 'test'] as const;
export type MmsaMode = (typeof MMSA_MODES)[number];

const REQUIRED = ['video_id', 'clip_id', 'text', 'label', 'mode'] as const;
const OPTIONAL = ['annotation', 'label_T', 'label_A', 'label_V'] as const;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface MmsaLabelOptions {
  /** Closed range the `label` column must fall in ([-3, 3] for MOSI, [-1, 1] for CH-SIMS). */
  range: readonly [number, number];
}

/**
 * Reads the clips of one mode as one-utterance dialogues, in file order. The utterance id is MMSA's
 * own `<video_id>$_$<clip_id>`; `label` keeps the float as written.
 */
export async function loadMmsaSplit(
  file: string,
  mode: MmsaMode,
  options: MmsaLabelOptions,
): Promise<LoadedSplit> {
  const [lo, hi] = options.range;
  const dialogues: Dialogue[] = [];
  const seen = new Map<string, number>();
  for await (const row of readCsv(file, { required: REQUIRED })) {
    const v = row.values;
    const at = (message: string) => new DataError(file, row.line, message);
    const videoId = v['video_id']!.trim();
    const clipId = v['clip_id']!.trim();
    if (videoId === '' || clipId === '') throw at('expected non-empty video_id and clip_id');
    const id = `${videoId}$_$${clipId}`;
    const first = seen.get(id);
    if (first !== undefined) throw at(`duplicate clip ${id} (first on line ${first})`);
    seen.set(id, row.line);
    const rowMode = v['mode']!.trim();
    if (!(MMSA_MODES as readonly string[]).includes(rowMode)) {
      throw at(`expected mode train, valid or test, found ${JSON.stringify(rowMode)}`);
    }
    const label = v['label']!.trim();
    const value = Number(label);
    if (!NUMBER.test(label) || !Number.isFinite(value))
      throw at(`expected a numeric label, found ${JSON.stringify(label)}`);
    if (value < lo || value > hi) throw at(`expected a label in [${lo}, ${hi}], found ${label}`);
    const text = v['text']!;
    if (text.trim() === '') throw at(`expected text for clip ${id}, found an empty field`);
    if (rowMode !== mode) continue;
    const meta: Record<string, string> = { video_id: videoId, clip_id: clipId };
    for (const col of OPTIONAL) if (v[col] !== undefined && v[col] !== '') meta[col] = v[col]!.trim();
    dialogues.push({ id, utterances: [{ id, text, label, source: { file, line: row.line }, meta }] });
  }
  return { dialogues, files: await recordFiles([file]), variant: 'mmsa-label-csv' };
}

/** The numeric label of an utterance read by loadMmsaSplit, or undefined when it is not a number. */
export function mmsaScore(label: string | undefined): number | undefined {
  if (label === undefined || !NUMBER.test(label.trim())) return undefined;
  const value = Number(label);
  return Number.isFinite(value) ? value : undefined;
}
