/**
 * The harness's overhead on the ONNX baseline: tfidf-logreg scored through harness/inference/onnx.ts
 * (runSession plus the adapter's per-batch bookkeeping: probabilities to labels and score maps)
 * against calling session.run directly on the very same feed tensors. Both paths are timed batch by
 * batch (after one untimed warm-up call per batch), interleaved in one process, the order
 * alternating, over several repetitions; the figure is the median over repetitions of the ratio of
 * summed times, which must be <= 1.10; the median of per-batch ratios is reported beside it. Featurisation (texts to the dense count
 * tensor) is the same work whichever way the graph is called, so it is timed on its own.
 *
 * Texts: the MELD test utterances (model fitted on MELD train/dev) when ../shared/data/meld is
 * present, else MELD-like synthetic utterances of the same count.
 *
 * Run: node --import tsx bench/runner-overhead.bench.ts [--reps 15] [--batch 64] [--warmup 2] [--threads 1]
 * (--threads 0: ONNX Runtime's default thread pool).
 * Writes bench/results/runner-overhead.json; exits 1 when the ratio is above the limit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type TfidfLogregAdapter, tfidfLogregFactory } from '../adapters/baselines/tfidf-logreg.ts';
import { type ort, releaseSessions } from '../harness/inference/onnx.ts';
import { Rng } from '../harness/random.ts';
import type { AdapterEnv, Example } from '../harness/types.ts';
import {
  example,
  MELD_LABELS,
  makeCell,
  makeProtocol,
  readMeldSplit,
} from '../test/support/baseline-cells.ts';
import { hasSharedData, sharedData } from '../test/support/paths.ts';

const LIMIT = 1.1;
const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '15' },
    batch: { type: 'string', default: '64' },
    warmup: { type: 'string', default: '2' },
    /** ONNX Runtime intra-op threads: 1 keeps timings steady on a small shared machine. */
    threads: { type: 'string', default: '1' },
  },
});
const REPS = Number(args.reps);
const BATCH = Number(args.batch);
const WARMUP = Number(args.warmup);
const THREADS = Number(args.threads);

const work = mkdtempSync(join(tmpdir(), 'runner-overhead-'));
const log = {
  info: (m: string) => process.stderr.write(`${m}\n`),
  warn: (m: string) => process.stderr.write(`${m}\n`),
};
const env: AdapterEnv = { baseDir: work, log, device: 'cpu', cacheDir: join(work, 'cache') };

/** MELD-like turns: short, Friends-style, a skewed label mix with label cue words. */
function synthetic(split: string, n: number, seed: number): Example[] {
  const rng = new Rng(seed);
  const filler =
    'i you the it is that we oh what yeah no know just so okay well like right ross rachel monica joey chandler phoebe coffee apartment tonight really'.split(
      ' ',
    );
  const cues: Record<string, string[]> = {
    neutral: ['okay', 'sure', 'maybe', 'tomorrow', 'here'],
    joy: ['great', 'love', 'wonderful', 'yay', 'awesome'],
    surprise: ['what', 'really', 'wow', 'whoa', 'seriously'],
    anger: ['hate', 'stupid', 'shut', 'damn', 'unbelievable'],
    sadness: ['sorry', 'miss', 'sad', 'lost', 'cry'],
    disgust: ['gross', 'ew', 'disgusting', 'sick', 'yuck'],
    fear: ['scared', 'afraid', 'nervous', 'oh god', 'help'],
  };
  const mix = [0.47, 0.17, 0.12, 0.11, 0.07, 0.03, 0.03];
  const out: Example[] = [];
  for (let i = 0; i < n; i++) {
    let r = rng.next();
    let k = 0;
    while (k < mix.length - 1 && r >= mix[k]!) r -= mix[k++]!;
    const label = MELD_LABELS[k]!;
    const words: string[] = [];
    const len = 2 + rng.int(12);
    for (let w = 0; w < len; w++) {
      const pool = rng.next() < 0.75 ? filler : cues[label]!;
      words.push(pool[rng.int(pool.length)]!);
    }
    out.push(
      example(
        `${split}-${i}`,
        `${words.join(' ')}${rng.next() < 0.4 ? '!' : '.'}`,
        label,
        `${split}-d${i >> 3}`,
      ),
    );
  }
  return out;
}

const real = hasSharedData('meld');
const meldDir = join(sharedData, 'meld');
const [train, dev, test] = real
  ? await Promise.all([
      readMeldSplit(meldDir, 'train'),
      readMeldSplit(meldDir, 'dev'),
      readMeldSplit(meldDir, 'test'),
    ])
  : [synthetic('train', 9989, 1), synthetic('dev', 1109, 2), synthetic('test', 2610, 3)];

const protocol = makeProtocol(MELD_LABELS, 'weighted_f1', 'meld-7');
const { ctx } = makeCell({ protocol, data: { train, dev, test }, workDir: join(work, 'cell') });
// One C keeps the fit short: the fitted weights do not change the cost of scoring.
const config = tfidfLogregFactory.parseConfig({
  cGrid: [3],
  batchSize: BATCH,
  ...(THREADS > 0 ? { threads: THREADS } : {}),
});
const adapter = tfidfLogregFactory.create({ id: 'tfidf-logreg', ...config }, env) as TfidfLogregAdapter;
const fitStarted = performance.now();
const cell = await adapter.cell(ctx);
const fitSeconds = (performance.now() - fitStarted) / 1000;

