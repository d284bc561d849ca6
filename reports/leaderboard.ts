/**
 * The leaderboard: adapters by tasks (headline metric with CI or mean ± sd over seeds), average and
 * rank, then per-task detail and per-class tables, each with its provenance. One table model,
 * rendered to terminal, Markdown, LaTeX, CSV, JSON or a self-contained HTML page.
 */
import { InputError, unknownName } from '../harness/errors.ts';
import type { Interval, MetricName } from '../harness/types.ts';
import {
  type Aggregate,
  aggregate,
  buildLeaderboard,
  type Entry,
  entryKey,
  type LeaderboardModel,
  METRIC_LABEL,
  METRIC_ORDER,
  type Provenance,
  provenanceLines,
  provenanceOf,
} from './aggregate.ts';
import { renderHtmlPage } from './html-page.ts';
import { ensurePredictions, loadResults, type ResultSet } from './load-results.ts';
import { layoutProtocols, type PaperLayout, paperLayoutTables } from './paper-layouts.ts';
import { type PairedTest, permutationOnHeadline, testEntries } from './significance.ts';
import {
  latexDocument,
  markBest,
  type ReportTable,
  renderLatexTable,
  renderMarkdownTable,
  renderTerminalTable,
  type TableCell,
  textCell,
} from './table-model.ts';

export const LEADERBOARD_FORMATS = ['terminal', 'md', 'latex', 'csv', 'json', 'html'] as const;
export type LeaderboardFormat = (typeof LEADERBOARD_FORMATS)[number];

export interface LeaderboardOptions {
  format: LeaderboardFormat;
  /** ANSI colours in the terminal format; default: stdout is a TTY and NO_COLOR is unset. */
  color?: boolean;
  /** Terminal: wrap headers and CIs when wider than this (default: the terminal's columns on a TTY). */
  width?: number;
  /** Adapter id of the reference row for significance markers. */
  reference?: string;
  /** Significance level for markers (default 0.05). */
  alpha?: number;
  /** The paired test behind the markers (default: permutation test on the task's headline metric). */
  pairedTest?: PairedTest;
  /** Paper layout instead of the leaderboard (peng2023, dialoguellm). */
  layout?: PaperLayout;
  /** Per-task detail and per-class tables (default true). */
  details?: boolean;
  /** LaTeX: a whole compilable document instead of table environments (default false). */
  standalone?: boolean;
  /** Page title (HTML) and heading (Markdown). */
  title?: string;
}

export const SIGNIFICANCE_MARK = '†';
/** Cells with examples recorded as errors (answers that never came). */
export const ERRORS_MARK = '‡';

export const UNITS_NOTE =
  'Values are percentages (2 decimals). One seed: value [95% CI]; several seeds: mean ± sd over seeds.';

// ---- number formatting ----

export function pct(v: number): string {
  return (v * 100).toFixed(2);
}

export function formatInterval(ci: Interval): string {
  return `[${pct(ci.low)}, ${pct(ci.high)}]`;
}

/** `62.31 [60.90, 63.70]` for one seed with a CI, `62.31 ± 1.20` for several seeds. */
export function formatAggregate(a: Aggregate, withCi = true): string {
  if (a.sd !== undefined) return `${pct(a.mean)} ± ${pct(a.sd)}`;
  if (withCi && a.ci) return `${pct(a.mean)} ${formatInterval(a.ci)}`;
  return pct(a.mean);
}

function numberCell(a: Aggregate | undefined, withCi = true): TableCell {
  if (!a) return { text: '–' };
  return { text: formatAggregate(a, withCi), sort: a.mean };
}

function metricHeader(task: string, headline: MetricName): string {
  return `${task} ${METRIC_LABEL[headline]}`;
}

// ---- significance ----

export interface SignificanceResult {
  task: string;
  adapter: string;
  p: number;
  method: string;
  seed: number;
  pairs: number;
}

/**
 * Paired test of every adapter against `reference` on each task, on the lowest seed both share
 * (seeds are not pooled: that would count each example several times). Pairs that cannot be
 * tested are listed in `missing` with the reason.
 */
