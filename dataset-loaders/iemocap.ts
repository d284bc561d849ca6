/**
 * IEMOCAP (Busso et al., 2008), read from the licensed raw release: DIR/iemocap/IEMOCAP_full_release/
 * Session{1..5}/dialog/EmoEvaluation/<dialog>.txt (gold labels) joined with
 * dialog/transcriptions/<dialog>.txt (text) by utterance id. Loader splits are the sessions.
 *
 * EmoEvaluation summary lines look like `[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]`;
 * the annotator lines (`C-E2:`, `A-E3:`...), the `%` header and blank lines around them are not
 * utterances. Transcription lines look like `Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.`;
 * lines with an `XX` id or without a bracketed time are not utterances either: they are skipped and
 * counted per reason in LoadedSplit.skipped. An evaluation line with no transcription, or a transcribed
 * utterance with no evaluation line, is an error naming the file and line.
 *
 * Utterance numbers count per speaker, so turns are ordered by start time (then end time, then
 * transcription line). Ids are the release's turn names (`Ses01F_impro01_F000`); the speaker is the
 * F/M before the digits (the actor's gender); a dialogue is an EmoEvaluation file.
 *
 * There is no data in the repository's shared copy (licensed); the bundled sample is invented.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../harness/errors.ts';
import { sha256 } from '../harness/hash.ts';
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
import { readText, sampleDirOf } from './erc-helpers.ts';
import { stripBom } from './text-repair.ts';

export const IEMOCAP_SESSIONS = ['Session1', 'Session2', 'Session3', 'Session4', 'Session5'] as const;
const RELEASE = 'IEMOCAP_full_release';

const evalDir = (s: string) => `${RELEASE}/${s}/dialog/EmoEvaluation`;
const transDir = (s: string) => `${RELEASE}/${s}/dialog/transcriptions`;

/** The release has 151 dialogues under fixed folders; the folders are what can be checked exactly. */
const expectedFiles = {
  raw: Object.fromEntries(IEMOCAP_SESSIONS.map((s) => [s, [evalDir(s), transDir(s)]])),
};

const DIALOGUE_FILE = /^Ses(\d\d)[FM]_.+\.txt$/;
const SUMMARY =
  /^\[\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*\]\s+(\S+)\s+(\S+)\s+\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]\s*$/;
const ANNOTATION = /^(%|[CA]-[A-Za-z]+\d*:)/;
const TRANSCRIPT = /^(\S+)\s+\[(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\]:\s?(.*)$/;
const SPEAKER = /_([FM])\d+$/;

/** Reasons counted in LoadedSplit.skipped. */
export const SKIP = {
  xx: 'transcription line with an XX id (not an utterance)',
  noTime: 'transcription line without a bracketed time (not an utterance)',
  otherLine: 'EmoEvaluation line that is neither a summary nor an annotator line',
  otherFile: 'file in EmoEvaluation that is not a dialogue',
} as const;

interface EvalTurn {
  id: string;
  start: number;
  end: number;
  label: string;
  vad: [number, number, number];
  line: number;
}

function fileLines(text: string): string[] {
  return stripBom(text)
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function count(skipped: Record<string, number>, reason: string): void {
  skipped[reason] = (skipped[reason] ?? 0) + 1;
}

function checkTurnId(id: string, dialog: string, file: string, line: number): 'F' | 'M' {
  if (!id.startsWith(`${dialog}_`))
    throw new DataError(
      file,
      line,
      `utterance ${id} does not belong to dialogue ${dialog} (expected ${dialog}_<F|M><number>)`,
    );
  const m = SPEAKER.exec(id);
  if (!m)
    throw new DataError(
      file,
      line,
      `expected an utterance id ending in _F<number> or _M<number>; found ${id}`,
    );
  return m[1] as 'F' | 'M';
}

function parseEvaluation(
  text: string,
  dialog: string,
  file: string,
  skipped: Record<string, number>,
): EvalTurn[] {
  const turns: EvalTurn[] = [];
  const seen = new Map<string, number>();
  fileLines(text).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '' || ANNOTATION.test(raw)) return;
    if (!raw.startsWith('[')) {
      count(skipped, SKIP.otherLine);
      return;
    }
    const m = SUMMARY.exec(raw);
    if (!m)
      throw new DataError(
        file,
        line,
        `expected a summary line "[START - END]<TAB>TURN_NAME<TAB>EMOTION<TAB>[V, A, D]"; found ${JSON.stringify(raw)}`,
      );
    const id = m[3]!;
    checkTurnId(id, dialog, file, line);
    const earlier = seen.get(id);
    if (earlier !== undefined)
      throw new DataError(file, line, `duplicate evaluation of ${id}; first on line ${earlier}`);
    seen.set(id, line);
    turns.push({
      id,
      start: Number(m[1]),
      end: Number(m[2]),
      label: m[4]!,
      vad: [Number(m[5]), Number(m[6]), Number(m[7])],
      line,
    });
  });
  return turns;
}

