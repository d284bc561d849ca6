/**
 * Reads run folders (architecture doc, section 5) into one ResultSet, so every report works from
 * the files alone: any run, old or new, or several merged, without inference.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../harness/errors.ts';
import type { Manifest, MetricsFile, PredictionRecord, Summary, SummaryCell } from '../harness/types.ts';

/** One run folder as read from disk. */
export interface LoadedRun {
  runId: string;
  dir: string;
  manifest: Manifest;
  summary: Summary;
}

/** One (task, adapter, seed) cell with everything the reports need. */
export interface ResultCell {
  task: string;
  protocol: string;
  adapter: string;
  seed: number;
  /** The run this cell comes from (the later run when several hold the same cell). */
  runId: string;
  summary: SummaryCell;
  metrics: MetricsFile;
  metricsFile: string;
  predictionsFile: string;
  /** Present when loadResults was asked for predictions (HTML page, significance markers). */
  predictions?: PredictionRecord[];
}

export interface ResultSet {
  /** Runs in the order they were merged (later ones win). */
  runs: LoadedRun[];
  cells: ResultCell[];
  /** Things the reader should know (e.g. a cell replaced by a later run). */
  warnings: string[];
}

export interface LoadResultsOptions {
  /** Also read predictions/<task>/<adapter>/seed-<n>.jsonl for every cell. */
  predictions?: boolean;
}

// ---- schemas: lenient on fields the reports never read, strict on the ones they do ----

const fraction = z.number().min(0).max(1);
const metricValues = z.record(z.string(), z.number());
const interval = z.looseObject({
  low: z.number(),
  high: z.number(),
  level: z.number().optional(),
  method: z.string().optional(),
  resamples: z.number().optional(),
  unit: z.enum(['dialogue', 'utterance']).optional(),
});

const summaryCellSchema = z.looseObject({
  task: z.string().min(1),
  protocol: z.string().min(1),
  adapter: z.string().min(1),
  seed: z.number().int(),
  headline: z.string().min(1),
  value: fraction,
  ci: interval.optional(),
  n: z.number().int().nonnegative(),
  parse_rate: fraction,
  metrics: metricValues,
});

const summarySchema = z.looseObject({
  run_id: z.string().min(1),
  created: z.string(),
  cells: z.array(summaryCellSchema),
});

const fileRecordSchema = z.looseObject({ path: z.string(), sha256: z.string(), bytes: z.number() });

const manifestSchema = z.looseObject({
  run_id: z.string().min(1),
  config_hash: z.string().optional(),
  git: z.looseObject({ commit: z.string().nullable(), dirty: z.boolean().nullable() }),
  packages: z.record(z.string(), z.string()).optional(),
  node: z.string().optional(),
  started: z.string().optional(),
  finished: z.string().nullable().optional(),
  seeds: z.array(z.number().int()),
  datasets: z.record(
    z.string(),
    z.looseObject({ dir: z.string(), variant: z.string().optional(), files: z.array(fileRecordSchema) }),
  ),
  tasks: z
    .record(
      z.string(),
      z.looseObject({
        protocol: z.string(),
        split: z.string(),
        n: z.number(),
        dropped: z.record(z.string(), z.number()),
      }),
    )
    .optional(),
  adapters: z.record(
    z.string(),
    z.looseObject({ type: z.string(), fingerprint: z.string(), facts: z.record(z.string(), z.unknown()) }),
  ),
  cells: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  merged_from: z.array(z.string()).optional(),
});

const perClassSchema = z.looseObject({
  precision: fraction,
  recall: fraction,
  f1: fraction,
  support: z.number().int().nonnegative(),
});

