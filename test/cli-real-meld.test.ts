import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.ts';
import { hasSharedData, sharedData } from './support/paths.ts';

// Counts from ../shared/data/meld/SOURCE.txt (computed there from the release bytes).
const emotion = {
  train: { neutral: 4710, joy: 1743, surprise: 1205, anger: 1109, sadness: 683, disgust: 271, fear: 268 },
  dev: { neutral: 470, joy: 163, surprise: 150, anger: 153, sadness: 111, disgust: 22, fear: 40 },
  test: { neutral: 1256, joy: 402, surprise: 281, anger: 345, sadness: 208, disgust: 68, fear: 50 },
};
const sentiment = {
  train: { negative: 2945, neutral: 4710, positive: 2334 },
  dev: { negative: 406, neutral: 470, positive: 233 },
  test: { negative: 833, neutral: 1256, positive: 521 },
};

describe.skipIf(!hasSharedData('meld'))('real MELD release (../shared/data/meld)', () => {
  it('datasets --json reports 9,989 / 1,109 / 2,610 examples and the label counts of SOURCE.txt', () => {
    const r = cli(['datasets', '--data-dir', sharedData, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const meld = (
      JSON.parse(r.stdout) as {
        id: string;
        found: boolean;
        variant: string;
        protocols: Record<string, { splits: Record<string, { n: number; labels: Record<string, number> }> }>;
      }[]
    ).find((d) => d.id === 'meld')!;
    expect(meld.found).toBe(true);
    expect(meld.variant).toBe('current');
    const m7 = meld.protocols['meld-7']!.splits;
    expect([m7.train!.n, m7.dev!.n, m7.test!.n]).toEqual([9989, 1109, 2610]);
    for (const split of ['train', 'dev', 'test'] as const) {
      expect(m7[split]!.labels).toEqual(emotion[split]);
      expect(meld.protocols['meld-sentiment-3']!.splits[split]!.labels).toEqual(sentiment[split]);
    }
  });
});
