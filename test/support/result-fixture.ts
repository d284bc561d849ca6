/**
 * Writes run folders (architecture doc, section 5) with known numbers for the report tests. The
 * caller gives the metric values (worked out by hand in the test); the fixture only counts the
 * confusion matrix and per-class P/R/F1 from the gold/pred lists it is given.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  Interval,
  Manifest,
  MetricName,
  MetricsFile,
  PerClass,
  PredictionRecord,
  Summary,
  SummaryCell,
} from '../../harness/types.ts';

export interface FixtureCell {
  task: string;
  protocol?: string;
  adapter: string;
  seed?: number;
  headline: MetricName;
  labels: string[];
  /** Gold labels and predictions (null = unparseable), one per example. */
  gold: string[];
  pred: (string | null)[];
  metrics: Partial<Record<MetricName, number>>;
  ci?: Partial<Record<MetricName, [number, number]>>;
  /** Extra fields per prediction record (text, context, dialogueId...), by index. */
  extra?: Partial<PredictionRecord>[];
}

export interface FixtureRun {
  runId: string;
  created: string;
  commit?: string;
  cells: FixtureCell[];
  adapters?: Manifest['adapters'];
  /** Per-cell facts (`<task>/<adapter>/seed-<n>`), what adapters' prepare() returns. */
  cellFacts?: Manifest['cells'];
  datasets?: Manifest['datasets'];
}

export function interval(low: number, high: number): Interval {
  return { low, high, level: 0.95, method: 'percentile bootstrap', resamples: 1000, unit: 'utterance' };
}

function perClassOf(labels: string[], gold: string[], pred: (string | null)[]): Record<string, PerClass> {
  const out: Record<string, PerClass> = {};
  for (const l of labels) {
    const tp = gold.filter((g, i) => g === l && pred[i] === l).length;
    const support = gold.filter((g) => g === l).length;
    const predicted = pred.filter((p) => p === l).length;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    out[l] = { precision, recall, f1, support };
  }
  return out;
}

function confusionOf(labels: string[], gold: string[], pred: (string | null)[]): number[][] {
  const m = labels.map(() => new Array<number>(labels.length + 1).fill(0));
  gold.forEach((g, i) => {
    const p = pred[i];
    const col = p === null || p === undefined ? labels.length : labels.indexOf(p);
    m[labels.indexOf(g)]![col]!++;
  });
  return m;
}

export function metricsFileOf(c: FixtureCell): MetricsFile {
  const unparseable = c.pred.filter((p) => p === null).length;
  const ci: Partial<Record<MetricName, Interval>> = {};
  for (const [k, v] of Object.entries(c.ci ?? {})) ci[k as MetricName] = interval(v[0], v[1]);
  return {
    task: c.task,
    protocol: c.protocol ?? c.task,
    adapter: c.adapter,
    seed: c.seed ?? 1,
    n: c.gold.length,
    headline: c.headline,
    labels: c.labels,
    metrics: { ...c.metrics, parse_rate: (c.gold.length - unparseable) / c.gold.length },
    per_class: perClassOf(c.labels, c.gold, c.pred),
    confusion: { labels: c.labels, matrix: confusionOf(c.labels, c.gold, c.pred) },
    ...(c.ci ? { ci } : {}),
    parse_counts: { ok: c.gold.length - unparseable, unparseable, error: 0 },
  };
}

