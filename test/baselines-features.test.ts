import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TFIDF_OPTIONS,
  fitVocabulary,
  termIndex,
  tfidfMatrix,
  tokenize,
  wordNgrams,
} from '../adapters/baselines/tfidf-features.ts';
import { repoRoot } from './support/paths.ts';

/** Written by scripts/golden_logreg.py with scikit-learn's TfidfVectorizer. */
const golden = JSON.parse(readFileSync(`${repoRoot}/test/fixtures/golden/logreg.json`, 'utf8')) as {
  tfidf: {
    texts: string[];
    variants: { sublinear_tf: boolean; terms: string[]; idf: number[]; rows: number[][] }[];
  };
};

describe('tokenize and wordNgrams', () => {
  it('lower-cases, keeps inner apostrophes (typographic ones too) and one-letter words', () => {
    expect(tokenize("I can’t BELIEVE it... Joey's 2nd_try!")).toEqual([
      'i',
      "can't",
      'believe',
      'it',
      "joey's",
      '2nd_try',
    ]);
    expect(tokenize('—?!')).toEqual([]);
    expect(tokenize('Ça va, Zoë?')).toEqual(['ça', 'va', 'zoë']);
  });

  it('builds n-grams in scikit-learn order (all unigrams, then bigrams)', () => {
    expect(wordNgrams(['a', 'b', 'c'], [1, 2])).toEqual(['a', 'b', 'c', 'a b', 'b c']);
    expect(wordNgrams(['a'], [1, 3])).toEqual(['a']);
    expect(wordNgrams(['a', 'b', 'c'], [2, 3])).toEqual(['a b', 'b c', 'a b c']);
  });
});

describe('fitVocabulary', () => {
  it('keeps terms with df >= minDf, in alphabetical order, with smooth idf', () => {
    const v = fitVocabulary(['b a', 'a c', 'a b', 'd'], { ...DEFAULT_TFIDF_OPTIONS, ngramRange: [1, 1] });
    expect(v.terms).toEqual(['a', 'b']);
    // idf = ln((1 + n) / (1 + df)) + 1 with n = 4: a (df 3) and b (df 2).
    expect(v.idf[0]).toBeCloseTo(Math.log(5 / 4) + 1, 12);
    expect(v.idf[1]).toBeCloseTo(Math.log(5 / 3) + 1, 12);
  });

  it('caps the vocabulary by document frequency, ties alphabetical', () => {
    const texts = ['x y z w', 'x y z w', 'x z', 'x w'];
    // df: x 4, z 3, w 3, y 2; cap 3 keeps x, then w and z (tie broken alphabetically: w < z, y dropped).
    const v = fitVocabulary(texts, { ...DEFAULT_TFIDF_OPTIONS, ngramRange: [1, 1], maxFeatures: 3 });
    expect(v.terms).toEqual(['w', 'x', 'z']);
    const v2 = fitVocabulary(texts, { ...DEFAULT_TFIDF_OPTIONS, ngramRange: [1, 1], maxFeatures: 2 });
    expect(v2.terms).toEqual(['w', 'x']);
  });
});

describe('TF-IDF matches scikit-learn TfidfVectorizer (golden)', () => {
  for (const variant of golden.tfidf.variants) {
    it(`sublinear_tf=${variant.sublinear_tf}: same vocabulary, idf and l2-normalised rows`, () => {
      const options = { ...DEFAULT_TFIDF_OPTIONS, sublinearTf: variant.sublinear_tf };
      const vocabulary = fitVocabulary(golden.tfidf.texts, options);
      expect(vocabulary.terms).toEqual(variant.terms);
      vocabulary.idf.forEach((v, j) => {
        expect(v).toBeCloseTo(variant.idf[j]!, 12);
      });
      const X = tfidfMatrix(golden.tfidf.texts, vocabulary, termIndex(vocabulary), options);
      for (let i = 0; i < X.rows; i++) {
        const dense = new Array<number>(X.cols).fill(0);
        for (let p = X.indptr[i]!; p < X.indptr[i + 1]!; p++) dense[X.indices[p]!] = X.values[p]!;
        dense.forEach((v, j) => {
          expect(v).toBeCloseTo(variant.rows[i]![j]!, 12);
        });
      }
    });
  }

  it('sublinear tf changes the rows of texts with repeated terms (the golden has some)', () => {
    const [raw, sub] = golden.tfidf.variants;
    expect(raw!.rows).not.toEqual(sub!.rows);
  });
});
