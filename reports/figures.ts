/**
 * Figures for papers: grouped bars of the headline metric with CI error bars, row-normalised
 * confusion-matrix heatmaps, per-class F1 bars, and a comparison chart of two runs. Sized for one
 * column of a two-column paper (3.3 in at 300 dpi), Okabe-Ito colours, the bundled font.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Chart, ChartConfiguration, Plugin } from 'chart.js';
import { InputError, unknownName } from '../harness/errors.ts';
import type { MetricName } from '../harness/types.ts';
import { buildLeaderboard, type Entry, entryKey, type LeaderboardModel } from './aggregate.ts';
import { FIGURE_FORMATS, FIGURE_WIDTH, type FigureFormat, renderChart } from './chart-canvas.ts';
import { FIGURE_FONT } from './fonts.ts';
import type { ResultSet } from './load-results.ts';

export type { FigureFormat } from './chart-canvas.ts';

/** Okabe & Ito (2008), colour-blind-safe; yellow last (weak on white). */
export const OKABE_ITO = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#56B4E9',
  '#CC79A7',
  '#000000',
  '#F0E442',
];

const FONT = { base: 30, title: 34, small: 26 };

/** Compact metric names for axis labels. */
export const SHORT_METRIC: Record<MetricName, string> = {
  accuracy: 'Acc',
  macro_f1: 'M-F1',
  weighted_f1: 'W-F1',
  micro_f1: 'µ-F1',
  micro_f1_excl_neutral: 'µ-F1 excl. neu.',
  ua: 'UA',
  wa: 'WA',
  pos_neg_f1: 'P/N-F1',
  parse_rate: 'parse',
};

export interface FiguresOptions {
  outDir: string;
  format: FigureFormat;
  /** Which figures (default all): headline bars, confusion matrices, per-class F1. */
  include?: readonly ('headline' | 'confusion' | 'per-class')[];
}

/** Error bars read from each dataset's `errorBars` ([low, high] in axis units, or null). */
const errorBarsPlugin: Plugin<'bar'> = {
  id: 'errorBars',
  afterDatasetsDraw(chart: Chart<'bar'>) {
    const { ctx } = chart;
    const horizontal = chart.options.indexAxis === 'y';
    chart.data.datasets.forEach((ds, di) => {
      const bars = (ds as { errorBars?: ([number, number] | null)[] }).errorBars;
      const meta = chart.getDatasetMeta(di);
      if (!bars || meta.hidden) return;
      const scale = horizontal ? chart.scales[meta.xAxisID!]! : chart.scales[meta.yAxisID!]!;
      ctx.save();
      ctx.strokeStyle = '#1b1b1b';
      ctx.lineWidth = 3;
      meta.data.forEach((el, i) => {
        const b = bars[i];
        if (!b) return;
        const p = el.getProps(['x', 'y', 'width', 'height'], true) as {
          x: number;
          y: number;
          width: number;
          height: number;
        };
        const lo = scale.getPixelForValue(b[0]);
        const hi = scale.getPixelForValue(b[1]);
        const cap = Math.max(6, Math.min(16, (horizontal ? p.height : p.width) * 0.3));
        ctx.beginPath();
        if (horizontal) {
          ctx.moveTo(lo, p.y);
          ctx.lineTo(hi, p.y);
          for (const x of [lo, hi]) {
            ctx.moveTo(x, p.y - cap);
            ctx.lineTo(x, p.y + cap);
          }
        } else {
          ctx.moveTo(p.x, lo);
          ctx.lineTo(p.x, hi);
          for (const y of [lo, hi]) {
            ctx.moveTo(p.x - cap, y);
            ctx.lineTo(p.x + cap, y);
          }
        }
        ctx.stroke();
      });
      ctx.restore();
    });
  },
};

