import { describe, expect, it } from 'vitest';
import { InputError, suggest, unknownName } from '../harness/errors.ts';

describe('did-you-mean suggestions', () => {
  it('counts a swap of adjacent letters once and prefers an anagram on ties', () => {
    expect(suggest('mled', ['m3ed', 'meld', 'sst'])).toBe('meld');
    expect(suggest('emorynpl', ['emorynlp', 'iemocap'])).toBe('emorynlp');
    expect(suggest('tfidf-logerg', ['majority', 'tfidf-logreg'])).toBe('tfidf-logreg');
  });

  it('offers nothing when no candidate is close', () => {
    expect(suggest('zzzzzz', ['meld', 'sst'])).toBeUndefined();
    expect(unknownName('dataset', 'zzzzzz', ['meld'])).toBe("unknown dataset 'zzzzzz'; known: meld");
  });

  it('formats file and line in front of the message', () => {
    expect(new InputError('expected x', 'a.csv', 3).message).toBe('a.csv:3: expected x');
    expect(new InputError('expected x', 'a.csv').message).toBe('a.csv: expected x');
    expect(new InputError('expected x').message).toBe('expected x');
  });
});