export function significanceAgainst(
  model: LeaderboardModel,
  reference: string,
  test: PairedTest = permutationOnHeadline,
): { results: SignificanceResult[]; missing: string[] } {
  if (!model.adapters.includes(reference)) {
    throw new InputError(unknownName('reference adapter', reference, model.adapters));
  }
  const results: SignificanceResult[] = [];
  const missing: string[] = [];
  for (const task of model.tasks) {
    const ref = model.entries.get(entryKey(task.id, reference));
    if (!ref) continue;
    for (const adapter of model.adapters) {
      if (adapter === reference) continue;
      const cand = model.entries.get(entryKey(task.id, adapter));
      if (!cand) continue;
      const r = testEntries(ref, cand, task.headline, test);
      if ('missing' in r) {
        missing.push(`${task.id}/${adapter} (${r.missing})`);
        continue;
      }
      results.push({ task: task.id, adapter, p: r.p, method: r.method, seed: r.seed, pairs: r.pairs });
    }
  }
  return { results, missing };
}

// ---- tables ----

function mainTable(model: LeaderboardModel, opts: LeaderboardOptions): ReportTable {
  const header = ['Rank', 'Adapter', ...model.tasks.map((t) => metricHeader(t.id, t.headline)), 'Average'];
  const align: ('l' | 'r')[] = ['r', 'l', ...model.tasks.map(() => 'r' as const), 'r'];
  const notes = [
    UNITS_NOTE,
    'Average: mean headline over tasks (adapters with every task); rank by average.',
  ];
  let sig: SignificanceResult[] = [];
  if (opts.reference) {
    const alpha = opts.alpha ?? 0.05;
    const s = significanceAgainst(model, opts.reference, opts.pairedTest);
    sig = s.results.filter((r) => r.p < alpha);
    const method = s.results[0]?.method ?? 'paired test';
    notes.push(
      `${SIGNIFICANCE_MARK} differs from ${opts.reference} on the task's headline metric at p < ${alpha} (${method}; paired by example id, lowest shared seed).`,
    );
    if (s.missing.length > 0) notes.push(`No significance test for: ${s.missing.join('; ')}.`);
  }
  // Answers that never came (a server or model failure) count as wrong: a score built on them says
  // little about the model, so such cells are marked and counted under the table.
  const failed: string[] = [];
  const rows: TableCell[][] = model.rows.map((row) => {
    const cells: TableCell[] = [
      row.rank !== undefined ? { text: String(row.rank), sort: row.rank } : textCell('–'),
      textCell(row.adapter),
    ];
    for (const t of model.tasks) {
      const e = model.entries.get(entryKey(t.id, row.adapter));
      const cell = numberCell(e?.headlineValue);
      if (sig.some((s) => s.task === t.id && s.adapter === row.adapter)) cell.mark = SIGNIFICANCE_MARK;
      const errors = (e?.cells ?? []).reduce((a, c) => a + c.metrics.parse_counts.error, 0);
      if (e && errors > 0) {
        cell.mark = `${cell.mark ?? ''}${ERRORS_MARK}`;
        failed.push(`${row.adapter} on ${t.id} ${errors}/${e.n * e.cells.length}`);
      }
      cells.push(cell);
    }
    cells.push(row.average !== undefined ? { text: pct(row.average), sort: row.average } : textCell('–'));
    return cells;
  });
  for (let col = 2; col < header.length; col++) markBest(rows, col);
  if (failed.length > 0)
    notes.push(
      `${ERRORS_MARK} examples recorded as errors (no answer; counted wrong): ${failed.join('; ')}. Redo them with run --retry-errors.`,
    );
  for (const w of model.results.warnings) notes.push(`Merged: ${w}`);
  return {
    id: 'leaderboard',
    title: opts.title ?? 'Leaderboard: headline metric per task (%)',
    header,
    align,
    rows,
    notes,
    provenance: provenanceLines(provenanceOf(model.results.cells, model.results.runs)),
  };
}