interface TranscriptLine {
  text: string;
  line: number;
}

function parseTranscription(
  text: string,
  dialog: string,
  file: string,
  skipped: Record<string, number>,
): Map<string, TranscriptLine> {
  const out = new Map<string, TranscriptLine>();
  fileLines(text).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const m = TRANSCRIPT.exec(raw);
    if (!m) {
      count(skipped, SKIP.noTime);
      return;
    }
    const id = m[1]!;
    if (id.includes('XX')) {
      count(skipped, SKIP.xx);
      return;
    }
    checkTurnId(id, dialog, file, line);
    const earlier = out.get(id);
    if (earlier)
      throw new DataError(file, line, `duplicate transcription of ${id}; first on line ${earlier.line}`);
    const utterance = m[4]!.trim();
    if (utterance === '') throw new DataError(file, line, `utterance ${id} has no text`);
    out.set(id, { text: utterance, line });
  });
  return out;
}

async function listTxt(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && e.name.endsWith('.txt'))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new DataError(dir, undefined, 'folder not found');
    throw err;
  }
}

async function loadSession(dir: string, split: string): Promise<LoadedSplit> {
  const session = IEMOCAP_SESSIONS.indexOf(split as (typeof IEMOCAP_SESSIONS)[number]) + 1;
  if (session === 0)
    throw new DataError(
      dir,
      undefined,
      `IEMOCAP has no split '${split}'; expected one of ${IEMOCAP_SESSIONS.join(', ')}`,
    );
  const eDir = join(dir, evalDir(split));
  const tDir = join(dir, transDir(split));
  const skipped: Record<string, number> = {};
  const names: string[] = [];
  for (const name of await listTxt(eDir)) {
    const m = DIALOGUE_FILE.exec(name);
    if (!m) {
      count(skipped, SKIP.otherFile);
      continue;
    }
    if (Number(m[1]) !== session)
      throw new DataError(
        join(eDir, name),
        undefined,
        `dialogue ${name.slice(0, -4)} is not a ${split} dialogue (expected names starting Ses0${session})`,
      );
    names.push(name);
  }
  // A transcription without its evaluation file would silently lose a whole dialogue.
  const evaluated = new Set(names);
  for (const name of await listTxt(tDir)) {
    if (DIALOGUE_FILE.test(name) && !evaluated.has(name)) {
      throw new DataError(
        join(tDir, name),
        undefined,
        `transcription with no EmoEvaluation file (expected ${join(eDir, name)})`,
      );
    }
  }

  const dialogues: Dialogue[] = [];
  const read: string[] = [];
  for (const name of names) {
    const dialog = name.slice(0, -4);
    const eFile = join(eDir, name);
    const tFile = join(tDir, name);
    const [eText, tText] = await Promise.all([readText(eFile), readText(tFile)]);
    read.push(eFile, tFile);
    const turns = parseEvaluation(eText, dialog, eFile, skipped);
    const transcript = parseTranscription(tText, dialog, tFile, skipped);
    for (const t of turns) {
      if (!transcript.has(t.id))
        throw new DataError(eFile, t.line, `no transcription line for ${t.id} in ${tFile}`);
    }
    const evaluatedIds = new Set(turns.map((t) => t.id));
    for (const [id, t] of transcript) {
      if (!evaluatedIds.has(id))
        throw new DataError(tFile, t.line, `no EmoEvaluation summary line for ${id} in ${eFile}`);
    }
    turns.sort(
      (a, b) => a.start - b.start || a.end - b.end || transcript.get(a.id)!.line - transcript.get(b.id)!.line,
    );
    const utterances: Utterance[] = turns.map((t) => {
      const tr = transcript.get(t.id)!;
      return {
        id: t.id,
        text: tr.text,
        speaker: SPEAKER.exec(t.id)![1]!,
        label: t.label,
        source: { file: eFile, line: t.line },
        meta: {
          session,
          start: t.start,
          end: t.end,
          valence: t.vad[0],
          arousal: t.vad[1],
          dominance: t.vad[2],
          transcriptLine: tr.line,
        },
      };
    });
    dialogues.push({ id: dialog, utterances });
  }
  const result: LoadedSplit = { dialogues, files: await recordFiles(read), variant: 'raw' };
  if (Object.keys(skipped).length > 0) result.skipped = skipped;
  return result;
}

/**
 * The held-out dev dialogues of Sessions 1-4 (no official dev split exists): a dialogue is dev when
 * the first 32 bits of sha256(dialogue id) are divisible by 6, so about 1/6 of them (COSMIC holds out
 * 20 of 120). Fixed, independent of which other dialogues are present, and the same for every
 * protocol and fold.
 */
export function isIemocapDevDialogue(dialogueId: string): boolean {
  return Number.parseInt(sha256(dialogueId).slice(0, 8), 16) % 6 === 0;
}