const batches: Example[][] = [];
for (let i = 0; i < test.length; i += BATCH) batches.push(test.slice(i, i + BATCH));
const texts = batches.map((b) => b.map((e) => e.text));
const feeds: Record<string, ort.Tensor>[] = texts.map((t) => adapter.featurize(t, cell));
const session = cell.handle.session;

/** One repetition: both paths per batch, the order alternating by batch and repetition. */
async function repetition(
  rep: number,
): Promise<{ harness: number; raw: number; featurize: number; pairs: number[] }> {
  let harness = 0;
  let raw = 0;
  const pairs: number[] = [];
  for (let b = 0; b < batches.length; b++) {
    // An untimed run first, so both timed calls find the batch's input equally warm in cache.
    await session.run(feeds[b]!);
    const harnessFirst = (b + rep) % 2 === 0;
    let h = 0;
    let r = 0;
    for (const which of harnessFirst ? ['harness', 'raw'] : ['raw', 'harness']) {
      const t0 = performance.now();
      if (which === 'harness') await adapter.score(batches[b]!, feeds[b]!, cell);
      else await session.run(feeds[b]!);
      const dt = performance.now() - t0;
      if (which === 'harness') h = dt;
      else r = dt;
    }
    harness += h;
    raw += r;
    pairs.push(h / r);
  }
  const t0 = performance.now();
  for (const t of texts) adapter.featurize(t, cell);
  const featurize = performance.now() - t0;
  return { harness, raw, featurize, pairs };
}

for (let w = 0; w < WARMUP; w++) await repetition(w);
const reps: { harness: number; raw: number; featurize: number; ratio: number }[] = [];
const pairs: number[] = [];
for (let r = 0; r < REPS; r++) {
  const m = await repetition(r);
  reps.push({ harness: m.harness, raw: m.raw, featurize: m.featurize, ratio: m.harness / m.raw });
  pairs.push(...m.pairs);
}

const median = (xs: number[]) => quantile(xs, 0.5);
/** Linear-interpolated quantile (numpy's default). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}
// The gate: the median over repetitions of (harness time / raw time) summed over all batches. The
// median of per-batch ratios (each pair timed back to back, so load from other processes on a
// shared machine hits both sides alike) is reported beside it.
const ratio = median(reps.map((r) => r.ratio));
const batchRatio = median(pairs);
const result = {
  benchmark: 'runner-overhead',
  description:
    'tfidf-logreg scored via runSession + adapter bookkeeping (adapter.score) vs raw session.run on identical feeds, interleaved per batch; featurisation timed separately',
  date: new Date().toISOString(),
  data: real
    ? `${join(meldDir, 'test_sent_emo.csv')} (model fitted on MELD train, C=3)`
    : 'synthetic MELD-like texts',
  examples: test.length,
  batch_size: BATCH,
  batches: batches.length,
  vocabulary: cell.index.size,
  input_shape_per_batch: [BATCH, cell.index.size],
  repetitions: REPS,
  warmup_repetitions: WARMUP,
  intra_op_threads: THREADS > 0 ? THREADS : 'onnxruntime default',
  device: cell.handle.device,
  fit_seconds: Number(fitSeconds.toFixed(2)),
  median_ms_per_repetition: {
    harness: Number(median(reps.map((r) => r.harness)).toFixed(3)),
    raw_session_run: Number(median(reps.map((r) => r.raw)).toFixed(3)),
    featurize: Number(median(reps.map((r) => r.featurize)).toFixed(3)),
  },
  median_ms_per_batch: {
    harness: Number((median(reps.map((r) => r.harness)) / batches.length).toFixed(4)),
    raw_session_run: Number((median(reps.map((r) => r.raw)) / batches.length).toFixed(4)),
    featurize: Number((median(reps.map((r) => r.featurize)) / batches.length).toFixed(4)),
  },
  ratio_median: Number(ratio.toFixed(4)),
  ratio_definition:
    'median over repetitions of (sum of harness ms over all batches) / (sum of raw session.run ms)',
  ratio_median_per_batch: Number(batchRatio.toFixed(4)),
  ratio_per_batch_quartiles: [quantile(pairs, 0.25), quantile(pairs, 0.75)].map((q) => Number(q.toFixed(4))),
  ratio_of_median_sums: Number(
    (median(reps.map((r) => r.harness)) / median(reps.map((r) => r.raw))).toFixed(4),
  ),
  featurize_share_of_predict: Number(
    (
      median(reps.map((r) => r.featurize)) /
      (median(reps.map((r) => r.featurize)) + median(reps.map((r) => r.harness)))
    ).toFixed(4),
  ),
  limit: LIMIT,
  pass: ratio <= LIMIT,
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    platform: `${platform()} ${release()}`,
    node: process.version,
  },
  per_repetition: reps.map((r) => ({
    harness_ms: Number(r.harness.toFixed(3)),
    raw_ms: Number(r.raw.toFixed(3)),
    featurize_ms: Number(r.featurize.toFixed(3)),
    ratio: Number(r.ratio.toFixed(4)),
  })),
};

const out = resolve(import.meta.dirname, 'results', 'runner-overhead.json');
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
process.stderr.write(
  `runner overhead on tfidf-logreg: median ratio ${result.ratio_median} (limit ${LIMIT}); ` +
    `per batch of ${BATCH}: harness ${result.median_ms_per_batch.harness} ms, raw ${result.median_ms_per_batch.raw_session_run} ms, ` +
    `featurize ${result.median_ms_per_batch.featurize} ms; wrote ${out}\n`,
);
await releaseSessions();
rmSync(work, { recursive: true, force: true });
if (!result.pass) process.exitCode = 1;
