/**
 * CH-SIMS (Yu et al., ACL 2020) through MMSA's `label.csv`: Chinese clips with the mean of five
 * annotators' {-1, 0, 1} in steps of 0.2 (`label`, plus unimodal label_T/A/V kept in meta); `mode`
 * gives the 1,368 / 456 / 457 split. Used text-only, as Peng et al. 2023 did. Ids are MMSA's
 * `<video_id>$_$<clip_id>` with the zero-padded clip id kept as written.
 *
 * Class boundaries follow MMSA's `__eval_sims_regression`: 2-class [-1, 0] / (0, 1]; 3-class
 * [-1, -0.1] / (-0.1, 0.1] / (0.1, 1]; 5-class cut at -0.7, -0.1, 0.1, 0.7 (right-closed).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, unknownName } from '../harness/errors.ts';
import type { DatasetLoader, LabelMapping, Protocol, Utterance } from '../harness/types.ts';
import { detectVariants } from './detect.ts';
import { loadMmsaSplit, MMSA_MODES, type MmsaMode, mmsaScore } from './mmsa-label-csv.ts';

export const SIMS_EXPECTED_FILES = {
  'mmsa-label-csv': { train: ['label.csv'], valid: ['label.csv'], test: ['label.csv'] },
} as const;

function byScore(f: (score: number) => LabelMapping): (u: Utterance) => LabelMapping {
  return (u) => {
    const score = mmsaScore(u.label);
    return score === undefined ? undefined : f(score);
  };
}

/** Bucket by right-closed upper bounds: the first bound >= score picks the label. */
function bucket(score: number, bounds: readonly number[], labels: readonly string[]): LabelMapping {
  const i = bounds.findIndex((b) => score <= b);
  return { label: labels[i === -1 ? labels.length - 1 : i]! };
}

const SIMS3 = ['negative', 'neutral', 'positive'] as const;
const SIMS5 = ['negative', 'weakly negative', 'neutral', 'weakly positive', 'positive'] as const;

export const mapSims2 = byScore((s) => ({ label: s <= 0 ? 'negative' : 'positive' }));
export const mapSims2Non0 = byScore((s) =>
  s === 0 ? { drop: 'zero' } : { label: s < 0 ? 'negative' : 'positive' },
);
export const mapSims3 = byScore((s) => bucket(s, [-0.1, 0.1], SIMS3));
export const mapSims5 = byScore((s) => bucket(s, [-0.7, -0.1, 0.1, 0.7], SIMS5));

const SPLIT_MAP = { train: ['train'], dev: ['valid'], test: ['test'] } as const;
const MULTIMODAL_NOTE =
  "Peng's CH-SIMS baseline (MLF-DNN, 80.26) is multimodal (audio, video, text) and scored with MMSA; Peng and this harness use the text only.";
const F1_NOTE = 'MMSA reports weighted F1; Peng reports macro-F1. Both are listed.';

const base = {
  dataset: 'ch-sims',
  splits: SPLIT_MAP,
  headline: 'accuracy',
  metrics: ['accuracy', 'macro_f1', 'weighted_f1'],
  hasContext: false,
} as const;

const PROTOCOLS: Protocol[] = [
  {
    ...base,
    id: 'chsims-2',
    description:
      'CH-SIMS binary sentiment as MMSA scores it: label <= 0 negative (zero included), > 0 positive.',
    labels: ['negative', 'positive'],
    synonyms: { negative: ['消极', '负面'], positive: ['积极', '正面'] },
    mapLabel: mapSims2,
    positive: 'positive',
    negative: 'negative',
    notes: [
      'Peng does not say where neutral (0.0) clips went; chsims-2 follows MMSA (zero counts as negative), chsims-2-non0 drops them.',
      F1_NOTE,
      MULTIMODAL_NOTE,
    ],
  },
  {
    ...base,
    id: 'chsims-2-non0',
    description: 'CH-SIMS binary sentiment with label 0 dropped: < 0 negative, > 0 positive.',
    labels: ['negative', 'positive'],
    synonyms: { negative: ['消极', '负面'], positive: ['积极', '正面'] },
    mapLabel: mapSims2Non0,
    positive: 'positive',
    negative: 'negative',
    notes: [
      'Variant of chsims-2 that removes the neutral (0.0) clips instead of counting them as negative.',
      F1_NOTE,
    ],
  },
  {
    ...base,
    id: 'chsims-3',
    description:
      'CH-SIMS three-way sentiment (MMSA): [-1, -0.1] negative, (-0.1, 0.1] neutral, (0.1, 1] positive.',
    labels: SIMS3,
    mapLabel: mapSims3,
    neutral: 'neutral',
    positive: 'positive',
    negative: 'negative',
    notes: ["Not one of Peng's tasks; MMSA's Acc-3.", F1_NOTE],
  },
  {
    ...base,
    id: 'chsims-5',
    description:
      "CH-SIMS five-way sentiment (MMSA; Peng's buckets {-1.0,-0.8} {-0.6,-0.4,-0.2} {0.0} {0.2,0.4,0.6} {0.8,1.0}).",
    labels: SIMS5,
    mapLabel: mapSims5,
    neutral: 'neutral',
    notes: ["Not one of Peng's tasks (Peng lists the five buckets as the label set); MMSA's Acc-5.", F1_NOTE],
  },
];

export const chSimsLoader: DatasetLoader = {
  id: 'ch-sims',
  title: 'CH-SIMS (Chinese multimodal sentiment, text only)',
  citation:
    'Yu, W., Xu, H., Meng, F., Zhu, Y., Ma, Y., Wu, J., Zou, J., Yang, K. (2020). CH-SIMS: A Chinese Multimodal Sentiment Analysis Dataset with Fine-grained Annotation of Modality. ACL 2020.',
  licence: 'No data licence found (MMSA code is MIT); obtain label.csv via MMSA; research use.',
  homepage: 'https://github.com/thuiar/MMSA',
  splits: MMSA_MODES,
  expectedFiles: SIMS_EXPECTED_FILES,
  detect: (dir) => detectVariants(dir, SIMS_EXPECTED_FILES),
  load(dir, split) {
    if (!(MMSA_MODES as readonly string[]).includes(split)) {
      return Promise.reject(new InputError(unknownName('CH-SIMS split', split, MMSA_MODES)));
    }
    return loadMmsaSplit(join(dir, 'label.csv'), split as MmsaMode, { range: [-1, 1] });
  },
  protocols: PROTOCOLS,
  sampleDir: fileURLToPath(new URL('./samples/ch-sims', import.meta.url)),
};
