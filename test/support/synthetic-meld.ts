import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../harness/random.ts';

const labels = ['neutral', 'joy', 'surprise', 'anger', 'sadness', 'disgust', 'fear'] as const;
const sentimentOf: Record<string, string> = {
  neutral: 'neutral',
  joy: 'positive',
  surprise: 'positive',
  anger: 'negative',
  sadness: 'negative',
  disgust: 'negative',
  fear: 'negative',
};
const cue: Record<string, string[]> = {
  neutral: ['okay', 'sure', 'the', 'coffee', 'tomorrow'],
  joy: ['great', 'love', 'wonderful', 'yay'],
  surprise: ['what', 'really', 'whoa', 'seriously'],
  anger: ['stop', 'hate', 'shut', 'damn'],
  sadness: ['sorry', 'miss', 'cry', 'lost'],
  disgust: ['gross', 'ew', 'yuck'],
  fear: ['scared', 'afraid', 'help'],
};
const filler = ['i', 'you', 'we', 'it', 'is', 'so', 'that', 'this', 'just', 'now', 'here', 'and'];

/**
 * Writes DIR/meld/{train,dev,test}_sent_emo.csv in the current MELD form (CRLF, RFC-4180 quoting,
 * the release's 11 columns) with learnable synthetic utterances: for tests and benchmarks at scale.
 */
export function writeSyntheticMeld(
  dataDir: string,
  sizes: { train: number; dev: number; test: number },
  seed = 1,
): string {
  const dir = join(dataDir, 'meld');
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  for (const [split, n] of Object.entries(sizes)) {
    const rows = [
      'Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime',
    ];
    let dialogue = 0;
    let utt = 0;
    for (let i = 0; i < n; i++) {
      const label = rng.next() < 0.45 ? 'neutral' : labels[1 + rng.int(labels.length - 1)]!;
      const words = [
        filler[rng.int(filler.length)]!,
        cue[label]![rng.int(cue[label]!.length)]!,
        filler[rng.int(filler.length)]!,
      ];
      if (rng.next() < 0.3) words.push(cue.neutral![rng.int(5)]!);
      const text = `${words.join(' ')}${rng.next() < 0.2 ? ', "yes"' : ''}.`;
      const quoted = /[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
      rows.push(
        `${i + 1},${quoted},${rng.next() < 0.5 ? 'Ross' : 'Rachel'},${label},${sentimentOf[label]},${dialogue},${utt},1,1,"00:00:01,000","00:00:02,000"`,
      );
      utt++;
      if (utt >= 3 + rng.int(8)) {
        dialogue++;
        utt = 0;
      }
    }
    writeFileSync(join(dir, `${split}_sent_emo.csv`), `${rows.join('\r\n')}\r\n`);
  }
  return dir;
}