const metricsFileSchema = z
  .looseObject({
    task: z.string().min(1),
    protocol: z.string().min(1),
    adapter: z.string().min(1),
    seed: z.number().int(),
    n: z.number().int().nonnegative(),
    headline: z.string().min(1),
    labels: z.array(z.string()),
    metrics: metricValues,
    per_class: z.record(z.string(), perClassSchema),
    confusion: z.object({
      labels: z.array(z.string()),
      matrix: z.array(z.array(z.number().int().nonnegative())),
    }),
    ci: z.record(z.string(), interval).optional(),
    parse_counts: z.object({
      ok: z.number().int().nonnegative(),
      unparseable: z.number().int().nonnegative(),
      error: z.number().int().nonnegative(),
    }),
  })
  .superRefine((m, ctx) => {
    // Rows = gold labels, columns = labels plus `<none>`: reports index the matrix by position.
    if (m.confusion.matrix.length !== m.confusion.labels.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['confusion', 'matrix'],
        message: `expected ${m.confusion.labels.length} rows (one per label), found ${m.confusion.matrix.length}`,
      });
    }
    m.confusion.matrix.forEach((row, i) => {
      if (row.length !== m.confusion.labels.length + 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['confusion', 'matrix', i],
          message: `expected ${m.confusion.labels.length + 1} columns (labels and <none>), found ${row.length}`,
        });
      }
    });
    for (const [name, v] of Object.entries(m.metrics)) {
      if (v < 0 || v > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', name],
          message: `expected a fraction in [0, 1], got ${v}`,
        });
      }
    }
  });

const contextTurnSchema = z.looseObject({ speaker: z.string().optional(), text: z.string() });
const predictionSchema = z.looseObject({
  id: z.string(),
  gold: z.string(),
  pred: z.string().nullable(),
  parse: z.enum(['ok', 'unparseable', 'error']),
  dialogueId: z.string().optional(),
  raw: z.string().optional(),
  error: z.string().optional(),
  text: z.string().optional(),
  speaker: z.string().optional(),
  context: z.array(contextTurnSchema).optional(),
});

/** `cells[3].value` from a zod issue path. */
function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string, line?: number): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new InputError(`at ${jsonPath(issue.path)}: ${issue.message}`, file, line);
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'file is missing' : `cannot read (${code ?? String(e)})`, file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON (${(e as Error).message})`, file);
  }
}

/** Cell paths: the task id may hold a dot (`meld-7.dev`); adapter ids are plain names. */
export function cellPaths(runDir: string, task: string, adapter: string, seed: number) {
  return {
    metrics: join(runDir, 'metrics', task, adapter, `seed-${seed}.json`),
    predictions: join(runDir, 'predictions', task, adapter, `seed-${seed}.jsonl`),
  };
}

/** Reads one predictions JSONL file, validating each line. */
export async function readPredictions(file: string): Promise<PredictionRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'file is missing' : `cannot read (${code ?? String(e)})`, file);
  }
  const out: PredictionRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new InputError(`not valid JSON (${(e as Error).message})`, file, i + 1);
    }
    out.push(parseWith(predictionSchema, value, file, i + 1) as PredictionRecord);
  }
  return out;
}

/** Reads one run folder (which must hold summary.json). */
async function readRun(
  dir: string,
  options: LoadResultsOptions,
): Promise<{ run: LoadedRun; cells: ResultCell[] }> {
  const summaryFile = join(dir, 'summary.json');
  const manifestFile = join(dir, 'manifest.json');
  const summary = parseWith(summarySchema, await readJson(summaryFile), summaryFile) as unknown as Summary;
  const manifest = parseWith(
    manifestSchema,
    await readJson(manifestFile),
    manifestFile,
  ) as unknown as Manifest;
  if (manifest.run_id !== summary.run_id) {
    throw new InputError(
      `run_id '${summary.run_id}' does not match manifest.json's '${manifest.run_id}'`,
      summaryFile,
    );
  }
  const seen = new Set<string>();
  const cells: ResultCell[] = [];
  for (const [i, s] of summary.cells.entries()) {
    const key = `${s.task}\u0000${s.adapter}\u0000${s.seed}`;
    if (seen.has(key)) {
      throw new InputError(
        `at cells[${i}]: duplicate cell ${s.task}/${s.adapter}/seed-${s.seed}`,
        summaryFile,
      );
    }
    seen.add(key);
    const paths = cellPaths(dir, s.task, s.adapter, s.seed);
    const metrics = parseWith(metricsFileSchema, await readJson(paths.metrics), paths.metrics) as MetricsFile;
    for (const field of ['task', 'adapter', 'seed'] as const) {
      if (metrics[field] !== s[field]) {
        throw new InputError(
          `at ${field}: expected ${JSON.stringify(s[field])} (from summary.json cells[${i}]), got ${JSON.stringify(metrics[field])}`,
          paths.metrics,
        );
      }
    }
    const cell: ResultCell = {
      task: s.task,
      protocol: s.protocol,
      adapter: s.adapter,
      seed: s.seed,
      runId: summary.run_id,
      summary: s,
      metrics,
      metricsFile: paths.metrics,
      predictionsFile: paths.predictions,
    };
    if (options.predictions) cell.predictions = await readPredictions(paths.predictions);
    cells.push(cell);
  }
  return { run: { runId: summary.run_id, dir, manifest, summary }, cells };
}