/** Percent of the gold row written in each matrix cell. */
const matrixLabelsPlugin: Plugin<'matrix'> = {
  id: 'matrixLabels',
  afterDatasetsDraw(chart: Chart<'matrix'>) {
    const { ctx } = chart;
    const meta = chart.getDatasetMeta(0);
    const data = chart.data.datasets[0]!.data as { x: string; y: string; v: number }[];
    ctx.save();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.font = `${FONT.small}px ${FIGURE_FONT}`;
    meta.data.forEach((el, i) => {
      const d = data[i]!;
      const p = el.getProps(['x', 'y', 'width', 'height'], true) as {
        x: number;
        y: number;
        width: number;
        height: number;
      };
      ctx.fillStyle = d.v > 0.5 ? '#ffffff' : '#1b1b1b';
      ctx.fillText((d.v * 100).toFixed(0), p.x + p.width / 2, p.y + p.height / 2);
    });
    ctx.restore();
  },
};

function axisTitle(text: string) {
  return { display: true, text, font: { size: FONT.base } };
}

function baseOptions(title: string) {
  return {
    layout: { padding: 12 },
    plugins: {
      title: { display: true, text: title, font: { size: FONT.title, weight: 'bold' as const }, padding: 8 },
      legend: {
        display: true,
        position: 'top' as const,
        labels: { font: { size: FONT.base }, boxWidth: 28, boxHeight: 20 },
      },
      tooltip: { enabled: false },
    },
  };
}

function colour(i: number): string {
  return OKABE_ITO[i % OKABE_ITO.length]!;
}

/** Bars of the headline metric per task, one colour per adapter; whiskers: 95% CI or ± sd. */
export function headlineChart(model: LeaderboardModel): ChartConfiguration<'bar'> {
  const multiSeed = [...model.entries.values()].some((e) => e.cells.length > 1);
  const datasets = model.rows.map((r, i) => {
    const entries = model.tasks.map((t) => model.entries.get(entryKey(t.id, r.adapter)));
    return {
      label: r.adapter,
      data: entries.map((e) => (e ? e.headlineValue.mean * 100 : Number.NaN)),
      backgroundColor: colour(i),
      errorBars: entries.map((e) => whisker(e)),
    };
  });
  // Horizontal bars: task names stay readable however many tasks there are (no rotated labels).
  return {
    type: 'bar',
    data: { labels: model.tasks.map((t) => `${t.id} (${SHORT_METRIC[t.headline]})`), datasets },
    options: {
      ...baseOptions('Headline metric per task'),
      indexAxis: 'y',
      scales: {
        y: { ticks: { font: { size: FONT.base }, autoSkip: false }, grid: { display: false } },
        x: {
          min: 0,
          max: 100,
          ticks: { font: { size: FONT.base }, stepSize: 20 },
          title: axisTitle(multiSeed ? '% (whiskers: 95% CI or ± sd)' : '% (whiskers: 95% CI)'),
        },
      },
    },
    plugins: [errorBarsPlugin],
  } as ChartConfiguration<'bar'>;
}

/** Height that leaves each bar about 30 px at 300 dpi. */
export function headlineHeight(model: LeaderboardModel): number {
  return Math.max(500, 230 + model.tasks.length * (model.rows.length * 34 + 26));
}

function whisker(e: Entry | undefined): [number, number] | null {
  if (!e) return null;
  const a = e.headlineValue;
  if (a.sd !== undefined) return [(a.mean - a.sd) * 100, (a.mean + a.sd) * 100];
  if (a.ci) return [a.ci.low * 100, a.ci.high * 100];
  return null;
}