function entriesOf(model: LeaderboardModel, task: string): Entry[] {
  return model.rows
    .map((r) => model.entries.get(entryKey(task, r.adapter)))
    .filter((e): e is Entry => e !== undefined);
}

function detailTable(model: LeaderboardModel, task: string): ReportTable {
  const entries = entriesOf(model, task);
  const names = METRIC_ORDER.filter(
    (m) => m !== 'parse_rate' && entries.some((e) => e.metrics[m] !== undefined),
  );
  const header = ['Adapter', ...names.map((m) => METRIC_LABEL[m]), 'Parse rate', 'n'];
  const rows: TableCell[][] = entries.map((e) => [
    textCell(e.adapter),
    ...names.map((m) => numberCell(e.metrics[m])),
    { text: formatAggregate(e.parseRate, false), sort: e.parseRate.mean },
    { text: String(e.n), sort: e.n },
  ]);
  for (let col = 1; col <= names.length; col++) markBest(rows, col);
  const cells = entries.flatMap((e) => e.cells);
  const first = entries[0]!;
  return {
    id: `detail-${task}`,
    title: `${task} (${first.protocol}): every metric (%), headline ${METRIC_LABEL[first.headline]}`,
    header,
    align: ['l', ...names.map(() => 'r' as const), 'r', 'r'],
    rows,
    notes: [UNITS_NOTE, 'Parse rate: share of answers that map to a label; the rest count as wrong.'],
    provenance: provenanceLines(provenanceOf(cells, model.results.runs)),
  };
}

function perClassTable(model: LeaderboardModel, task: string): ReportTable {
  const entries = entriesOf(model, task);
  const rows: TableCell[][] = [];
  for (const e of entries) {
    for (const label of e.labels) {
      const p = e.perClass[label];
      if (!p) continue;
      rows.push([
        textCell(e.adapter),
        textCell(label),
        { text: pct(p.precision), sort: p.precision },
        { text: pct(p.recall), sort: p.recall },
        { text: pct(p.f1), sort: p.f1 },
        { text: String(p.support), sort: p.support },
      ]);
    }
  }
  const cells = entries.flatMap((e) => e.cells);
  const multiSeed = entries.some((e) => e.cells.length > 1);
  return {
    id: `per-class-${task}`,
    title: `${task}: per-class precision, recall and F1 (%)`,
    header: ['Adapter', 'Label', 'P', 'R', 'F1', 'Support'],
    align: ['l', 'l', 'r', 'r', 'r', 'r'],
    rows,
    notes: multiSeed ? ['Several seeds: per-class values are means over seeds.'] : [],
    provenance: provenanceLines(provenanceOf(cells, model.results.runs)),
  };
}

/** Every table of the leaderboard report, in order. */
export function leaderboardTables(model: LeaderboardModel, opts: LeaderboardOptions): ReportTable[] {
  if (opts.layout) {
    const significance = opts.reference
      ? {
          reference: opts.reference,
          alpha: opts.alpha ?? 0.05,
          test: opts.pairedTest ?? permutationOnHeadline,
          mark: SIGNIFICANCE_MARK,
        }
      : undefined;
    return paperLayoutTables(model, opts.layout, significance);
  }
  const tables = [mainTable(model, opts)];
  if (opts.details ?? true) {
    for (const t of model.tasks) tables.push(detailTable(model, t.id), perClassTable(model, t.id));
  }
  return tables;
}

// ---- machine formats ----

function aggregateJson(a: Aggregate) {
  return {
    mean: a.mean,
    sd: a.sd ?? null,
    ci: a.ci
      ? { low: a.ci.low, high: a.ci.high, level: a.ci.level ?? null, method: a.ci.method ?? null }
      : null,
    values: a.values,
    seeds: a.seeds,
  };
}

