import { resolve } from 'node:path';
import type { CompareCliOptions } from './cli.ts';
import { InputError } from './errors.ts';
import { writeTextAtomic } from './store.ts';

/** `emotion-eval leaderboard`: reads result folders only, so any run (or several merged) can be reported. */
export async function leaderboardCommand(o: {
  results: string[];
  format: string;
  layout?: string;
  reference?: string;
  /** Per-task detail tables (default true). */
  details?: boolean;
  /** ANSI colours (terminal format); off when writing to a file. */
  color?: boolean;
}): Promise<string> {
  const { loadResults } = await import('../reports/load-results.ts');
  const { renderLeaderboard, LEADERBOARD_FORMATS } = await import('../reports/leaderboard.ts');
  const format = o.format as (typeof LEADERBOARD_FORMATS)[number];
  if (!LEADERBOARD_FORMATS.includes(format)) throw new InputError(`--format: unknown format '${o.format}'`);
  const needPredictions = format === 'html' || o.reference !== undefined;
  const results = await loadResults(
    o.results.map((d) => resolve(d)),
    { predictions: needPredictions },
  );
  for (const w of results.warnings) process.stderr.write(`warning: ${w}\n`);
  return renderLeaderboard(results, {
    format,
    reference: o.reference,
    layout: o.layout as 'peng2023' | 'dialoguellm' | undefined,
    details: o.details,
    color: o.color,
  });
}

/** `emotion-eval figures`: chart.js figures from result folders; returns the files written. */
export async function figuresCommand(o: {
  results: string[];
  out: string;
  format: 'png' | 'svg' | 'pdf';
}): Promise<string[]> {
  const { loadResults } = await import('../reports/load-results.ts');
  const { renderFigures } = await import('../reports/figures.ts');
  const results = await loadResults(o.results.map((d) => resolve(d)));
  return renderFigures(results, { outDir: resolve(o.out), format: o.format });
}

/** `emotion-eval compare`: the paired comparison and CI gate; returns the exit code (1 = regression). */
export async function compareCommand(o: CompareCliOptions): Promise<number> {
  const { compareRuns } = await import('./compare.ts');
  const { renderJunit, renderCompareMarkdown, renderCompareTerminal } = await import(
    '../reports/regression-report.ts'
  );
  const result = await compareRuns(resolve(o.baseline), resolve(o.candidate), {
    alpha: o.alpha,
    maxDrop: o.maxDrop,
    seed: o.seed,
    allowErrors: o.allowErrors ?? false,
  });
  if (o.junit) writeTextAtomic(resolve(o.junit), renderJunit(result));
  if (o.chart) {
    const { writeComparisonChart } = await import('../reports/figures.ts');
    const format = /\.(png|svg|pdf)$/i.exec(o.chart)?.[1]?.toLowerCase() as 'png' | 'svg' | 'pdf' | undefined;
    if (!format)
      throw new InputError(`--chart: expected a file ending in .png, .svg or .pdf, got '${o.chart}'`);
    const rows = result.cells.map((c) => ({
      task: c.task,
      adapter: c.adapter,
      delta: c.delta,
      low: c.ci.low,
      high: c.ci.high,
      significant: c.pAdjusted < o.alpha,
    }));
    await writeComparisonChart(rows, resolve(o.chart), format, 'Candidate - baseline (headline metric)');
  }
  if (o.markdown) writeTextAtomic(resolve(o.markdown), renderCompareMarkdown(result));
  process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : renderCompareTerminal(result));
  return result.exitCode;
}
