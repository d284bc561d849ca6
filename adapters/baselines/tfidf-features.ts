/**
 * Word n-gram TF-IDF features, following scikit-learn's TfidfVectorizer defaults (smooth idf,
 * l2-normalised rows, optional sublinear tf) so that the baseline is the one readers know. Two
 * deliberate differences, both for determinism and stated in the adapter's description:
 * - the vocabulary cap keeps the terms with the highest document frequency, ties alphabetical
 *   (scikit-learn ranks by corpus term frequency and breaks ties by hash-map order);
 * - the default token pattern keeps one-letter words ("I", "a" carry signal in short utterances).
 */

/** Lower-case word tokens: letters/digits/underscore runs, with inner apostrophes ("don't"). */
export const DEFAULT_TOKEN_PATTERN = "[\\p{L}\\p{N}_]+(?:'[\\p{L}\\p{N}_]+)*";

export interface TfidfOptions {
  /** Smallest and largest n of word n-grams. */
  ngramRange: readonly [number, number];
  /** Terms must occur in at least this many training documents. */
  minDf: number;
  /** Vocabulary cap (highest document frequency first, ties alphabetical). */
  maxFeatures: number;
  /** tf = 1 + ln(count) instead of the raw count (scikit-learn's sublinear_tf). */
  sublinearTf: boolean;
  /** Regular expression source for one token (Unicode flag), applied after lower-casing. */
  tokenPattern: string;
}

export const DEFAULT_TFIDF_OPTIONS: TfidfOptions = {
  ngramRange: [1, 2],
  minDf: 2,
  maxFeatures: 50_000,
  sublinearTf: false,
  tokenPattern: DEFAULT_TOKEN_PATTERN,
};

/** The fitted vocabulary: terms in alphabetical order (their column index) and smooth idf per term. */
export interface Vocabulary {
  terms: string[];
  idf: Float64Array;
  /** Number of training documents the idf was computed on. */
  documents: number;
}

/** Sparse rows: indptr[i]..indptr[i+1] index into indices/values. */
export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

/** Splits a text into lower-case tokens. Typographic apostrophes count as apostrophes. */
export function tokenize(text: string, pattern: string = DEFAULT_TOKEN_PATTERN): string[] {
  const normalised = text.toLowerCase().replace(/[\u2019\u2018\u02bc]/g, "'");
  return normalised.match(new RegExp(pattern, 'gu')) ?? [];
}

/** Word n-grams joined by one space, n from range[0] to range[1] (scikit-learn's order). */
export function wordNgrams(tokens: readonly string[], range: readonly [number, number]): string[] {
  const out: string[] = [];
  const [lo, hi] = range;
  for (let n = lo; n <= Math.min(hi, tokens.length); n++) {
    for (let i = 0; i + n <= tokens.length; i++)
      out.push(n === 1 ? tokens[i]! : tokens.slice(i, i + n).join(' '));
  }
  return out;
}

export function analyse(text: string, options: TfidfOptions): string[] {
  return wordNgrams(tokenize(text, options.tokenPattern), options.ngramRange);
}

/** Builds the vocabulary and idf from training texts. */
export function fitVocabulary(texts: readonly string[], options: TfidfOptions): Vocabulary {
  const df = new Map<string, number>();
  for (const text of texts) {
    for (const term of new Set(analyse(text, options))) df.set(term, (df.get(term) ?? 0) + 1);
  }
  let kept = [...df].filter(([, d]) => d >= options.minDf);
  if (kept.length > options.maxFeatures) {
    kept.sort((a, b) => b[1] - a[1] || compareTerms(a[0], b[0]));
    kept = kept.slice(0, options.maxFeatures);
  }
  kept.sort((a, b) => compareTerms(a[0], b[0]));
  const n = texts.length;
  // Smooth idf: as if one extra document contained every term once (no division by zero).
  const idf = Float64Array.from(kept, ([, d]) => Math.log((1 + n) / (1 + d)) + 1);
  return { terms: kept.map(([t]) => t), idf, documents: n };
}

/** Code-unit order, not locale order: the same on every machine. */
function compareTerms(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Maps terms to column indices (built once per vocabulary). */
export function termIndex(vocabulary: Vocabulary): Map<string, number> {
  return new Map(vocabulary.terms.map((t, i) => [t, i]));
}

/** Raw in-vocabulary term counts of one text, as sorted (index, count) pairs. */
export function termCounts(
  text: string,
  index: ReadonlyMap<string, number>,
  options: TfidfOptions,
): { indices: number[]; counts: number[] } {
  const counts = new Map<number, number>();
  for (const term of analyse(text, options)) {
    const j = index.get(term);
    if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
  }
  const indices = [...counts.keys()].sort((a, b) => a - b);
  return { indices, counts: indices.map((j) => counts.get(j)!) };
}

/**
 * Dense float32 count matrix [texts, V]: the input of the exported ONNX graph, which applies tf
 * weighting, idf and the l2 norm itself.
 */
export function countMatrix(
  texts: readonly string[],
  index: ReadonlyMap<string, number>,
  options: TfidfOptions,
  columns: number,
): Float32Array {
  const out = new Float32Array(texts.length * columns);
  for (let i = 0; i < texts.length; i++) {
    const base = i * columns;
    for (const term of analyse(texts[i]!, options)) {
      const j = index.get(term);
      if (j !== undefined) out[base + j]! += 1;
    }
  }
  return out;
}

/** TF-IDF rows (float64, l2-normalised; empty rows stay zero) for training and dev scoring. */
export function tfidfMatrix(
  texts: readonly string[],
  vocabulary: Vocabulary,
  index: ReadonlyMap<string, number>,
  options: TfidfOptions,
): CsrMatrix {
  const indptr = new Int32Array(texts.length + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < texts.length; i++) {
    const row = termCounts(texts[i]!, index, options);
    let norm = 0;
    const start = values.length;
    for (let k = 0; k < row.indices.length; k++) {
      const j = row.indices[k]!;
      const c = row.counts[k]!;
      const tf = options.sublinearTf ? 1 + Math.log(c) : c;
      const v = tf * vocabulary.idf[j]!;
      indices.push(j);
      values.push(v);
      norm += v * v;
    }
    if (norm > 0) {
      const s = 1 / Math.sqrt(norm);
      for (let k = start; k < values.length; k++) values[k]! *= s;
    }
    indptr[i + 1] = values.length;
  }
  return {
    rows: texts.length,
    cols: vocabulary.terms.length,
    indptr,
    indices: Int32Array.from(indices),
    values: Float64Array.from(values),
  };
}