/** The leaderboard as data: fractions in [0, 1] (not percentages), every metric, provenance. */
export function leaderboardJson(model: LeaderboardModel, opts: Partial<LeaderboardOptions> = {}) {
  const sig = opts.reference
    ? significanceAgainst(model, opts.reference, opts.pairedTest).results
    : ([] as SignificanceResult[]);
  return {
    units: 'fraction',
    tasks: model.tasks,
    reference: opts.reference ?? null,
    leaderboard: model.rows.map((r) => ({
      adapter: r.adapter,
      rank: r.rank ?? null,
      average: r.average ?? null,
      tasks: Object.fromEntries(
        model.tasks
          .filter((t) => model.entries.has(entryKey(t.id, r.adapter)))
          .map((t) => {
            const e = model.entries.get(entryKey(t.id, r.adapter))!;
            const s = sig.find((x) => x.task === t.id && x.adapter === r.adapter);
            return [
              t.id,
              {
                headline: e.headline,
                ...aggregateJson(e.headlineValue),
                n: e.n,
                parse_rate: e.parseRate.mean,
                ...(s ? { p_vs_reference: s.p, test: s.method } : {}),
              },
            ];
          }),
      ),
    })),
    details: [...model.entries.values()].map((e) => ({
      task: e.task,
      protocol: e.protocol,
      adapter: e.adapter,
      n: e.n,
      headline: e.headline,
      metrics: Object.fromEntries(Object.entries(e.metrics).map(([k, a]) => [k, aggregateJson(a)])),
      parse_rate: aggregateJson(e.parseRate),
      per_class: e.perClass,
      confusion: e.confusion,
      runs: [...new Set(e.cells.map((c) => c.runId))],
    })),
    provenance: provenanceOf(model.results.cells, model.results.runs),
    warnings: model.results.warnings,
  };
}

/**
 * One CSV field. Fields holding "#" are quoted too: the provenance lines start with "#", readers
 * skip them with pandas' `comment="#"` or R's `comment.char = "#"`, and both treat a "#" outside
 * quotes as the start of a comment even in the middle of a line.
 */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : v;
  return /[",\r\n#]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Percent without float noise (0.1 * 100 = 10.000000000000002), kept to 6 decimals. */
function pctNumber(v: number | undefined): number | null {
  return v === undefined ? null : Number((v * 100).toFixed(6));
}

/** How to read the CSV files: said in their first comment line too. */
export const CSV_READING =
  'Lines starting with # are comments (provenance, notes): pandas.read_csv(path, comment="#"); R read.csv(path, comment.char = "#").';

/** `key=value`, the value quoted (JSON) when it has spaces, "=", quotes or nothing at all. */
function kv(key: string, value: string | number | boolean | null): string {
  const s = String(value);
  return `${key}=${s === '' || /[\s="\\]/.test(s) ? JSON.stringify(s) : s}`;
}

function commentLine(text: string): string {
  return `# ${text.replace(/[\r\n]+/g, ' ')}`;
}

/**
 * Provenance as `#` lines of `kind: id key=value...`, with full hashes (the text formats shorten
 * them to 12 digits): one line per run, adapter, dataset and dataset file, then the seeds.
 */
export function provenanceComments(p: Provenance, warnings: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const r of p.runs) {
    const parts = [`run: ${r.runId}`, kv('git', r.commit), kv('dirty', r.dirty), kv('created', r.created)];
    if (r.mergedFrom) parts.push(kv('merged_from', r.mergedFrom.join(' ')));
    out.push(parts.join(' '));
  }
  out.push(`seeds: ${p.seeds.join(' ')}`);
  for (const a of p.adapters) {
    const parts = [`adapter: ${a.id}`, kv('type', a.type), kv('fingerprint', a.fingerprint)];
    for (const [name, t] of Object.entries(a.templates)) {
      if (t.id !== undefined) parts.push(kv(name, t.id));
      if (t.hash !== undefined) parts.push(kv(`${name}_hash`, t.hash));
    }
    out.push(parts.join(' '));
  }
  for (const d of p.datasets) {
    const parts = [`dataset: ${d.id}`];
    if (d.variant !== undefined) parts.push(kv('variant', d.variant));
    parts.push(kv('files', d.files), kv('sha256', d.sha256));
    out.push(parts.join(' '));
    for (const f of d.fileHashes)
      out.push(`dataset_file: ${d.id} ${kv('path', f.path)} ${kv('sha256', f.sha256)}`);
  }
  for (const w of warnings) out.push(`warning: ${w}`);
  return out.map(commentLine);
}

