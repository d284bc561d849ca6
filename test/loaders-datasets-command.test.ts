/**
 * `emotion-eval datasets` (the real bin): the files it names for absent and empty dataset folders,
 * and the loader's skipped counts (IEMOCAP's XX and untimed transcription lines, stray files).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP } from '../dataset-loaders/iemocap.ts';
import { cli } from './support/cli.ts';
import { repoRoot } from './support/paths.ts';

interface Report {
  id: string;
  dir: string;
  folder: boolean;
  found: boolean;
  present: string[];
  missing: string[];
  alternatives?: Record<string, string[]>;
  protocols: Record<string, { splits: Record<string, { n: number; dropped: Record<string, number> }> }>;
  skipped: Record<string, Record<string, number>>;
}

function datasets(args: readonly string[]): { json: Report[]; text: string } {
  const json = cli(['datasets', ...args, '--json']);
  const text = cli(['datasets', ...args]);
  for (const r of [json, text]) {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }
  return { json: JSON.parse(json.stdout) as Report[], text: text.stdout };
}

/** The `<split> skipped` line of a text block, as reason -> count (the loader's reading order varies). */
function skippedLine(lines: readonly string[], split: string): Record<string, number> | undefined {
  const head = `  ${split} skipped, not data by the release's rules: `;
  const line = lines.find((l) => l.startsWith(head));
  if (line === undefined) return undefined;
  return Object.fromEntries(
    line
      .slice(head.length)
      .split(', ')
      .map((part) => {
        const m = /^(.*) (\d+)$/.exec(part)!;
        return [m[1]!, Number(m[2])];
      }),
  );
}

