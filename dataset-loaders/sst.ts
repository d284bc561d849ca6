/**
 * Stanford Sentiment Treebank (Socher et al. 2013) as Peng et al. 2023 used it: SST-5 and SST-2 on
 * whole sentences (the root of each PTB tree). GLUE's SST-2 TSVs are an alternative SST-2 train/dev
 * (67k phrases, lower-cased); GLUE hides its test labels, so SST-2 test always comes from the trees.
 *
 * Ids: the release has none, so an utterance is `<split>/<line>` (1-based line of its tree in
 * trees/<split>.txt; GLUE rows: `glue-<split>/<line>`, header = line 1). Lines never shift in a
 * fixed release, and duplicate sentences (10 in train) keep distinct ids.
 *
 * Text: the leaves joined by single spaces. By default only the bracket escapes -LRB- -RRB- (and
 * -LSB- -RSB- -LCB- -RCB-) become ( ) [ ] { }, so prompts do not show "-LRB-" while the tokenisation
 * stays the treebank's; `ptbUnescape: 'full'` also turns \/ \* `` '' into / * " ", 'none' keeps
 * the raw tokens.
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
import { readTextFile, splitLines } from './text-file.ts';

export type PtbUnescape = 'none' | 'brackets' | 'full';

export interface SstLoaderOptions {
  /** How PTB escapes in the leaves are rendered (default 'brackets'). */
  ptbUnescape?: PtbUnescape;
}

const TREE_SPLITS = ['train', 'dev', 'test'] as const;
const SST_SPLITS = [...TREE_SPLITS, 'glue-train', 'glue-dev'] as const;
const GLUE_SPLITS = { 'glue-train': 'SST-2/train.tsv', 'glue-dev': 'SST-2/dev.tsv' } as const;

export const SST_EXPECTED_FILES = {
  'ptb-trees': { train: ['trees/train.txt'], dev: ['trees/dev.txt'], test: ['trees/test.txt'] },
  'glue-sst2': {
    'glue-train': ['SST-2/train.tsv'],
    'glue-dev': ['SST-2/dev.tsv'],
    test: ['trees/test.txt'],
  },
} as const;

const BRACKETS: Record<string, string> = {
  '-LRB-': '(',
  '-RRB-': ')',
  '-LSB-': '[',
  '-RSB-': ']',
  '-LCB-': '{',
  '-RCB-': '}',
};

