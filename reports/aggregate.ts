/**
 * Seeds folded into one entry per (task, adapter): the numbers every table, layout and chart
 * shows. One seed keeps its confidence interval; several seeds give mean and sample sd.
 */
import { createHash } from 'node:crypto';
import { METRIC_NAMES } from '../harness/metrics.ts';
import type { Interval, MetricName, PerClass } from '../harness/types.ts';
import type { LoadedRun, ResultCell, ResultSet } from './load-results.ts';

/** A value over seeds. `ci` only when there is one seed (the run's own bootstrap interval). */
export interface Aggregate {
  mean: number;
  /** Sample standard deviation over seeds (n - 1); undefined for one seed. */
  sd?: number;
  ci?: Interval;
  values: number[];
  seeds: number[];
}

export interface Entry {
  task: string;
  protocol: string;
  adapter: string;
  headline: MetricName;
  headlineValue: Aggregate;
  metrics: Partial<Record<MetricName, Aggregate>>;
  parseRate: Aggregate;
  /** Examples per seed (the same for every seed of a task). */
  n: number;
  labels: string[];
  /** Mean per-class precision, recall and F1 over seeds; support from the first seed. */
  perClass: Record<string, PerClass>;
  /** Confusion counts summed over seeds (rows gold, columns labels + `<none>`). */
  confusion: { labels: string[]; matrix: number[][] };
  cells: ResultCell[];
}

export interface TaskInfo {
  id: string;
  protocol: string;
  headline: MetricName;
}

export interface LeaderboardRow {
  adapter: string;
  /** Mean headline over tasks, only when the adapter has every task. */
  average?: number;
  rank?: number;
}

export interface LeaderboardModel {
  tasks: TaskInfo[];
  adapters: string[];
  /** Rows in rank order (complete rows first), then adapters missing a task, by name. */
  rows: LeaderboardRow[];
  entries: Map<string, Entry>;
  results: ResultSet;
}

/** Canonical order of metrics in tables: the order metrics files list them (architecture doc, section 5). */
export const METRIC_ORDER: readonly MetricName[] = METRIC_NAMES;

export const METRIC_LABEL: Record<MetricName, string> = {
  accuracy: 'Acc',
  macro_f1: 'Macro-F1',
  weighted_f1: 'W-F1',
  micro_f1: 'Micro-F1',
  micro_f1_excl_neutral: 'Micro-F1 (excl. neutral)',
  ua: 'UA',
  wa: 'WA',
  pos_neg_f1: 'Pos/Neg F1',
  parse_rate: 'Parse rate',
};

export function entryKey(task: string, adapter: string): string {
  return `${task}\u0000${adapter}`;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1), the usual "mean ± sd over seeds". */