/** Per-class F1 bars for one task: labels on the axis, one colour per adapter. */
export function perClassChart(model: LeaderboardModel, task: string): ChartConfiguration<'bar'> {
  const entries = model.rows
    .map((r) => model.entries.get(entryKey(task, r.adapter)))
    .filter((e): e is Entry => e !== undefined);
  const labels = entries[0]?.labels ?? [];
  return {
    type: 'bar',
    data: {
      labels,
      datasets: entries.map((e) => ({
        label: e.adapter,
        data: labels.map((l) => (e.perClass[l]?.f1 ?? 0) * 100),
        // Same colour per adapter as in the headline chart (rows order).
        backgroundColor: colour(model.rows.findIndex((r) => r.adapter === e.adapter)),
      })),
    },
    options: {
      ...baseOptions(`${task}: F1 per class`),
      scales: {
        x: {
          ticks: { font: { size: FONT.base }, maxRotation: 45, minRotation: 0 },
          grid: { display: false },
        },
        y: {
          min: 0,
          max: 100,
          ticks: { font: { size: FONT.base }, stepSize: 20 },
          title: axisTitle('F1 (%)'),
        },
      },
    },
  } as ChartConfiguration<'bar'>;
}

/** Row-normalised confusion matrix (share of each gold label); `<none>` only when used. */
export function confusionChart(e: Entry): ChartConfiguration<'matrix'> {
  const labels = e.confusion.labels;
  const none = e.confusion.matrix.some((row) => (row[labels.length] ?? 0) > 0);
  const cols = none ? [...labels, '<none>'] : [...labels];
  const data: { x: string; y: string; v: number }[] = [];
  e.confusion.matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    cols.forEach((c, j) => {
      data.push({ x: c, y: labels[i]!, v: total > 0 ? row[j]! / total : 0 });
    });
  });
  const seeds = e.cells.map((c) => c.seed);
  const base = baseOptions(
    `${e.task}: ${e.adapter}${seeds.length > 1 ? ` (seeds ${seeds.join(', ')} summed)` : ''}`,
  );
  return {
    type: 'matrix',
    data: {
      datasets: [
        {
          label: e.adapter,
          data,
          backgroundColor: (ctx: { dataIndex: number }) =>
            `rgba(0, 114, 178, ${(0.06 + 0.94 * (data[ctx.dataIndex]?.v ?? 0)).toFixed(3)})`,
          borderColor: '#ffffff',
          borderWidth: 2,
          width: ({ chart }: { chart: Chart }) => (chart.chartArea?.width ?? 0) / cols.length - 2,
          height: ({ chart }: { chart: Chart }) => (chart.chartArea?.height ?? 0) / labels.length - 2,
        },
      ],
    },
    options: {
      ...base,
      plugins: { ...base.plugins, legend: { display: false } },
      scales: {
        x: {
          type: 'category',
          labels: cols,
          offset: true,
          ticks: { font: { size: FONT.small }, maxRotation: 60, minRotation: 0, autoSkip: false },
          grid: { display: false },
          title: axisTitle('predicted'),
        },
        y: {
          type: 'category',
          labels,
          offset: true,
          reverse: false,
          ticks: { font: { size: FONT.small }, autoSkip: false },
          grid: { display: false },
          title: axisTitle('gold (row %)'),
        },
      },
    },
    plugins: [matrixLabelsPlugin],
  } as unknown as ChartConfiguration<'matrix'>;
}

/** One bar per task and adapter: candidate minus baseline, in percentage points, with its CI. */
export interface ComparisonRow {
  task: string;
  adapter: string;
  /** Fractions (candidate - baseline), e.g. -0.012. */
  delta: number;
  low: number;
  high: number;
  /** Optional: marks the bar as significant in its label. */
  significant?: boolean;
}

