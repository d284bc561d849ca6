/**
 * Published figures of the papers the harness replicates, as data, each with its source tag
 * (/work/shared/docs/paper-facts.md, section 0). Values are percentages exactly as printed;
 * null = the paper prints "–" (not reported).
 *
 * [P] Peng et al., "Customising General Large Language Models for Specialised Emotion Recognition
 *     Tasks", arXiv 2310.14225v1 (ICASSP 2024), Tables 2-5.
 * [D] Zhang et al., "DialogueLLM", arXiv 2310.11374v4, Table 3.
 */

export type SourceTag = '[P]' | '[D]';

export interface PublishedRow {
  system: string;
  source: SourceTag;
  /** Where in the paper: "Table 2". */
  table: string;
  /** Parameter count as printed (DialogueLLM's #Param column). */
  params?: string;
  /** Keys are `<protocol>:<metric>` (e.g. `mosi-2:accuracy`), values in percent as printed. */
  values: Readonly<Record<string, number | null>>;
  /** Footnote ids (see PUBLISHED_NOTES) that qualify the whole row. */
  notes?: readonly string[];
}

export const SOURCES: Readonly<Record<SourceTag, string>> = {
  '[P]': 'Peng et al. 2023, arXiv 2310.14225v1 (ICASSP 2024)',
  '[D]': 'Zhang et al., DialogueLLM, arXiv 2310.11374v4',
};

/** Comparability notes from paper-facts.md, shown as table footnotes where they apply. */
export const PUBLISHED_NOTES: Readonly<Record<string, string>> = {
  multimodal:
    'TFR-Net, CHFN, CTFN and MLF-DNN are multimodal (audio+video+text); Peng is text-only, and in this literature "F1" is usually weighted F1 and Acc-2 has two variants (Peng does not say which).',
  precode4:
    'PRE-CODE follows the EmotionLines/EmotionX practice of evaluating 4 classes (neutral, joy, sadness, anger): 81.30/65.90 is not a 7-class figure. Which class set SRL-GNN used is uncertain.',
  darer:
    'DARER 59.59 is the Cerisara/Co-GAT sentiment F1: mean of F1(positive) and F1(negative), neutral ignored, not 3-class macro-F1.',
  m3edBaselines:
    'DialogueGCN, DialogueRNN and MDI figures come from the M3ED paper and are very likely multimodal and context-aware; ChatGLM2 was run text-only without context.',
  chatgptTypo:
    'Peng prints the two adapted ChatGLM2 rows of Table 5 as "ChatGPT (P-Tuning)" and "ChatGPT (LoRA)", a typo.',
  sst2Test:
    'Peng gives 2,210 SST test sentences (the SST-5 size); the standard binary SST-2 test set has 1,821. Peng states neither splits nor seeds.',
  videoDescriptions:
    'DialogueLLM prompts carry ERNIE-Bot descriptions of the video clip (not for IEMOCAP): its MELD and EmoryNLP figures are not text-only.',
  dialoguellmSetting:
    'DialogueLLM averages 5 seeds; its headline figures equal its 1-shot row (Table 5). It prints IEMOCAP as 8 classes (the standard setting is 6). Baselines are mostly copied from the literature.',
  llamaRows:
    'LLaMA-7B, Alpaca and LLaMA 2-7B rows are "fine-tuned without the proposed emotional knowledge"; the exact protocol is unclear.',
};

const D = '[D]' as const;

type RowSpec = Omit<PublishedRow, 'source' | 'table'>;

function peng(table: string, rows: RowSpec[]): PublishedRow[] {
  return rows.map((r) => ({ ...r, source: '[P]', table }));
}

/** Peng Table 2, MOSI (Acc / macro-F1). */
const pengTable2: PublishedRow[] = peng('Table 2', [
  { system: 'TFR-Net (2021)', values: { 'mosi-2:accuracy': 83.49 }, notes: ['multimodal'] },
  { system: 'CHFN (2022)', values: { 'mosi-2:accuracy': 85.2 }, notes: ['multimodal'] },
  { system: 'Seq2Seq2Sent (2018)', values: { 'mosi-3:accuracy': 77.0 }, notes: ['multimodal'] },
  { system: 'CTFN (2021)', values: { 'mosi-3:accuracy': 80.79 }, notes: ['multimodal'] },
  {
    system: 'ChatGLM2 (zero-shot)',
    values: {
      'mosi-2:accuracy': 84.12,
      'mosi-2:macro_f1': 84.12,
      'mosi-3:accuracy': 77.26,
      'mosi-3:macro_f1': 58.19,
    },
  },
  {
    system: 'ChatGLM2 + P-Tuning v2',
    values: {
      'mosi-2:accuracy': 84.6,
      'mosi-2:macro_f1': 84.04,
      'mosi-3:accuracy': 81.78,
      'mosi-3:macro_f1': 61.03,
    },
  },
  {
    system: 'ChatGLM2 + LoRA',
    values: {
      'mosi-2:accuracy': 87.02,
      'mosi-2:macro_f1': 86.56,
      'mosi-3:accuracy': 83.82,
      'mosi-3:macro_f1': 57.04,
    },
  },
]);