export function sampleSd(xs: readonly number[]): number | undefined {
  if (xs.length < 2) return undefined;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export function aggregate(values: readonly number[], seeds: readonly number[], ci?: Interval): Aggregate {
  const a: Aggregate = { mean: mean(values), values: [...values], seeds: [...seeds] };
  const sd = sampleSd(values);
  if (sd !== undefined) a.sd = sd;
  else if (ci) a.ci = ci;
  return a;
}

function buildEntry(cells: ResultCell[]): Entry {
  cells.sort((a, b) => a.seed - b.seed);
  const first = cells[0]!;
  const seeds = cells.map((c) => c.seed);
  const headline = first.metrics.headline as MetricName;
  const metricNames = new Set<MetricName>();
  for (const c of cells) for (const k of Object.keys(c.metrics.metrics)) metricNames.add(k as MetricName);
  const metrics: Partial<Record<MetricName, Aggregate>> = {};
  for (const name of METRIC_ORDER) {
    if (!metricNames.has(name)) continue;
    const present = cells.filter((c) => c.metrics.metrics[name] !== undefined);
    metrics[name] = aggregate(
      present.map((c) => c.metrics.metrics[name]!),
      present.map((c) => c.seed),
      present.length === 1 ? present[0]!.metrics.ci?.[name] : undefined,
    );
  }
  const labels = first.metrics.confusion.labels;
  const perClass: Record<string, PerClass> = {};
  for (const label of first.metrics.labels) {
    const rows = cells.map((c) => c.metrics.per_class[label]).filter((p): p is PerClass => p !== undefined);
    if (rows.length === 0) continue;
    perClass[label] = {
      precision: mean(rows.map((p) => p.precision)),
      recall: mean(rows.map((p) => p.recall)),
      f1: mean(rows.map((p) => p.f1)),
      support: rows[0]!.support,
    };
  }
  const matrix = labels.map(() => new Array<number>(labels.length + 1).fill(0));
  for (const c of cells) {
    c.metrics.confusion.matrix.forEach((row, i) => {
      row.forEach((v, j) => {
        if (matrix[i] && j < matrix[i]!.length) matrix[i]![j]! += v;
      });
    });
  }
  return {
    task: first.task,
    protocol: first.protocol,
    adapter: first.adapter,
    headline,
    headlineValue: aggregate(
      cells.map((c) => c.summary.value),
      seeds,
      cells.length === 1 ? first.summary.ci : undefined,
    ),
    metrics,
    parseRate: aggregate(
      cells.map((c) => c.summary.parse_rate),
      seeds,
    ),
    n: first.summary.n,
    labels: first.metrics.labels,
    perClass,
    confusion: { labels: [...labels], matrix },
    cells,
  };
}

/** Competition ranking (1, 2, 2, 4) of values, higher is better. */
export function competitionRanks(values: readonly number[]): number[] {
  return values.map((v) => 1 + values.filter((w) => w > v).length);
}

/** Groups cells by (task, adapter), averages seeds, and ranks adapters by mean headline over tasks. */
export function buildLeaderboard(results: ResultSet): LeaderboardModel {
  const groups = new Map<string, ResultCell[]>();
  const tasks: TaskInfo[] = [];
  const adapters: string[] = [];
  for (const c of results.cells) {
    if (!tasks.some((t) => t.id === c.task)) {
      tasks.push({ id: c.task, protocol: c.protocol, headline: c.metrics.headline as MetricName });
    }
    if (!adapters.includes(c.adapter)) adapters.push(c.adapter);
    const key = entryKey(c.task, c.adapter);
    const list = groups.get(key) ?? [];
    list.push(c);
    groups.set(key, list);
  }
  const entries = new Map<string, Entry>();
  for (const [key, cells] of groups) entries.set(key, buildEntry(cells));

  const complete = adapters.filter((a) => tasks.every((t) => entries.has(entryKey(t.id, a))));
  const averages = complete.map((a) =>
    mean(tasks.map((t) => entries.get(entryKey(t.id, a))!.headlineValue.mean)),
  );
  const ranks = competitionRanks(averages);
  const rows: LeaderboardRow[] = complete.map((adapter, i) => ({
    adapter,
    average: averages[i]!,
    rank: ranks[i]!,
  }));
  rows.sort((a, b) => a.rank! - b.rank! || a.adapter.localeCompare(b.adapter));
  for (const a of [...adapters].sort()) if (!complete.includes(a)) rows.push({ adapter: a });
  return { tasks, adapters, rows, entries, results };
}

// ---- provenance ----

/** A prompt template as an adapter recorded it: its id and the sha256 of its definition. */
export interface TemplateFact {
  id?: string;
  hash?: string;
}

export interface Provenance {
  runs: {
    runId: string;
    commit: string | null;
    dirty: boolean | null;
    created: string;
    /** Shard runs this run was merged from (`emotion-eval merge`). */
    mergedFrom?: string[];
  }[];
  seeds: number[];
  adapters: {
    id: string;
    type: string;
    fingerprint: string;
    /** By fact name (`template` for the built-in adapters); empty for adapters without a prompt. */
    templates: Record<string, TemplateFact>;
  }[];
  datasets: {
    id: string;
    variant?: string;
    files: number;
    /** First 12 hex digits of `sha256`: what the text formats print. */
    digest: string;
    /** sha256 over the newline-joined sha256 of every file read, in manifest order. */
    sha256: string;
    fileHashes: { path: string; sha256: string }[];
  }[];
}

function squash(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Whether manifest dataset `id` is the one behind `protocol` (e.g. cmu-mosi behind mosi-2). */
function datasetMatches(id: string, protocol: string): boolean {
  const stem = squash(protocol.replace(/-[^-]*$/, ''));
  const d = squash(id);
  return stem.length > 0 && (d.includes(stem) || stem.includes(d));
}

const HASH_SUFFIX = /[_-]?(?:hash|sha256)$/i;

/**
 * Prompt templates in adapter facts, whatever shape the adapter chose. The built-in ones write
 * `template: { id, hash }` (openai) or `template: id` next to `template_hash: hash`
 * (onnx-causal-lm); plugins may use other `*template*` keys. A key ending in hash/sha256 is the hash
 * of the template named by the key without that suffix, so both layouts end up as one { id, hash }.
 */
export function templateFacts(facts: Record<string, unknown> | undefined): Record<string, TemplateFact> {
  const out: Record<string, TemplateFact> = {};
  for (const [key, value] of Object.entries(facts ?? {})) {
    if (!/template/i.test(key)) continue;
    if (typeof value === 'string' || typeof value === 'number') {
      // A long or multi-line string is the template's text (e.g. a chat template), not its name.
      if (typeof value === 'string' && (value.length > 200 || /[\r\n]/.test(value))) continue;
      const base = key.replace(HASH_SUFFIX, '') || key;
      const t: TemplateFact = out[base] ?? {};
      if (HASH_SUFFIX.test(key)) t.hash = String(value);
      else t.id = String(value);
      out[base] = t;
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const v = value as Record<string, unknown>;
      const t: TemplateFact = {};
      if (typeof v.id === 'string') t.id = v.id;
      const hash = v.hash ?? v.sha256;
      if (typeof hash === 'string') t.hash = hash;
      if (t.id !== undefined || t.hash !== undefined) out[key] = { ...out[key], ...t };
    }
  }
  return out;
}

/**
 * Templates of adapter `id` in `run`: from the adapter's end-of-run facts, filled in from the
 * per-cell facts its `prepare` wrote (all a run has when it stopped before the adapter's facts).
 */
function adapterTemplates(
  run: LoadedRun,
  id: string,
  cells: readonly ResultCell[],
): Record<string, TemplateFact> {
  const merged: Record<string, TemplateFact> = {};
  const cellFacts = run.manifest.cells ?? {};
  for (const c of cells) {
    if (c.adapter !== id || c.runId !== run.runId) continue;
    for (const [k, t] of Object.entries(templateFacts(cellFacts[`${c.task}/${id}/seed-${c.seed}`]))) {
      merged[k] = { ...merged[k], ...t };
    }
  }
  for (const [k, t] of Object.entries(templateFacts(run.manifest.adapters[id]?.facts))) {
    merged[k] = { ...merged[k], ...t };
  }
  return merged;
}

/** What produced `cells`: runs with git commits, seeds, adapter fingerprints and templates, data read. */
export function provenanceOf(cells: readonly ResultCell[], runs: readonly LoadedRun[]): Provenance {
  const runIds = [...new Set(cells.map((c) => c.runId))];
  const used = runs.filter((r) => runIds.includes(r.runId));
  const seeds = [...new Set(cells.map((c) => c.seed))].sort((a, b) => a - b);
  const adapters: Provenance['adapters'] = [];
  for (const id of [...new Set(cells.map((c) => c.adapter))]) {
    for (const run of used) {
      const a = run.manifest.adapters[id];
      if (!a || !cells.some((c) => c.adapter === id && c.runId === run.runId)) continue;
      if (!adapters.some((x) => x.id === id && x.fingerprint === a.fingerprint)) {
        adapters.push({
          id,
          type: a.type,
          fingerprint: a.fingerprint,
          templates: adapterTemplates(run, id, cells),
        });
      }
    }
  }
  const protocols = [...new Set(cells.map((c) => c.protocol))];
  const datasets: Provenance['datasets'] = [];
  for (const run of used) {
    const all = Object.entries(run.manifest.datasets);
    const matched = all.filter(([id]) => protocols.some((p) => datasetMatches(id, p)));
    for (const [id, d] of matched.length > 0 ? matched : all) {
      const sha256 = createHash('sha256')
        .update(d.files.map((f) => f.sha256).join('\n'))
        .digest('hex');
      if (datasets.some((x) => x.id === id && x.sha256 === sha256)) continue;
      const entry: Provenance['datasets'][number] = {
        id,
        files: d.files.length,
        digest: sha256.slice(0, 12),
        sha256,
        fileHashes: d.files.map((f) => ({ path: f.path, sha256: f.sha256 })),
      };
      if (d.variant !== undefined) entry.variant = d.variant;
      datasets.push(entry);
    }
  }
  return {
    runs: used.map((r) => ({
      runId: r.runId,
      commit: r.manifest.git.commit,
      dirty: r.manifest.git.dirty,
      created: r.summary.created,
      ...(r.manifest.merged_from?.length ? { mergedFrom: r.manifest.merged_from } : {}),
    })),
    seeds,
    adapters,
    datasets,
  };
}

/** `template peng2023 hash 1a2b3c4d5e6f`: the id in full, hashes to 12 digits like fingerprints. */
export function templateText(name: string, t: TemplateFact): string {
  return [name, t.id, t.hash !== undefined ? `hash ${t.hash.slice(0, 12)}` : undefined]
    .filter((x) => x !== undefined)
    .join(' ');
}

/** Provenance as short lines, the same in every format. */
export function provenanceLines(p: Provenance): string[] {
  const lines: string[] = [];
  lines.push(
    `Runs: ${p.runs
      .map((r) => {
        const merged = r.mergedFrom ? `, merged from ${r.mergedFrom.length} shards` : '';
        return `${r.runId} (git ${r.commit ? r.commit.slice(0, 12) : 'unknown'}${r.dirty ? ', dirty' : ''}${merged})`;
      })
      .join('; ')}`,
  );
  lines.push(`Seeds: ${p.seeds.join(', ')}`);
  if (p.adapters.length > 0) {
    lines.push(
      `Adapters: ${p.adapters
        .map((a) => {
          const t = Object.entries(a.templates).map(([k, v]) => `, ${templateText(k, v)}`);
          return `${a.id} [${a.type}] fingerprint ${a.fingerprint.slice(0, 12)}${t.join('')}`;
        })
        .join('; ')}`,
    );
  }
  if (p.datasets.length > 0) {
    lines.push(
      `Data read: ${p.datasets
        .map(
          (d) => `${d.id}${d.variant ? ` (variant ${d.variant})` : ''}, ${d.files} files, sha256 ${d.digest}`,
        )
        .join('; ')}`,
    );
  }
  return lines;
}
