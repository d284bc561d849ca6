/**
 * Statistics benchmark (not a test): run with `node --import tsx bench/stats.bench.ts`.
 *
 * 1. 1,000-resample percentile bootstrap CI of weighted F1 on 10,000 predictions (target < 0.3 s),
 *    and the same computation with scikit-learn (bench/stats_bench.py, spawned here) for the ratio.
 * 2. A 10,000-permutation randomization test on 10,000 paired predictions (target < 1 s).
 *
 * Writes bench/results/stats.json with the times, the ratio and the machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeOutcomes } from '../harness/metrics.ts';
import { Rng } from '../harness/random.ts';
import { bootstrapIntervals, permutationTest } from '../harness/stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const LABELS = ['neutral', 'surprise', 'fear', 'sadness', 'joy', 'disgust', 'anger'];
const N = 10_000;

function predictions(seed: number, accuracy: number) {
  const rng = new Rng(seed);
  const weights = [0.47, 0.12, 0.03, 0.07, 0.16, 0.03, 0.12];
  return Array.from({ length: N }, (_, i) => {
    let u = rng.next();
    let g = 0;
    while (g < weights.length - 1 && u >= weights[g]!) u -= weights[g++]!;
    const r = rng.next();
    const pred = r < 0.02 ? null : r < accuracy ? LABELS[g]! : LABELS[rng.int(LABELS.length)]!;
    return { id: `u${i}`, gold: LABELS[g]!, pred, dialogueId: `d${Math.floor(i / 8)}` };
  });
}

/** Wall-clock and CPU seconds of fn (CPU time is less sensitive to other processes on a busy machine). */
function time<T>(fn: () => T): { seconds: number; cpuSeconds: number; value: T } {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const value = fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, value };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const base = predictions(1, 0.62);
const a = encodeOutcomes(base, LABELS);
// A realistic candidate: the baseline with 15% of its answers drawn again (same gold, same ids).
const redraw = new Rng(2);
const b = encodeOutcomes(
  base.map((r) => (redraw.next() < 0.15 ? { ...r, pred: LABELS[redraw.int(LABELS.length)]! } : r)),
  LABELS,
);
// The worst case for the permutation test: every pair of answers differs in some way.
const worst = encodeOutcomes(
  predictions(3, 0.6).map((r, i) => ({ ...r, gold: base[i]!.gold })),
  LABELS,
);

// 1. Bootstrap CI of weighted F1, utterance resampling (what the scikit-learn side does).
const bootRuns = [1, 2, 3, 4, 5].map((seed) =>
  time(
    () =>
      bootstrapIntervals(a, ['weighted_f1'], {}, { resamples: 1000, seed, unit: 'utterance' }).weighted_f1!,
  ),
);
const bootSeconds = median(bootRuns.map((r) => r.seconds));
const bootCpu = median(bootRuns.map((r) => r.cpuSeconds));
const bootDialogue = median(
  [1, 2, 3].map(
    (seed) =>
      time(() =>
        bootstrapIntervals(
          a,
          ['weighted_f1'],
          {},
          { resamples: 1000, seed, dialogueIds: base.map((r) => r.dialogueId) },
        ),
      ).seconds,
  ),
);

const py = spawnSync('/usr/bin/python3', [join(here, 'stats_bench.py')], {
  input: JSON.stringify({
    labels: LABELS,
    gold: Array.from(a.gold),
    pred: Array.from(a.pred),
    resamples: 1000,
  }),
  encoding: 'utf8',
});
let sklearn: { seconds: number; cpu_seconds: number; low: number; high: number; sklearn: string } | null =
  null;
let sklearnError: string | undefined;
if (py.status === 0) sklearn = JSON.parse(py.stdout);
else sklearnError = (py.stderr || py.error?.message || 'python3 failed').trim().split('\n').pop();