function selectDialogue(dialogue: Dialogue, split: TaskSplit): boolean {
  if (split === 'test') return true;
  return isIemocapDevDialogue(dialogue.id) === (split === 'dev');
}

const DROP_REASON: Record<string, string> = {
  xxx: 'xxx (no majority label)',
  oth: 'oth (other)',
  sur: 'sur (surprise)',
  fea: 'fea (fear)',
  dis: 'dis (disgust)',
  fru: 'fru (frustration)',
  exc: 'exc (excited)',
};

/** Raw code -> label for the codes a protocol keeps; the other known codes are dropped with a reason. */
function codeMapper(keep: Record<string, string>): (u: Utterance) => LabelMapping {
  return (u) => {
    const code = u.label?.trim().toLowerCase();
    if (code === undefined) return undefined;
    const label = keep[code];
    if (label !== undefined) return { label };
    const reason = DROP_REASON[code];
    return reason === undefined ? undefined : { drop: reason };
  };
}

const trainSessions = (test: string) => IEMOCAP_SESSIONS.filter((s) => s !== test);

const iemocap6: Protocol = {
  id: 'iemocap-6',
  dataset: 'iemocap',
  description:
    'IEMOCAP 6-class ERC (happy, sad, neutral, angry, excited, frustrated); Sessions 1-4 train/dev, Session 5 test',
  labels: ['happy', 'sad', 'neutral', 'angry', 'excited', 'frustrated'],
  synonyms: {
    happy: ['happiness', 'joy', 'hap'],
    sad: ['sadness', 'sad', 'sorrow'],
    neutral: ['neu', 'none', 'calm'],
    angry: ['anger', 'mad', 'ang'],
    excited: ['excitement', 'exc', 'thrilled'],
    frustrated: ['frustration', 'fru', 'annoyed'],
  },
  splits: { train: trainSessions('Session5'), dev: trainSessions('Session5'), test: ['Session5'] },
  mapLabel: codeMapper({
    hap: 'happy',
    sad: 'sad',
    neu: 'neutral',
    ang: 'angry',
    exc: 'excited',
    fru: 'frustrated',
  }),
  selectDialogue,
  headline: 'weighted_f1',
  metrics: ['accuracy', 'weighted_f1'],
  neutral: 'neutral',
  hasContext: true,
  notes: [
    "Dev is a fixed hashed sixth of the Session 1-4 dialogues (isIemocapDevDialogue), not COSMIC's list; train+dev together are the standard 120 dialogues.",
    "Context keeps the dropped (xxx, oth, ...) turns, unlike COSMIC's pickles, which remove them.",
  ],
};

const FOUR = { hap: 'happy', exc: 'happy', ang: 'angry', sad: 'sad', neu: 'neutral' };
const fourLabels = ['happy', 'angry', 'sad', 'neutral'] as const;

function iemocap4(id: string, test: string, description: string): Protocol {
  return {
    id,
    dataset: 'iemocap',
    description,
    labels: fourLabels,
    synonyms: {
      happy: ['happiness', 'joy', 'excited', 'hap'],
      angry: ['anger', 'mad', 'ang'],
      sad: ['sadness', 'sorrow'],
      neutral: ['neu', 'none', 'calm'],
    },
    splits: { train: trainSessions(test), dev: trainSessions(test), test: [test] },
    mapLabel: codeMapper(FOUR),
    selectDialogue,
    headline: 'ua',
    metrics: ['wa', 'ua', 'weighted_f1'],
    neutral: 'neutral',
    hasContext: true,
    notes: [
      'Mainly a speech-emotion convention (WA/UA, leave-one-session-out); happy and excited merged, frustration dropped.',
    ],
  };
}

const folds = IEMOCAP_SESSIONS.map((s, i) =>
  iemocap4(
    `iemocap-4-fold${i + 1}`,
    s,
    `IEMOCAP 4-class, leave-one-session-out fold ${i + 1}: ${s} test, the other sessions train/dev`,
  ),
);

export const iemocapLoader: DatasetLoader = {
  id: 'iemocap',
  title: 'IEMOCAP: Interactive Emotional Dyadic Motion Capture database (transcripts)',
  citation:
    'Busso, Bulut, Lee, Kazemzadeh, Mower, Kim, Chang, Lee, Narayanan. IEMOCAP: Interactive emotional dyadic motion capture database. Language Resources and Evaluation 42(4), 2008.',
  licence: 'USC SAIL release agreement (not redistributable)',
  homepage: 'https://sail.usc.edu/iemocap/',
  splits: IEMOCAP_SESSIONS,
  expectedFiles,
  detect: (dir) => detectVariants(dir, expectedFiles),
  load: loadSession,
  protocols: [
    iemocap6,
    iemocap4('iemocap-4', 'Session5', 'IEMOCAP 4-class (happy+excited, angry, sad, neutral); Session 5 test'),
    ...folds,
  ],
  sampleDir: sampleDirOf('iemocap'),
};