/** Writes `run` under `root/<runId>/` and returns that folder. */
export function writeRunFolder(root: string, run: FixtureRun): string {
  const dir = join(root, run.runId);
  mkdirSync(dir, { recursive: true });
  const cells: SummaryCell[] = [];
  const adapters: Manifest['adapters'] = { ...(run.adapters ?? {}) };
  for (const c of run.cells) {
    const seed = c.seed ?? 1;
    const m = metricsFileOf(c);
    const mdir = join(dir, 'metrics', c.task, c.adapter);
    mkdirSync(mdir, { recursive: true });
    writeFileSync(join(mdir, `seed-${seed}.json`), `${JSON.stringify(m, null, 2)}\n`);
    const pdir = join(dir, 'predictions', c.task, c.adapter);
    mkdirSync(pdir, { recursive: true });
    const lines = c.gold.map((g, i) => {
      const pred = c.pred[i] ?? null;
      const rec: PredictionRecord = {
        id: `${c.task}-${i + 1}`,
        gold: g,
        pred,
        parse: pred === null ? 'unparseable' : 'ok',
        ...(c.extra?.[i] ?? {}),
      };
      return JSON.stringify(rec);
    });
    writeFileSync(join(pdir, `seed-${seed}.jsonl`), `${lines.join('\n')}\n`);
    const cell: SummaryCell = {
      task: c.task,
      protocol: c.protocol ?? c.task,
      adapter: c.adapter,
      seed,
      headline: c.headline,
      value: c.metrics[c.headline]!,
      n: c.gold.length,
      parse_rate: m.metrics.parse_rate!,
      metrics: m.metrics,
    };
    const ci = m.ci?.[c.headline];
    if (ci) cell.ci = ci;
    cells.push(cell);
    // Adapters the caller did not describe are prompt-free (like the baselines): no template facts.
    adapters[c.adapter] ??= {
      type: 'fixture',
      fingerprint: `fp-${c.adapter}-0123456789abcdef`,
      facts: {},
    };
  }
  const summary: Summary = { run_id: run.runId, created: run.created, cells };
  const seeds = [...new Set(cells.map((c) => c.seed))].sort((a, b) => a - b);
  const manifest: Manifest = {
    run_id: run.runId,
    config_hash: 'cfg',
    config: {},
    git: { commit: run.commit ?? 'abc123def4567890aaaa', dirty: false },
    packages: {},
    node: process.version,
    host: { hostname: 'fixture', platform: 'linux', arch: 'x64', cpus: 1 },
    started: run.created,
    finished: run.created,
    seeds,
    datasets: run.datasets ?? {
      toy: {
        dir: '/data/toy',
        variant: 'v1',
        files: [{ path: 'toy.csv', sha256: 'aa'.repeat(32), bytes: 10 }],
      },
    },
    tasks: {},
    adapters,
    cells: run.cellFacts ?? {},
  };
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return dir;
}

// ---- the scenario the report tests share (numbers worked out by hand in test/reports-*.test.ts) ----

export const TOY3_LABELS = ['joy', 'sad', 'neutral'];
export const TOY3_GOLD = ['joy', 'joy', 'joy', 'joy', 'sad', 'sad', 'sad', 'neutral', 'neutral', 'neutral'];
export const TOY3_A1 = ['joy', 'joy', 'joy', 'sad', 'sad', 'sad', 'joy', 'neutral', 'neutral', null];
export const TOY3_A2 = ['joy', 'joy', 'joy', 'sad', 'sad', 'sad', 'joy', 'neutral', 'neutral', 'neutral'];
export const TOY3_B1 = ['joy', 'joy', 'sad', 'sad', 'sad', 'neutral', 'sad', 'neutral', 'joy', 'neutral'];
export const BIN_LABELS = ['positive', 'negative'];
export const BIN_GOLD = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'positive' : 'negative'));
export const XSS = '<img src=x onerror=alert(1)>';

/**
 * Template facts in the shapes the real adapters write to manifest.json, so provenance is tested
 * against what it will read: adapters/openai/openai-adapter.ts puts `template: { id, hash }` in both
 * its facts() and its per-cell prepare() facts; adapters/onnx-causal-lm/index.ts puts the id in
 * `template` and the hash in `template_hash`. Hashes are sha256 hex, 64 digits, like the templates'.
 */
export const TEMPLATE_A = {
  id: 'peng2023',
  hash: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
};
export const TEMPLATE_B = {
  id: 'dialoguellm',
  hash: 'b0c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d9eaf',
};

export const SCENARIO_ADAPTERS: Manifest['adapters'] = {
  A: {
    type: 'openai',
    fingerprint: 'fp-A-0123456789abcdef',
    facts: {
      model: 'toy-model',
      api: 'chat',
      labelChoiceUsed: ['guided'],
      template: { id: TEMPLATE_A.id, hash: TEMPLATE_A.hash },
      shots: 0,
      parseCounts: { ok: 19, unparseable: 1, error: 0 },
    },
  },
  B: {
    type: 'onnx-causal-lm',
    fingerprint: 'fp-B-0123456789abcdef',
    facts: {
      device: 'cpu',
      model_sha256: 'cd'.repeat(32),
      template: TEMPLATE_B.id,
      template_hash: TEMPLATE_B.hash,
      chat: false,
      shots: 0,
    },
  },
  C: {
    type: 'tfidf-logreg',
    fingerprint: 'fp-C-0123456789abcdef',
    facts: { cells: { 'toy-bin/C/seed-1': { chosen_c: 1 } } },
  },
};