// 2. Permutation test, 10,000 permutations on 10,000 paired predictions (utterance and dialogue units).
const permRuns = [1, 2, 3].map((seed) =>
  time(() => permutationTest(a, b, 'weighted_f1', {}, { permutations: 10_000, seed, unit: 'utterance' })),
);
const permSeconds = median(permRuns.map((r) => r.seconds));
const permCpu = median(permRuns.map((r) => r.cpuSeconds));
const permWorst = time(() =>
  permutationTest(a, worst, 'weighted_f1', {}, { permutations: 10_000, seed: 1, unit: 'utterance' }),
);
const permDialogue = time(() =>
  permutationTest(
    a,
    b,
    'weighted_f1',
    {},
    { permutations: 10_000, seed: 1, dialogueIds: base.map((r) => r.dialogueId) },
  ),
);

// scipy's permutation_test on the same pairs and statistic. It costs two scikit-learn F1 calls per
// permutation, so it runs 500 permutations and the comparison is per permutation.
const SCIPY_PERMUTATIONS = 500;
const pyPerm = spawnSync('/usr/bin/python3', [join(here, 'stats_bench.py')], {
  input: JSON.stringify({
    mode: 'permutation',
    labels: LABELS,
    gold: Array.from(a.gold),
    pred: Array.from(a.pred),
    pred_b: Array.from(b.pred),
    permutations: SCIPY_PERMUTATIONS,
  }),
  encoding: 'utf8',
});
const scipyPerm =
  pyPerm.status === 0
    ? (JSON.parse(pyPerm.stdout) as { seconds: number; cpu_seconds: number; p: number; scipy: string })
    : null;

const ci = bootRuns[0]!.value;
/** The bounds: a 1,000-resample bootstrap under 0.3 s, a 10,000-permutation test under 1 s. */
const TARGET_SECONDS = { bootstrap: 0.3, permutation: 1 };
const result = {
  benchmark: 'stats',
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    os: `${platform()} ${release()}`,
    node: process.version,
    // Other processes compete for the cores on a shared machine; wall times are only as good as this.
    load_average_1m: loadavg()[0],
  },
  bootstrap_weighted_f1: {
    n: N,
    resamples: 1000,
    unit: 'utterance',
    seconds_median_of_5: bootSeconds,
    cpu_seconds_median_of_5: bootCpu,
    seconds_runs: bootRuns.map((r) => r.seconds),
    target_seconds: TARGET_SECONDS.bootstrap,
    ci: { low: ci.low, high: ci.high },
    seconds_dialogue_unit_median_of_3: bootDialogue,
  },
  sklearn_bootstrap_weighted_f1: sklearn
    ? {
        seconds: sklearn.seconds,
        cpu_seconds: sklearn.cpu_seconds,
        ci: { low: sklearn.low, high: sklearn.high },
        version: sklearn.sklearn,
      }
    : { error: sklearnError },
  ratio_sklearn_over_ours: sklearn ? sklearn.seconds / bootSeconds : null,
  ratio_sklearn_over_ours_cpu: sklearn ? sklearn.cpu_seconds / bootCpu : null,
  permutation_test_weighted_f1: {
    n: N,
    permutations: 10_000,
    unit: 'utterance',
    seconds_median_of_3: permSeconds,
    cpu_seconds_median_of_3: permCpu,
    target_seconds: TARGET_SECONDS.permutation,
    p: permRuns[0]!.value.p,
    delta: permRuns[0]!.value.delta,
    seconds_dialogue_unit: permDialogue.seconds,
    p_dialogue_unit: permDialogue.value.p,
    seconds_worst_case_all_pairs_differ: permWorst.seconds,
    differing_pairs: Array.from(a.pred).filter((p, i) => p !== b.pred[i]).length,
  },
  scipy_permutation_test_weighted_f1: scipyPerm
    ? {
        permutations: SCIPY_PERMUTATIONS,
        seconds: scipyPerm.seconds,
        cpu_seconds: scipyPerm.cpu_seconds,
        p: scipyPerm.p,
        version: scipyPerm.scipy,
      }
    : { error: (pyPerm.stderr || 'python3 failed').trim().split('\n').pop() },
  ratio_scipy_over_ours_per_permutation: scipyPerm
    ? scipyPerm.seconds / SCIPY_PERMUTATIONS / (permSeconds / 10_000)
    : null,
  pass: bootSeconds < TARGET_SECONDS.bootstrap && permSeconds < TARGET_SECONDS.permutation,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'stats.json'), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
if (!result.pass) process.exitCode = 1;
