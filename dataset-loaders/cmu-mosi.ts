/**
 * CMU-MOSI (Zadeh et al. 2016) through MMSA's `label.csv`: one row per opinion segment with the
 * transcript and the mean annotator sentiment in [-3, 3]; `mode` gives the standard video-level split
 * (1,284 / 229 / 686 segments). Used text-only, as Peng et al. 2023 did. Ids are MMSA's
 * `<video_id>$_$<clip_id>`.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, unknownName } from '../harness/errors.ts';
import type { DatasetLoader, LabelMapping, Protocol, Utterance } from '../harness/types.ts';
import { detectVariants } from './detect.ts';
import { loadMmsaSplit, MMSA_MODES, type MmsaMode, mmsaScore } from './mmsa-label-csv.ts';

export const MOSI_EXPECTED_FILES = {
  'mmsa-label-csv': { train: ['label.csv'], valid: ['label.csv'], test: ['label.csv'] },
} as const;

/** Round half to even (numpy's np.round, which MMSA's Acc-7 uses), so 2.5 -> 2 and -0.5 -> 0. */
export function roundHalfEven(x: number): number {
  const r = Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
  return r === 0 ? 0 : r; // no -0
}

/** Builds a mapLabel from a function of the numeric label (undefined for a non-numeric raw label). */
function byScore(f: (score: number) => LabelMapping): (u: Utterance) => LabelMapping {
  return (u) => {
    const score = mmsaScore(u.label);
    return score === undefined ? undefined : f(score);
  };
}

export const mapMosi2 = byScore((s) =>
  s < 0 ? { label: 'negative' } : s > 0 ? { label: 'positive' } : { drop: 'zero' },
);
export const mapMosi2Has0 = byScore((s) => ({ label: s < 0 ? 'negative' : 'non-negative' }));
export const mapMosi3 = byScore((s) => ({ label: s < 0 ? 'negative' : s > 0 ? 'positive' : 'neutral' }));
export const mapMosi7 = byScore((s) => ({ label: String(Math.min(3, Math.max(-3, roundHalfEven(s)))) }));

const SPLIT_MAP = { train: ['train'], dev: ['valid'], test: ['test'] } as const;
const METRICS = ['accuracy', 'weighted_f1', 'macro_f1'] as const;
const MULTIMODAL_NOTE =
  "Peng's MOSI baselines (TFR-Net, CHFN, Seq2Seq2Sent, CTFN) are multimodal (audio, video, text); Peng and this harness use the transcript only.";
const ACC2_NOTE =
  'Acc-2 has two conventions: mosi-2 excludes label 0 (negative vs positive, "Non0"); mosi-2-has0 is negative vs non-negative ("Has0"). Peng does not say which one it used; Non0 usually scores 2-3 points higher.';
const F1_NOTE =
  'The multimodal literature usually reports weighted F1; Peng reports macro-F1. Both are listed.';

const base = {
  dataset: 'cmu-mosi',
  splits: SPLIT_MAP,
  headline: 'accuracy',
  metrics: METRICS,
  hasContext: false,
} as const;

const PROTOCOLS: Protocol[] = [
  {
    ...base,
    id: 'mosi-2',
    description:
      'CMU-MOSI binary sentiment: label < 0 negative, > 0 positive, label 0 dropped (Acc-2 "Non0").',
    labels: ['negative', 'positive'],
    mapLabel: mapMosi2,
    positive: 'positive',
    negative: 'negative',
    notes: [ACC2_NOTE, F1_NOTE, MULTIMODAL_NOTE],
  },
  {
    ...base,
    id: 'mosi-2-has0',
    description: 'CMU-MOSI binary sentiment: label < 0 negative, >= 0 non-negative (Acc-2 "Has0").',
    labels: ['negative', 'non-negative'],
    synonyms: { 'non-negative': ['nonnegative', 'not negative', 'positive', 'neutral'] },
    mapLabel: mapMosi2Has0,
    notes: [ACC2_NOTE, F1_NOTE, MULTIMODAL_NOTE],
  },
  {
    ...base,
    id: 'mosi-3',
    description:
      'CMU-MOSI three-way sentiment by sign: < 0 negative, = 0 neutral, > 0 positive (Peng et al. 2023).',
    labels: ['negative', 'neutral', 'positive'],
    mapLabel: mapMosi3,
    neutral: 'neutral',
    positive: 'positive',
    negative: 'negative',
    notes: [
      'Peng does not define MOSI-3; the sign of the label (MMSA\'s "annotation" column) is used, so only exact zeros are neutral.',
      F1_NOTE,
      MULTIMODAL_NOTE,
    ],
  },
  {
    ...base,
    id: 'mosi-7',
    description:
      'CMU-MOSI seven-way sentiment (Acc-7): the label rounded half-to-even and clipped to [-3, 3].',
    labels: ['-3', '-2', '-1', '0', '1', '2', '3'],
    labelNames: {
      '-3': 'strongly negative',
      '-2': 'negative',
      '-1': 'weakly negative',
      '0': 'neutral',
      '1': 'weakly positive',
      '2': 'positive',
      '3': 'strongly positive',
    },
    mapLabel: mapMosi7,
    neutral: '0',
    notes: [
      "Not one of Peng's tasks; the standard Acc-7 of the MOSI literature (np.round, i.e. half to even).",
      MULTIMODAL_NOTE,
    ],
  },
];

export const cmuMosiLoader: DatasetLoader = {
  id: 'cmu-mosi',
  title: 'CMU-MOSI (transcripts)',
  citation:
    'Zadeh, A., Zellers, R., Pincus, E., Morency, L.-P. (2016). MOSI: Multimodal Corpus of Sentiment Intensity and Subjectivity Analysis in Online Opinion Videos. IEEE Intelligent Systems 31(6).',
  licence: 'No data licence found (CMU-MultimodalSDK code is MIT); obtain label.csv via MMSA; research use.',
  homepage: 'https://github.com/thuiar/MMSA',
  splits: MMSA_MODES,
  expectedFiles: MOSI_EXPECTED_FILES,
  detect: (dir) => detectVariants(dir, MOSI_EXPECTED_FILES),
  load(dir, split) {
    if (!(MMSA_MODES as readonly string[]).includes(split)) {
      return Promise.reject(new InputError(unknownName('CMU-MOSI split', split, MMSA_MODES)));
    }
    return loadMmsaSplit(join(dir, 'label.csv'), split as MmsaMode, { range: [-3, 3] });
  },
  protocols: PROTOCOLS,
  sampleDir: fileURLToPath(new URL('./samples/cmu-mosi', import.meta.url)),
};