/** openai's prepare() facts for a cell (manifest `cells[...]`). */
function openaiCellFacts(): Record<string, unknown> {
  return { server: 'vllm', labelChoice: 'guided', template: { ...TEMPLATE_A }, shotIds: [] };
}

/**
 * run-1 (older): toy-3 and toy-bin for adapters A and B (seed 1), toy-bin for C.
 * run-2 (newer): toy-3 for A with seed 2.
 * The metric values below are the hand-worked ones documented in test/reports-leaderboard.test.ts.
 */
export function writeScenario(root: string): { run1: string; run2: string } {
  const run1 = writeRunFolder(root, {
    runId: 'run-1',
    created: '2026-01-01T00:00:00.000Z',
    commit: '1111111111111111aaaa',
    adapters: SCENARIO_ADAPTERS,
    cellFacts: {
      'toy-3/A/seed-1': openaiCellFacts(),
      'toy-bin/A/seed-1': openaiCellFacts(),
    },
    cells: [
      {
        task: 'toy-3',
        adapter: 'A',
        headline: 'weighted_f1',
        labels: TOY3_LABELS,
        gold: TOY3_GOLD,
        pred: TOY3_A1,
        metrics: {
          accuracy: 0.7,
          macro_f1: (0.75 + 2 / 3 + 0.8) / 3,
          weighted_f1: 0.74,
          ua: (0.75 + 2 / 3 + 2 / 3) / 3,
        },
        ci: { weighted_f1: [0.5, 0.9] },
      },
      {
        task: 'toy-3',
        adapter: 'B',
        headline: 'weighted_f1',
        labels: TOY3_LABELS,
        gold: TOY3_GOLD,
        pred: TOY3_B1,
        metrics: { accuracy: 0.6, macro_f1: 38 / 63, weighted_f1: 0.6, ua: (0.5 + 2 / 3 + 2 / 3) / 3 },
        ci: { weighted_f1: [0.45, 0.75] },
        extra: TOY3_GOLD.map((_, i) => ({
          dialogueId: 'd1',
          text: i === 2 ? XSS : `utterance ${i + 1}`,
          speaker: i % 2 === 0 ? 'Ann' : 'Bob',
          context: Array.from({ length: i }, (_, j) => ({
            speaker: j % 2 === 0 ? 'Ann' : 'Bob',
            text: j === 1 ? `<script>alert("ctx")</script>` : `utterance ${j + 1}`,
          })),
        })),
      },
      {
        task: 'toy-bin',
        adapter: 'A',
        headline: 'accuracy',
        labels: BIN_LABELS,
        gold: BIN_GOLD,
        pred: BIN_GOLD,
        metrics: { accuracy: 1, macro_f1: 1 },
        ci: { accuracy: [1, 1] },
      },
      {
        task: 'toy-bin',
        adapter: 'B',
        headline: 'accuracy',
        labels: BIN_LABELS,
        gold: BIN_GOLD,
        pred: BIN_GOLD.map(() => 'positive'),
        metrics: { accuracy: 0.5, macro_f1: 1 / 3 },
      },
      {
        task: 'toy-bin',
        adapter: 'C',
        headline: 'accuracy',
        labels: BIN_LABELS,
        gold: BIN_GOLD,
        pred: BIN_GOLD.map((g, i) => (i === 1 || i === 3 || i === 5 ? 'positive' : g)),
        metrics: { accuracy: 0.75, macro_f1: (0.8 + 2 / 3) / 2 },
        ci: { accuracy: [0.5, 1] },
      },
    ],
  });
  const run2 = writeRunFolder(root, {
    runId: 'run-2',
    created: '2026-01-02T00:00:00.000Z',
    commit: '2222222222222222bbbb',
    adapters: { A: SCENARIO_ADAPTERS.A! },
    cellFacts: { 'toy-3/A/seed-2': openaiCellFacts() },
    cells: [
      {
        task: 'toy-3',
        adapter: 'A',
        seed: 2,
        headline: 'weighted_f1',
        labels: TOY3_LABELS,
        gold: TOY3_GOLD,
        pred: TOY3_A2,
        metrics: {
          accuracy: 0.8,
          macro_f1: (0.75 + 2 / 3 + 1) / 3,
          weighted_f1: 0.8,
          ua: (0.75 + 2 / 3 + 1) / 3,
        },
        ci: { weighted_f1: [0.6, 1] },
      },
    ],
  });
  return { run1, run2 };
}