export const CSV_COLUMNS = [
  'task',
  'protocol',
  'adapter',
  'metric',
  'is_headline',
  'seeds',
  'mean_pct',
  'sd_pct',
  'ci_low_pct',
  'ci_high_pct',
  'n',
  'parse_rate_pct',
  'rank',
  'runs',
  // Per-class rows only (appended, so columns read by position before these existed keep theirs).
  'class',
  'support',
] as const;

export const PER_CLASS_METRICS = ['precision', 'recall', 'f1'] as const;

/**
 * Tidy CSV in percent, after `#` provenance lines. Rows, all with the columns of CSV_COLUMNS:
 *   - one per task, adapter and metric (`class` empty);
 *   - one per task, adapter, class and per-class metric (`metric` precision, recall or f1; `class`
 *     the label; `support` its gold count), mean and sd over seeds like the other rows;
 *   - one `(average)` row per ranked adapter (metric `headline`).
 */
export function leaderboardCsv(model: LeaderboardModel): string {
  const lines = [
    commentLine(
      'emotion-eval leaderboard, tidy CSV: one row per task, adapter and metric, or per task, adapter, class and per-class metric (class and support set); values in percent.',
    ),
    commentLine(CSV_READING),
    ...provenanceComments(provenanceOf(model.results.cells, model.results.runs), model.results.warnings),
    CSV_COLUMNS.join(','),
  ];
  const row = (fields: (string | number | null | undefined)[]) => lines.push(fields.map(csvField).join(','));
  for (const r of model.rows) {
    for (const t of model.tasks) {
      const e = model.entries.get(entryKey(t.id, r.adapter));
      if (!e) continue;
      const runs = [...new Set(e.cells.map((c) => c.runId))].join(' ');
      const common = (a: Aggregate) => [
        a.seeds.join(' '),
        pctNumber(a.mean),
        pctNumber(a.sd),
        pctNumber(a.ci?.low),
        pctNumber(a.ci?.high),
        e.n,
        pctNumber(e.parseRate.mean),
        r.rank ?? null,
        runs,
      ];
      for (const [name, a] of Object.entries(e.metrics) as [MetricName, Aggregate][]) {
        row([
          e.task,
          e.protocol,
          e.adapter,
          name,
          name === e.headline ? 'true' : 'false',
          ...common(a),
          '',
          '',
        ]);
      }
      for (const label of e.labels) {
        const support = e.perClass[label]?.support;
        if (support === undefined) continue;
        const present = e.cells.filter((c) => c.metrics.per_class[label] !== undefined);
        for (const m of PER_CLASS_METRICS) {
          const a = aggregate(
            present.map((c) => c.metrics.per_class[label]![m]),
            present.map((c) => c.seed),
          );
          row([e.task, e.protocol, e.adapter, m, 'false', ...common(a), label, support]);
        }
      }
    }
    if (r.average !== undefined) {
      const a = pctNumber(r.average);
      row(['(average)', '', r.adapter, 'headline', 'true', '', a, '', '', '', '', '', r.rank, '', '', '']);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Generic tables (paper layouts) as CSV blocks: per table a `#` line with its id and title, its
 * notes as `#` lines, a header row whose first column is `table`, the rows, a blank line.
 */
export function tablesCsv(tables: readonly ReportTable[]): string {
  const out: string[] = [];
  for (const t of tables) {
    out.push(commentLine(`table ${t.id}: ${t.title}`));
    for (const n of t.notes) out.push(commentLine(`note: ${n}`));
    out.push(['table', ...t.header].map(csvField).join(','));
    for (const row of t.rows) {
      out.push(
        // "–" (not reported) is an empty field in CSV, so numeric columns load as numbers.
        [
          t.id,
          ...row.map((c) =>
            c.text === '–' && !c.mark && !c.footnote
              ? ''
              : c.text + (c.mark ?? '') + (c.footnote ? ` [${c.footnote}]` : ''),
          ),
        ]
          .map(csvField)
          .join(','),
      );
    }
    out.push('');
  }
  return out.join('\n');
}

/**
 * A paper layout as CSV: how to read it and the provenance of its measured rows as `#` lines,
 * the layout's tables, then per-class P/R/F1/support tables of the tasks its measured rows read.
 * The blocks have different columns: split on blank lines and read each block on its own.
 */
export function layoutCsv(
  model: LeaderboardModel,
  layout: PaperLayout,
  tables: readonly ReportTable[],
): string {
  const protocols = layoutProtocols(layout);
  const tasks = protocols.filter((p) => model.tasks.some((t) => t.id === p)); // in the layout's order
  const cells = model.results.cells.filter((c) => protocols.includes(c.task));
  const head = [
    commentLine(
      `emotion-eval paper layout ${layout}: one block per table (a header row whose first column is "table", its rows, a blank line), then per-class tables; values in percent.`,
    ),
    commentLine(`${CSV_READING} Blocks have different columns: split the file on blank lines first.`),
    ...(cells.length > 0 ? provenanceComments(provenanceOf(cells, model.results.runs)) : []),
  ];
  const perClass = tasks.map((t) => perClassTable(model, t));
  return `${head.join('\n')}\n${tablesCsv([...tables, ...perClass])}`;
}

/** Generic tables (paper layouts) as JSON. */
export function tablesJson(tables: readonly ReportTable[]) {
  return tables.map((t) => ({
    id: t.id,
    title: t.title,
    header: t.header,
    rows: t.rows.map((row, i) => ({
      reported: t.reportedRows?.includes(i) ?? false,
      cells: row.map((c) => ({
        text: c.text,
        value: c.sort ?? null,
        mark: c.mark ?? null,
        footnote: c.footnote ?? null,
      })),
    })),
    notes: t.notes,
    provenance: t.provenance,
  }));
}

// ---- entry points ----

/** Renders the leaderboard (or a paper layout) of `results` in one format. */
export function renderLeaderboard(results: ResultSet, opts: LeaderboardOptions): string {
  if (!LEADERBOARD_FORMATS.includes(opts.format)) {
    throw new InputError(unknownName('format', String(opts.format), LEADERBOARD_FORMATS));
  }
  if (results.cells.length === 0) throw new InputError('no result cells to report');
  const model = buildLeaderboard(results);
  const tables = leaderboardTables(model, opts);
  switch (opts.format) {
    case 'terminal': {
      // Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
      const color = opts.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
      const width = opts.width ?? (process.stdout.isTTY ? process.stdout.columns : undefined);
      return `${tables.map((t) => renderTerminalTable(t, color, width)).join('\n\n')}\n`;
    }
    case 'md':
      return [
        `# ${opts.title ?? 'emotion-eval results'}`,
        '',
        ...tables.map((t) => renderMarkdownTable(t)),
      ].join('\n');
    case 'latex': {
      const body = tables.map(renderLatexTable).join('\n');
      return opts.standalone ? latexDocument(body) : body;
    }
    case 'csv':
      return opts.layout ? layoutCsv(model, opts.layout, tables) : leaderboardCsv(model);
    case 'json':
      return `${JSON.stringify(opts.layout ? tablesJson(tables) : leaderboardJson(model, opts), null, 2)}\n`;
    case 'html':
      return renderHtmlPage(model, tables, { title: opts.title ?? 'emotion-eval results' });
  }
}

/**
 * What the CLI's `leaderboard` command calls: reads the folders (with predictions when the format
 * or a reference row needs them) and renders.
 */
export async function leaderboard(dirs: readonly string[], opts: LeaderboardOptions): Promise<string> {
  const needPredictions = opts.format === 'html' || opts.reference !== undefined;
  const results = await loadResults(dirs);
  if (needPredictions) await ensurePredictions(results);
  return renderLeaderboard(results, opts);
}