export function comparisonChart(
  rows: readonly ComparisonRow[],
  title = 'Candidate - baseline',
): ChartConfiguration<'bar'> {
  const pp = (v: number) => v * 100;
  const base = baseOptions(title);
  const extent = Math.max(
    1,
    ...rows.flatMap((r) => [Math.abs(pp(r.low)), Math.abs(pp(r.high)), Math.abs(pp(r.delta))]),
  );
  const limit = Math.ceil(extent * 1.1);
  return {
    type: 'bar',
    data: {
      labels: rows.map((r) => `${r.task} / ${r.adapter}${r.significant ? ' *' : ''}`),
      datasets: [
        {
          label: 'delta (percentage points)',
          data: rows.map((r) => pp(r.delta)),
          // Vermillion for drops, bluish green for gains: distinct for colour-blind readers.
          backgroundColor: rows.map((r) => (r.delta < 0 ? '#D55E00' : '#009E73')),
          errorBars: rows.map((r) => [pp(r.low), pp(r.high)]),
        },
      ],
    },
    options: {
      ...base,
      indexAxis: 'y',
      plugins: { ...base.plugins, legend: { display: false } },
      scales: {
        x: {
          min: -limit,
          max: limit,
          ticks: { font: { size: FONT.base } },
          title: axisTitle(
            `difference (pp, 95% CI)${rows.some((r) => r.significant) ? '; * significant' : ''}`,
          ),
          grid: { color: (c: { tick?: { value: number } }) => (c.tick?.value === 0 ? '#1b1b1b' : '#e0e0e0') },
        },
        y: { ticks: { font: { size: FONT.base }, autoSkip: false }, grid: { display: false } },
      },
    },
    plugins: [errorBarsPlugin],
  } as unknown as ChartConfiguration<'bar'>;
}

/** File-name-safe form of an id. */
export function fileStem(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_');
}

const HEIGHT = { bars: 700, matrixPerRow: 70 };

/** Writes the comparison chart of two runs (for `compare`); returns the file written. */
export async function writeComparisonChart(
  rows: readonly ComparisonRow[],
  file: string,
  format: FigureFormat,
  title?: string,
): Promise<string> {
  if (rows.length === 0) throw new InputError('no comparison rows to plot');
  const height = 220 + 70 * rows.length;
  await writeFile(file, renderChart(comparisonChart(rows, title) as never, FIGURE_WIDTH, height, format));
  return file;
}

/**
 * Writes the default figures of `results` into `outDir` and returns the paths written:
 * headline.<ext>, per-class-f1-<task>.<ext>, confusion-<task>-<adapter>.<ext>.
 */
export async function renderFigures(results: ResultSet, opts: FiguresOptions): Promise<string[]> {
  if (!FIGURE_FORMATS.includes(opts.format)) {
    throw new InputError(unknownName('figure format', String(opts.format), FIGURE_FORMATS));
  }
  if (results.cells.length === 0) throw new InputError('no result cells to plot');
  const model = buildLeaderboard(results);
  const include = new Set(opts.include ?? ['headline', 'confusion', 'per-class']);
  await mkdir(opts.outDir, { recursive: true });
  const written: string[] = [];
  /** `key` is the unescaped id: two ids with the same file stem ("a b", "a_b") get a hash suffix. */
  const put = async (stem: string, key: string, config: unknown, height: number) => {
    let file = join(opts.outDir, `${stem}.${opts.format}`);
    if (written.includes(file)) {
      const hash = createHash('sha256').update(key).digest('hex').slice(0, 8);
      file = join(opts.outDir, `${stem}-${hash}.${opts.format}`);
    }
    await writeFile(file, renderChart(config as never, FIGURE_WIDTH, height, opts.format));
    written.push(file);
  };
  if (include.has('headline')) await put('headline', 'headline', headlineChart(model), headlineHeight(model));
  for (const t of model.tasks) {
    if (include.has('per-class'))
      await put(
        `per-class-f1-${fileStem(t.id)}`,
        `per-class\u0000${t.id}`,
        perClassChart(model, t.id),
        HEIGHT.bars,
      );
    if (include.has('confusion')) {
      for (const r of model.rows) {
        const e = model.entries.get(entryKey(t.id, r.adapter));
        if (!e) continue;
        const h = Math.max(FIGURE_WIDTH * 0.8, 260 + HEIGHT.matrixPerRow * e.confusion.labels.length);
        await put(
          `confusion-${fileStem(t.id)}-${fileStem(r.adapter)}`,
          `confusion\u0000${t.id}\u0000${r.adapter}`,
          confusionChart(e),
          Math.round(h),
        );
      }
    }
  }
  return written;
}