/**
 * Run folders under `dir`: itself when it holds summary.json, else its children that do. Children
 * without one (an unfinished run, a figures folder) are listed in `skipped`, not dropped silently.
 */
async function runFolders(dir: string): Promise<{ runs: string[]; skipped: string[] }> {
  const abs = resolve(dir);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(abs);
  } catch {
    throw new InputError('results folder does not exist', dir);
  }
  if (!info.isDirectory()) throw new InputError('expected a run folder or a folder of runs', dir);
  if (existsSync(join(abs, 'summary.json'))) return { runs: [abs], skipped: [] };
  const entries = (await readdir(abs, { withFileTypes: true })).filter((e) => e.isDirectory());
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const runs = entries
    .filter((e) => existsSync(join(abs, e.name, 'summary.json')))
    .map((e) => join(abs, e.name));
  const skipped = entries
    .filter(
      (e) => !existsSync(join(abs, e.name, 'summary.json')) && existsSync(join(abs, e.name, 'manifest.json')),
    )
    .map((e) => join(abs, e.name));
  if (runs.length === 0) {
    throw new InputError(
      'no summary.json here nor in any sub-folder (expected a run folder or a folder of runs)',
      dir,
    );
  }
  return { runs, skipped };
}

/**
 * Reads one or more run folders (or folders of runs) and merges them. When the same
 * (task, adapter, seed) appears twice, the later run wins: later on the command line, and within a
 * folder of runs, the one whose summary was created later. Each replacement is listed in `warnings`.
 */
export async function loadResults(
  dirs: readonly string[],
  options: LoadResultsOptions = {},
): Promise<ResultSet> {
  if (dirs.length === 0) throw new InputError('no results folder given');
  const loaded: { run: LoadedRun; cells: ResultCell[] }[] = [];
  const warnings: string[] = [];
  for (const dir of dirs) {
    const group: { run: LoadedRun; cells: ResultCell[] }[] = [];
    const { runs: folders, skipped } = await runFolders(dir);
    for (const s of skipped)
      warnings.push(`${s}: skipped, it has a manifest but no summary.json (an unfinished run?)`);
    for (const folder of folders) group.push(await readRun(folder, options));
    group.sort(
      (a, b) =>
        a.run.summary.created.localeCompare(b.run.summary.created) || a.run.runId.localeCompare(b.run.runId),
    );
    loaded.push(...group);
  }
  const byKey = new Map<string, ResultCell>();
  const runs: LoadedRun[] = [];
  for (const { run, cells } of loaded) {
    if (runs.some((r) => r.dir === run.dir)) continue; // the same folder named twice
    runs.push(run);
    for (const cell of cells) {
      const key = `${cell.task}\u0000${cell.adapter}\u0000${cell.seed}`;
      const previous = byKey.get(key);
      if (previous) {
        warnings.push(
          `${cell.task}/${cell.adapter}/seed-${cell.seed}: run ${cell.runId} replaces run ${previous.runId} (later run wins)`,
        );
        byKey.delete(key); // re-insert so iteration order follows the latest source
      }
      byKey.set(key, cell);
    }
  }
  // Runs whose every cell was replaced still count for provenance only if they contribute a cell.
  const used = new Set([...byKey.values()].map((c) => c.runId));
  return { runs: runs.filter((r) => used.has(r.runId)), cells: [...byKey.values()], warnings };
}

/** Loads predictions for cells read without them (the HTML page and significance tests need them). */
export async function ensurePredictions(results: ResultSet): Promise<void> {
  for (const cell of results.cells) {
    if (!cell.predictions) cell.predictions = await readPredictions(cell.predictionsFile);
  }
}

/** Short name of a run folder for messages. */
export function runLabel(run: LoadedRun): string {
  return run.runId || basename(run.dir);
}
