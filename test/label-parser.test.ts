import { describe, expect, it } from 'vitest';
import { LabelParser, normaliseAnswer } from '../harness/label-parser.ts';

const meldLike = new LabelParser({
  labels: ['neutral', 'joy', 'sadness', 'anger', 'surprise', 'fear', 'disgust'],
  synonyms: { joy: ['happy', 'happiness', 'joyful'], anger: ['angry'], sadness: ['sad'] },
});

describe('normaliseAnswer', () => {
  it('strips quotes, emphasis, trailing punctuation and answer prefixes, and lower-cases', () => {
    expect(normaliseAnswer('  "Joy".  ')).toBe('joy');
    expect(normaliseAnswer('**Answer:** Sadness!')).toBe('sadness');
    expect(normaliseAnswer('Answer:anger')).toBe('anger');
    expect(normaliseAnswer('The answer is: Fear')).toBe('fear');
    expect(normaliseAnswer('Emotion: `disgust`')).toBe('disgust');
    expect(normaliseAnswer('somewhat   Negative')).toBe('somewhat negative');
  });
  it('keeps a leading sign, which labels like -3 need', () => {
    expect(normaliseAnswer('-3.')).toBe('-3');
    expect(normaliseAnswer('+1')).toBe('+1');
  });
});

describe('LabelParser', () => {
  it('accepts exact and case-insensitive labels', () => {
    expect(meldLike.parse('joy')).toMatchObject({ status: 'ok', label: 'joy' });
    expect(meldLike.parse('NEUTRAL')).toMatchObject({ status: 'ok', label: 'neutral' });
  });
  it('accepts declared synonyms only', () => {
    expect(meldLike.parse('Happiness.')).toMatchObject({ status: 'ok', label: 'joy' });
    expect(meldLike.parse('angry')).toMatchObject({ status: 'ok', label: 'anger' });
    // "scared" is not declared for fear: not guessed.
    expect(meldLike.parse('scared')).toMatchObject({ status: 'unparseable', label: null });
  });
  it('reads the label on the first line when an explanation follows', () => {
    expect(meldLike.parse('Sadness\nThe speaker sounds down.')).toMatchObject({
      status: 'ok',
      label: 'sadness',
    });
  });
  it('does not pick a label out of a sentence unless lenient', () => {
    const answer = 'I think the speaker feels joy here';
    expect(meldLike.parse(answer)).toMatchObject({ status: 'unparseable' });
    expect(meldLike.parse(answer, { lenient: true })).toEqual({
      status: 'ok',
      label: 'joy',
      matched: 'joy',
      lenient: true,
    });
  });
  it('lenient mode refuses when two labels are mentioned', () => {
    expect(meldLike.parse('either joy or anger', { lenient: true })).toMatchObject({ status: 'unparseable' });
  });
  it('lenient mode corrects small misspellings but not far ones', () => {
    expect(meldLike.parse('sadnes', { lenient: true })).toMatchObject({
      status: 'ok',
      label: 'sadness',
      lenient: true,
    });
    expect(meldLike.parse('boredom', { lenient: true })).toMatchObject({ status: 'unparseable' });
  });
  it('lenient mode does not fire inside other words', () => {
    // "sad" is a synonym of sadness, but "saddle" must not match it as a whole word.
    expect(meldLike.parse('saddle up', { lenient: true })).toMatchObject({ status: 'unparseable' });
  });
  it('treats empty and null answers as unparseable', () => {
    expect(meldLike.parse('')).toMatchObject({ status: 'unparseable', reason: 'empty answer' });
    expect(meldLike.parse(null)).toMatchObject({ status: 'unparseable' });
  });
  it('maps prompt label names back to labels (multi-word names)', () => {
    const sst5 = new LabelParser({
      labels: ['0', '1', '2', '3', '4'],
      labelNames: {
        '0': 'negative',
        '1': 'somewhat negative',
        '2': 'neutral',
        '3': 'somewhat positive',
        '4': 'positive',
      },
    });
    expect(sst5.parse('Somewhat negative')).toMatchObject({ status: 'ok', label: '1' });
    expect(sst5.parse('negative')).toMatchObject({ status: 'ok', label: '0' });
    expect(sst5.parse('3')).toMatchObject({ status: 'ok', label: '3' });
    expect(sst5.parse('somewhat')).toMatchObject({ status: 'unparseable' });
  });
  it("keeps a label's own name when a synonym of another label clashes with it", () => {
    const p = new LabelParser({ labels: ['happy', 'excited'], synonyms: { excited: ['happy'] } });
    expect(p.parse('happy')).toMatchObject({ label: 'happy' });
  });
  it('signed numeric labels stay distinct', () => {
    const mosi = new LabelParser({ labels: ['-3', '-2', '-1', '0', '1', '2', '3'] });
    expect(mosi.parse('-2')).toMatchObject({ status: 'ok', label: '-2' });
    expect(mosi.parse('2')).toMatchObject({ status: 'ok', label: '2' });
  });
});