/** Peng Table 3, SST (Acc / macro-F1). */
const pengTable3: PublishedRow[] = peng('Table 3', [
  { system: 'BT-TAPT (2021)', values: { 'sst-2:accuracy': 92.4 } },
  { system: 'SEMGraph-P (2022)', values: { 'sst-2:accuracy': 94.23 } },
  { system: 'SentiLARE (2020)', values: { 'sst-5:accuracy': 58.59 } },
  { system: 'SentiWSP (2022)', values: { 'sst-5:accuracy': 59.32 } },
  {
    system: 'ChatGLM2 (zero-shot)',
    values: {
      'sst-2:accuracy': 82.33,
      'sst-2:macro_f1': 82.33,
      'sst-5:accuracy': 30.09,
      'sst-5:macro_f1': 25.82,
    },
  },
  {
    system: 'ChatGLM2 + P-Tuning v2',
    values: {
      'sst-2:accuracy': 95.2,
      'sst-2:macro_f1': 95.2,
      'sst-5:accuracy': 57.59,
      'sst-5:macro_f1': 56.45,
    },
  },
  {
    system: 'ChatGLM2 + LoRA',
    values: {
      'sst-2:accuracy': 95.69,
      'sst-2:macro_f1': 95.69,
      'sst-5:accuracy': 54.45,
      'sst-5:macro_f1': 52.51,
    },
  },
]);

/** Peng Table 4, CH-SIMS and Mastodon (Acc / macro-F1). */
const pengTable4: PublishedRow[] = peng('Table 4', [
  { system: 'MLF-DNN (2020)', values: { 'chsims-2:accuracy': 80.26 }, notes: ['multimodal'] },
  { system: 'DARER (2022)', values: { 'mastodon-3:macro_f1': 59.59 }, notes: ['darer'] },
  {
    system: 'ChatGLM2 (zero-shot)',
    values: {
      'chsims-2:accuracy': 77.58,
      'chsims-2:macro_f1': 75.95,
      'mastodon-3:accuracy': 55.43,
      'mastodon-3:macro_f1': 55.45,
    },
  },
  {
    system: 'ChatGLM2 + P-Tuning v2',
    values: {
      'chsims-2:accuracy': 82.47,
      'chsims-2:macro_f1': 81.12,
      'mastodon-3:accuracy': 67.25,
      'mastodon-3:macro_f1': 67.23,
    },
  },
  {
    system: 'ChatGLM2 + LoRA',
    values: {
      'chsims-2:accuracy': 82.73,
      'chsims-2:macro_f1': 81.25,
      'mastodon-3:accuracy': 67.08,
      'mastodon-3:macro_f1': 66.81,
    },
  },
]);

/** Peng Table 5, Friends (Acc / macro-F1 / UA) and M3ED (Acc / weighted-F1 / UA). */
const pengTable5: PublishedRow[] = peng('Table 5', [
  {
    system: 'BERT+SRL-GNN-8 (2020)',
    values: { 'friends-7:accuracy': 72.1, 'friends-7:ua': 53.71 },
    notes: ['precode4'],
  },
  {
    system: 'XLNet+SRL-GNN-8 (2020)',
    values: { 'friends-7:accuracy': 72.82, 'friends-7:ua': 53.41 },
    notes: ['precode4'],
  },
  {
    system: 'PRE-CODE (2020)',
    values: { 'friends-7:accuracy': 81.3, 'friends-7:macro_f1': 65.9 },
    notes: ['precode4'],
  },
  { system: 'DialogueGCN (2019)', values: { 'm3ed-7:weighted_f1': 46.09 }, notes: ['m3edBaselines'] },
  { system: 'DialogueRNN (2019)', values: { 'm3ed-7:weighted_f1': 48.8 }, notes: ['m3edBaselines'] },
  { system: 'MDI (2022)', values: { 'm3ed-7:weighted_f1': 49.42 }, notes: ['m3edBaselines'] },
  {
    system: 'ChatGLM2 (zero-shot)',
    values: {
      'friends-7:accuracy': 63.79,
      'friends-7:macro_f1': 29.48,
      'friends-7:ua': 26.03,
      'm3ed-7:accuracy': 45.68,
      'm3ed-7:weighted_f1': 30.52,
      'm3ed-7:ua': 16.82,
    },
  },
  {
    system: 'ChatGLM2 + P-Tuning v2',
    values: {
      'friends-7:accuracy': 54.92,
      'friends-7:macro_f1': 51.92,
      'friends-7:ua': 55.06,
      'm3ed-7:accuracy': 45.75,
      'm3ed-7:weighted_f1': 37.31,
      'm3ed-7:ua': 28.64,
    },
    notes: ['chatgptTypo'],
  },
  {
    system: 'ChatGLM2 + LoRA',
    values: {
      'friends-7:accuracy': 72.83,
      'friends-7:macro_f1': 52.97,
      'friends-7:ua': 51.93,
      'm3ed-7:accuracy': 42.54,
      'm3ed-7:weighted_f1': 33.31,
      'm3ed-7:ua': 23.59,
    },
    notes: ['chatgptTypo'],
  },
]);