/** Renders one PTB leaf token according to `mode`. */
export function unescapePtbToken(token: string, mode: PtbUnescape): string {
  if (mode === 'none') return token;
  const bracket = BRACKETS[token];
  if (bracket !== undefined) return bracket;
  if (mode === 'brackets') return token;
  if (token === '``' || token === "''") return '"';
  return token.replace(/\\([/*])/g, '$1');
}

export interface ParsedTree {
  /** Root label as written ("0".."4"). */
  label: string;
  /** Leaf tokens, left to right, as written. */
  leaves: string[];
}

/**
 * Parses one bracketed tree `(L child...)` / `(L token)`. Throws a plain Error describing the
 * problem and its column; the caller adds file and line.
 */
export function parseSstTree(line: string): ParsedTree {
  let i = 0;
  const leaves: string[] = [];
  const fail = (what: string): never => {
    throw new Error(`${what} at column ${i + 1}`);
  };
  const node = (): string => {
    if (line[i] !== '(') fail(`expected '('`);
    i++;
    // Label digits then one space (char codes: the train file has 318k nodes, so no regex per node).
    const labelStart = i;
    while (i < line.length && line.charCodeAt(i) >= 48 && line.charCodeAt(i) <= 57) i++;
    if (i === labelStart || line[i] !== ' ') fail('expected a numeric label and a space after "("');
    const label = line.slice(labelStart, i);
    i++;
    if (line[i] === '(') {
      while (line[i] === '(') {
        node();
        if (line[i] === ' ') i++;
      }
    } else {
      const start = i;
      while (i < line.length && line[i] !== ')' && line[i] !== '(' && line[i] !== ' ') i++;
      if (i === start) fail('expected a token or a subtree');
      leaves.push(line.slice(start, i));
    }
    if (line[i] !== ')')
      fail(i >= line.length ? 'unbalanced brackets: the line ends before ")"' : `expected ')'`);
    i++;
    return label;
  };
  const label = node();
  if (i !== line.length) fail('unexpected text after the tree');
  return { label, leaves };
}

async function loadTrees(dir: string, split: string, mode: PtbUnescape): Promise<LoadedSplit> {
  const file = join(dir, 'trees', `${split}.txt`);
  const lines = splitLines(await readTextFile(file));
  const dialogues: Dialogue[] = [];
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k]!;
    const line = k + 1;
    if (raw.trim() === '') throw new DataError(file, line, 'expected a tree "(L ...)", found an empty line');
    let tree: ParsedTree;
    try {
      tree = parseSstTree(raw);
    } catch (err) {
      throw new DataError(file, line, `malformed PTB tree: ${(err as Error).message}`);
    }
    const id = `${split}/${line}`;
    const utterance: Utterance = {
      id,
      text: tree.leaves.map((t) => unescapePtbToken(t, mode)).join(' '),
      label: tree.label,
      source: { file, line },
      meta: { format: 'ptb-tree' },
    };
    dialogues.push({ id, utterances: [utterance] });
  }
  return { dialogues, files: await recordFiles([file]), variant: 'ptb-trees' };
}

/**
 * GLUE SST-2 TSV: header `sentence<TAB>label`, no quoting (QUOTE_NONE: quotes are literal), so a
 * line splits on its one TAB; a plain split is 10x faster than a CSV parser on the 67k-row train.
 */
async function loadGlue(dir: string, split: keyof typeof GLUE_SPLITS): Promise<LoadedSplit> {
  const file = join(dir, GLUE_SPLITS[split]);
  const lines = splitLines(await readTextFile(file));
  const header = (lines[0] ?? '').split('\t');
  if (header.length !== 2 || header[0] !== 'sentence' || header[1] !== 'label') {
    throw new DataError(
      file,
      1,
      `expected the header "sentence<TAB>label", found ${JSON.stringify(lines[0] ?? '')}`,
    );
  }
  const dialogues: Dialogue[] = [];
  for (let k = 1; k < lines.length; k++) {
    const line = k + 1;
    const cells = lines[k]!.split('\t');
    if (cells.length !== 2) {
      throw new DataError(
        file,
        line,
        `expected 2 TAB-separated fields (sentence, label), found ${cells.length}`,
      );
    }
    // Every GLUE sentence ends with a space before the TAB; it is not part of the text.
    const text = cells[0]!.trimEnd();
    if (text.trim() === '') throw new DataError(file, line, 'expected a sentence, found an empty field');
    const id = `${split}/${line}`;
    dialogues.push({
      id,
      utterances: [{ id, text, label: cells[1]!.trim(), source: { file, line }, meta: { format: 'glue' } }],
    });
  }
  return { dialogues, files: await recordFiles([file]), variant: 'glue-sst2' };
}

const SST5_LABELS = ['very negative', 'negative', 'neutral', 'positive', 'very positive'] as const;

/** Tree root labels 0..4 to SST-5 labels; GLUE rows carry no 5-class label. */
function mapSst5(u: Utterance): LabelMapping {
  if (u.meta?.['format'] === 'glue') return undefined;
  const label = SST5_LABELS[Number(u.label)];
  return /^[0-4]$/.test(u.label ?? '') && label ? { label } : undefined;
}

/** Trees: 0,1 negative; 3,4 positive; 2 dropped as neutral. GLUE: 0 negative, 1 positive. */
function mapSst2(u: Utterance): LabelMapping {
  const raw = u.label ?? '';
  if (u.meta?.['format'] === 'glue') {
    if (raw === '0') return { label: 'negative' };
    if (raw === '1') return { label: 'positive' };
    return undefined;
  }
  if (raw === '0' || raw === '1') return { label: 'negative' };
  if (raw === '3' || raw === '4') return { label: 'positive' };
  if (raw === '2') return { drop: 'neutral' };
  return undefined;
}

const SST2_NOTES = [
  'SST-2 is built from the PTB trees (roots 0,1 negative; 3,4 positive; 2 dropped): 6,920 / 872 / 1,821 sentences.',
  "Peng et al. do not say which SST-2 version they used; their Table 1 lists SST's test as 2,210 (the SST-5 size).",
  "Peng's SST-2 baselines (92.40, 94.23) are well below the best published SST-2 accuracy (about 97.5).",
];

function sstProtocols(): Protocol[] {
  const treeSplits = { train: ['train'], dev: ['dev'], test: ['test'] } as const;
  const sst2Base = {
    dataset: 'sst',
    labels: ['negative', 'positive'],
    synonyms: { negative: ['neg', 'bad'], positive: ['pos', 'good'] },
    mapLabel: mapSst2,
    headline: 'accuracy',
    metrics: ['accuracy', 'macro_f1'],
    positive: 'positive',
    negative: 'negative',
    hasContext: false,
  } as const;
  return [
    {
      id: 'sst-5',
      dataset: 'sst',
      description: 'SST-5: five-class sentence sentiment from the root of each PTB tree (Peng et al. 2023).',
      labels: SST5_LABELS,
      // Peng's prompt names the classes negative / somewhat negative / neutral / somewhat positive / positive.
      labelNames: {
        'very negative': 'negative',
        negative: 'somewhat negative',
        neutral: 'neutral',
        positive: 'somewhat positive',
        'very positive': 'positive',
      },
      synonyms: {
        'very negative': ['strongly negative', 'extremely negative'],
        negative: ['somewhat negative', 'slightly negative'],
        positive: ['somewhat positive', 'slightly positive'],
        'very positive': ['strongly positive', 'extremely positive'],
      },
      splits: treeSplits,
      mapLabel: mapSst5,
      headline: 'accuracy',
      metrics: ['accuracy', 'macro_f1'],
      neutral: 'neutral',
      hasContext: false,
      notes: [
        'Sentence level (tree roots) on the standard 8,544 / 1,101 / 2,210 split; phrase-level training is not used.',
      ],
    },
    {
      ...sst2Base,
      id: 'sst-2',
      description:
        'SST-2: binary sentence sentiment from the PTB trees, neutral roots removed (Peng et al. 2023).',
      splits: treeSplits,
      notes: SST2_NOTES,
    },
    {
      ...sst2Base,
      id: 'sst-2-glue',
      description:
        'SST-2 with GLUE train (67k phrases) and GLUE dev; test from the PTB trees (GLUE hides test labels).',
      splits: { train: ['glue-train'], dev: ['glue-dev'], test: ['test'] },
      notes: [
        ...SST2_NOTES,
        'Train and dev are GLUE SST-2 (lower-cased, phrases included); test text keeps the treebank casing.',
      ],
    },
  ];
}

/** The SST loader; options change only how PTB escapes are rendered. */
export function createSstLoader(options: SstLoaderOptions = {}): DatasetLoader {
  const mode = options.ptbUnescape ?? 'brackets';
  return {
    id: 'sst',
    title: 'Stanford Sentiment Treebank (SST-5 / SST-2)',
    citation:
      'Socher, R., Perelygin, A., Wu, J., Chuang, J., Manning, C. D., Ng, A., Potts, C. (2013). Recursive Deep Models for Semantic Compositionality Over a Sentiment Treebank. EMNLP 2013.',
    licence: 'No licence stated by the creators (redistributed openly by Stanford and GLUE); research use.',
    homepage: 'https://nlp.stanford.edu/sentiment/',
    splits: SST_SPLITS,
    expectedFiles: SST_EXPECTED_FILES,
    detect: (dir) => detectVariants(dir, SST_EXPECTED_FILES),
    async load(dir, split) {
      if ((TREE_SPLITS as readonly string[]).includes(split)) return loadTrees(dir, split, mode);
      if (split === 'glue-train' || split === 'glue-dev') return loadGlue(dir, split);
      throw new InputError(unknownName('SST split', split, SST_SPLITS));
    },
    protocols: sstProtocols(),
    sampleDir: fileURLToPath(new URL('./samples/sst', import.meta.url)),
  };
}

export const sstLoader: DatasetLoader = createSstLoader();