/** The text block of one dataset: its heading line and the indented lines under it. */
function block(text: string, id: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${id} — `));
  expect(start).toBeGreaterThanOrEqual(0);
  const out = [lines[start]!];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('  ')) break;
    out.push(l);
  }
  return out;
}

describe('datasets on the bundled samples: what the IEMOCAP loader skipped', () => {
  // Written by scripts/make-iemocap-sample.py, which counts the lines it plants on its own.
  const golden = JSON.parse(
    readFileSync(resolve(repoRoot, 'test/fixtures/iemocap/sample-golden.json'), 'utf8'),
  ) as { sessions: Record<string, { skipped: { xx?: number; noTime?: number } }> };
  const expected: Record<string, Record<string, number>> = {};
  for (const [session, g] of Object.entries(golden.sessions)) {
    const counts: Record<string, number> = {};
    if (g.skipped.xx) counts[SKIP.xx] = g.skipped.xx;
    if (g.skipped.noTime) counts[SKIP.noTime] = g.skipped.noTime;
    expected[session] = counts;
  }
  let out: { json: Report[]; text: string };
  beforeAll(() => {
    out = datasets([]);
  });

  it('--json gives the counts per session beside the protocols, and none for datasets without skips', () => {
    // The premise: the sample plants such lines in all five sessions.
    expect(Object.keys(expected)).toEqual(['Session1', 'Session2', 'Session3', 'Session4', 'Session5']);
    const iemocap = out.json.find((d) => d.id === 'iemocap')!;
    expect(iemocap.skipped).toEqual(expected);
    // Protocol drops stay where they were, separate from the loader's skips.
    expect(iemocap.protocols['iemocap-6']!.splits.test!.dropped).not.toEqual({});
    expect(out.json.find((d) => d.id === 'meld')!.skipped).toEqual({});
  });

  it('the text output prints one line per session with each reason and count', () => {
    const lines = block(out.text, 'iemocap');
    for (const session of Object.keys(expected))
      expect(skippedLine(lines, session)).toEqual(expected[session]);
    expect(block(out.text, 'meld').some((l) => l.includes('skipped'))).toBe(false);
  });
});

describe('datasets on a data folder with absent, empty and partial dataset folders', () => {
  const data = mkdtempSync(join(tmpdir(), 'ee-datasets-'));
  let out: { json: Report[]; text: string };
  beforeAll(() => {
    // iemocap: only Session1, with one XX line, one untimed line and a README in EmoEvaluation.
    cpSync(resolve(repoRoot, 'test/fixtures/iemocap/rules'), join(data, 'iemocap'), { recursive: true });
    mkdirSync(join(data, 'emorynlp'));
    out = datasets(['--data-dir', data]);
  });
  afterAll(() => rmSync(data, { recursive: true, force: true }));
  const report = (id: string) => out.json.find((d) => d.id === id)!;

  it('an absent folder names the release files, not "(folder)"', () => {
    expect(report('meld')).toMatchObject({
      dir: join(data, 'meld'),
      folder: false,
      found: false,
      present: [],
      missing: ['train_sent_emo.csv', 'dev_sent_emo.csv', 'test_sent_emo.csv'],
    });
    // MELD's two byte forms share their file names: nothing else to offer.
    expect(report('meld').alternatives).toBeUndefined();
    expect(report('dailydialog').missing).toEqual([
      'train/dialogues_train.txt',
      'train/dialogues_emotion_train.txt',
      'validation/dialogues_validation.txt',
      'validation/dialogues_emotion_validation.txt',
      'test/dialogues_test.txt',
      'test/dialogues_emotion_test.txt',
    ]);
    expect(report('sst')).toMatchObject({
      missing: ['trees/train.txt', 'trees/dev.txt', 'trees/test.txt'],
      alternatives: { 'glue-sst2': ['SST-2/train.tsv', 'SST-2/dev.tsv', 'trees/test.txt'] },
    });
    expect(JSON.stringify(out.json)).not.toContain('(folder)');
  });

  it('an empty folder names the preferred form and the other one', () => {
    expect(report('emorynlp')).toMatchObject({
      folder: true,
      found: false,
      present: [],
      missing: ['emorynlp_train_final.csv', 'emorynlp_dev_final.csv', 'emorynlp_test_final.csv'],
      alternatives: {
        json: ['emotion-detection-trn.json', 'emotion-detection-dev.json', 'emotion-detection-tst.json'],
      },
    });
  });

  it('the text output has a missing: line for absent and empty folders too', () => {
    expect(block(out.text, 'meld')).toEqual([
      `meld — MELD: Multimodal EmotionLines Dataset (text annotations): not found [data-dir: ${join(data, 'meld')}]`,
      '  missing: train_sent_emo.csv, dev_sent_emo.csv, test_sent_emo.csv (no such folder)',
    ]);
    expect(block(out.text, 'emorynlp').slice(1)).toEqual([
      '  missing: emorynlp_train_final.csv, emorynlp_dev_final.csv, emorynlp_test_final.csv',
      '  or, as the json form: emotion-detection-trn.json, emotion-detection-dev.json, emotion-detection-tst.json',
      '  emorynlp-7: train, dev, test unavailable (files missing)',
    ]);
    expect(block(out.text, 'sst')).toContain(
      '  or, as the glue-sst2 form: SST-2/train.tsv, SST-2/dev.tsv, trees/test.txt',
    );
  });

  it('a partial IEMOCAP release reports its missing sessions and what Session1 skipped', () => {
    const iemocap = report('iemocap');
    expect(iemocap).toMatchObject({ folder: true, found: false });
    expect(iemocap.missing).toContain('IEMOCAP_full_release/Session5/dialog/transcriptions');
    // Session1 is read for the fold-1 test split; the fixture's one XX line, one untimed line and
    // its README (a file in EmoEvaluation that is not a dialogue).
    expect(iemocap.protocols['iemocap-4-fold1']!.splits.test!.n).toBeGreaterThan(0);
    expect(iemocap.skipped).toEqual({ Session1: { [SKIP.xx]: 1, [SKIP.noTime]: 1, [SKIP.otherFile]: 1 } });
    expect(skippedLine(block(out.text, 'iemocap'), 'Session1')).toEqual({
      [SKIP.xx]: 1,
      [SKIP.noTime]: 1,
      [SKIP.otherFile]: 1,
    });
  });
});