function dllm(
  system: string,
  params: string,
  v: readonly (number | null)[],
  notes?: readonly string[],
): PublishedRow {
  const keys = [
    'meld-7:accuracy',
    'meld-7:weighted_f1',
    'iemocap-6:accuracy',
    'iemocap-6:weighted_f1',
    'emorynlp-7:accuracy',
    'emorynlp-7:weighted_f1',
    'average:accuracy',
    'average:weighted_f1',
  ];
  const row: PublishedRow = {
    system,
    params,
    source: D,
    table: 'Table 3',
    values: Object.fromEntries(keys.map((k, i) => [k, v[i] ?? null])),
  };
  if (notes) row.notes = notes;
  return row;
}

const _ = null;

/** DialogueLLM Table 3 (Acc / weighted-F1 on MELD, IEMOCAP, EmoryNLP and their average). */
const dialogueLlmTable3: PublishedRow[] = [
  dllm('bc-LSTM', '1.2M', [65.87, 64.87, 63.08, 62.84, 40.85, 36.84, 56.6, 54.85]),
  dllm('ICON', '0.5M', [_, _, 64.0, 63.5, _, _, _, _]),
  dllm('MTL', '1.2M', [62.45, 61.9, _, _, 36.36, 35.92, 49.4, 48.91]),
  dllm('DialogXL', '510M', [_, 62.41, _, 65.94, _, 34.73, _, 54.36]),
  dllm('TODKAT', '330M', [67.24, 65.47, 61.11, 61.33, 42.38, 38.69, 56.91, 55.16]),
  dllm('CoG-BART', '415.1M', [64.95, 63.82, 65.02, 64.87, 40.94, 37.33, 56.97, 55.34]),
  dllm('DialogueRNN', '9.9M', [65.96, 65.3, 64.85, 64.65, 43.66, 37.54, 58.16, 55.83]),
  dllm('DialogueGCN', '2.1M', [63.62, 62.68, 62.49, 62.11, 36.87, 36.43, 54.33, 53.14]),
  dllm('DialogueCRN', '3.3M', [66.93, 65.77, 67.39, 67.53, 41.04, 38.79, 58.45, 57.36]),
  dllm('RGAT', '13M', [_, 60.91, _, 65.22, _, 34.42, _, 53.52]),
  dllm('DAG-ERC', '9.5M', [63.75, 63.36, 66.54, 66.53, 39.64, 38.29, 56.64, 56.06]),
  dllm('CauAIN', '6.1M', [65.85, 64.89, 65.08, 65.01, 43.13, 37.87, 58.02, 55.92]),
  dllm('COIN', '0.6M', [_, _, 66.05, 65.37, _, _, _, _]),
  dllm('GraphCFC', '0.6M', [_, 58.86, _, 68.91, _, _, _, _]),
  dllm('SACL-LSTM', '2.6M', [67.51, 66.45, 69.08, 69.22, 42.21, 39.65, 59.6, 58.44]),
  dllm('LLaMA-7B', '2.1M', [15.09, 16.02, 19.32, 18.24, 17.78, 17.4, 17.4, 17.22], ['llamaRows']),
  dllm('Alpaca', '2.1M', [19.22, 18.37, 20.35, 19.16, 17.95, 17.33, 19.17, 18.29], ['llamaRows']),
  dllm('LLaMA 2-7B', '4.2M', [23.71, 24.12, 26.73, 24.35, 25.5, 17.27, 25.31, 21.91], ['llamaRows']),
  dllm(
    'DialogueLLM',
    '4.2M',
    [71.96, 71.9, 70.62, 69.93, 41.88, 40.05, 61.49, 60.52],
    ['videoDescriptions', 'dialoguellmSetting'],
  ),
];

export const PUBLISHED = {
  peng2023: { table2: pengTable2, table3: pengTable3, table4: pengTable4, table5: pengTable5 },
  dialoguellm: { table3: dialogueLlmTable3 },
} as const;
