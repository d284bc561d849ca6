import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { arch, cpus, hostname, platform } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import pLimit from 'p-limit';
import type { RunConfigFile } from './config.ts';
import { InputError, RuntimeFailure } from './errors.ts';
import { collectGarbage, collectGarbageIfLarge } from './gc.ts';
import { fileRecord, hashValue, sha256 } from './hash.ts';
import { releaseSessions } from './inference/onnx.ts';
import { addParseCounts, computeMetrics } from './metrics.ts';
import { type Plan, type PlannedTask, planRun } from './plan.ts';
import { Progress } from './progress.ts';
import type { HarnessRegistry } from './registry.ts';
import { scoreRecords } from './stats.ts';
import {
  appendLines,
  RunLock,
  RunPaths,
  readJson,
  readOutcomes,
  recordLine,
  repairTornTail,
  rewriteInOrder,
  writeJsonAtomic,
} from './store.ts';
import { TaskBuilder } from './tasks.ts';
import type {
  Adapter,
  AdapterFacts,
  CellContext,
  Example,
  FileRecord,
  Logger,
  Manifest,
  MetricsFile,
  ParseCounts,
  Prediction,
  PredictionRecord,
  Summary,
  SummaryCell,
  Task,
  TaskSplit,
} from './types.ts';

export interface RunOptions {
  config: RunConfigFile;
  configFile?: string;
  /** Folder relative paths resolve against (the config file's folder, or the working directory). */
  baseDir: string;
  registry: HarnessRegistry;
  log: Logger;
  /** Start a new run even when one with this name exists with another config. */
  forceNew?: boolean;
  /** Redo examples recorded as errors by an earlier attempt of this run. */
  retryErrors?: boolean;
  /** Deterministic part of the work: examples whose id hashes into shard `index` of `count` (1-based). */
  shard?: { index: number; count: number };
  /** Only these adapter ids of the config or suite. */
  adapterIds?: string[];
  /** Show the progress line (terminal) or progress log lines. */
  progress?: boolean;
}

export interface RunResult {
  runId: string;
  runDir: string;
  summary: Summary;
  /** Cells that needed work in this invocation (0 when the run was already complete). */
  cellsRun: number;
  interrupted: boolean;
  /** The signal that interrupted the run (SIGINT or SIGTERM), when one did. */
  signal?: 'SIGINT' | 'SIGTERM';
  /** Cells with examples recorded as errors (no answer: a server or model failure), finished ones included. */
  errors: { cell: string; errors: number; n: number }[];
}

/** Examples between garbage collections while predicting (only very large tasks ever reach it). */
const COLLECT_EVERY = 200_000;

/** Previous turns copied into each prediction record. */
const CONTEXT_IN_RECORDS = 5;

interface Cell {
  task: Task;
  planned: PlannedTask;
  adapter: Adapter;
  seed: number;
}

/**
 * Runs an evaluation: plans cells (task x adapter x seed), resumes what an earlier attempt of the
 * same run left, appends prediction records as batches finish, scores each finished cell and writes
 * the result files of the architecture doc (section 5). All input is validated before anything is
 * written, so bad input leaves no half-written run.
 */
export async function runEvaluation(options: RunOptions): Promise<RunResult> {
  const { config, registry, log } = options;
  const plan = planRun(registry, config, options.baseDir, options.configFile, options.adapterIds);
  const seeds = config.seeds ?? [1];
  const split: TaskSplit = config.split ?? 'test';
  const builder = new TaskBuilder();

  // Load and validate every task before creating anything on disk.
  for (const t of plan.tasks) await checkPresent(t);
  const tasks = new Map<PlannedTask, Task>();
  const whole = new Map<string, { n: number; ids: string }>();
  // How many planned tasks read each loader split: the last one consumes it (memory stays flat).
  const uses = new Map<string, number>();
  const splitKeys = (t: PlannedTask) =>
    (t.protocol.splits[t.split] ?? []).map((ls) => `${t.loader.id}\u0000${t.dir}\u0000${ls}`);
  for (const t of plan.tasks) for (const k of splitKeys(t)) uses.set(k, (uses.get(k) ?? 0) + 1);
  for (const t of plan.tasks) {
    const keys = splitKeys(t);
    for (const k of keys) uses.set(k, uses.get(k)! - 1);
    const consume = keys.every((k) => uses.get(k) === 0);
    let task = await builder.build(t.loader, t.protocol, t.split, t.dir, {
      limit: config.limit,
      consume,
      ...(t.context === false ? { context: false as const } : {}),
    });
    whole.set(task.id, { n: task.examples.length, ids: idsHash(task.examples) });
    if (options.shard) task = shardTask(task, options.shard);
    tasks.set(t, task);
  }
  // Train and dev are read now too (their examples dropped; adapters reload them on demand), so bad
  // input in a file read only to fit, tune or draw shots is found before anything is written.
  const checked = new Set<string>();
  // sha256 of every data file read so far: a resume compares its recorded files against these.
  const hashes = new Map<string, string>();
  for (const task of tasks.values()) for (const f of task.files) hashes.set(f.path, f.sha256);
  for (const t of plan.tasks) {
    for (const other of ['train', 'dev'] as const) {
      const key = `${t.loader.id}\u0000${t.dir}\u0000${t.protocol.id}\u0000${other}`;
      if (other === t.split || !t.protocol.splits[other]?.length || checked.has(key)) continue;
      checked.add(key);
      const built = await builder.build(
        t.loader,
        t.protocol,
        other,
        t.dir,
        t.context === false ? { context: false } : {},
      );
      for (const f of built.files) hashes.set(f.path, f.sha256);
    }
  }
  // The evaluated splits are built: let the loaders' own objects go (train/dev reload on demand).
  builder.release();
  collectGarbage();

  const env = {
    baseDir: options.baseDir,
    log,
    device: config.device ?? 'auto',
    cacheDir: resolvePath(options.baseDir, config.cacheDir ?? join('.cache', 'emotion-eval')),
    prompts: registry.prompts.values(),
  } as const;
  const adapters: Adapter[] = [];
  for (const a of plan.adapters) {
    const factory = registry.adapters.get(a.config.type);
    adapters.push(await factory.create({ ...(a.parsed as object), id: a.config.id }, env));
  }

  const identity = {
    tasks: [...tasks.values()].map((t) => ({
      id: t.id,
      files: t.files.map((f) => ({ path: f.path, sha256: f.sha256 })),
      // Examples without their dialogue context are other inputs (absent key: the usual, with context).
      ...(t.context === false ? { context: false } : {}),
      // The whole task (not this shard's part), so the shards of one run share a plan hash.
      n: whole.get(t.id)!.n,
      ids: whole.get(t.id)!.ids,
    })),
    adapters: adapters.map((a) => ({ id: a.id, type: a.type, fingerprint: a.fingerprint() })),
    seeds,
    limit: config.limit ?? null,
    split,
    device: env.device,
    bootstrap: config.bootstrap ?? {},
    shard: options.shard ?? null,
    plugins: config.plugins ?? [],
  };
  const configHash = hashValue(identity);
  const configParts = configPartsOf(identity);
  // Shards run on machines whose data sits at other paths (node-local scratch, other homes): the plan
  // names each file by its place in the dataset folder and its hash, not by where the folder is.
  const taskList = [...tasks.values()];
  const planHash = hashValue({
    ...identity,
    tasks: identity.tasks.map((t, i) => ({
      ...t,
      files: t.files.map((f) => ({ path: relative(taskList[i]!.dataDir, f.path), sha256: f.sha256 })),
    })),
    shard: null,
  });
  const outRoot = resolvePath(options.baseDir, config.out ?? join('results', 'runs'));
  const runId = await chooseRunId(outRoot, config, plan, configHash, options, configParts, hashes);
  const paths = new RunPaths(join(outRoot, runId));
  // What this invocation creates, so that bad input found before anything was predicted (a failure
  // inside an adapter's prepare, say) leaves nothing behind.
  const created = [outRoot, paths.dir].filter((d) => !existsSync(d));
  let badInput = false;

  const lock = new RunLock(paths.lock);
  lock.acquire();
  const controller = new AbortController();
  let caught: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (!controller.signal.aborted)
      log.warn(
        'interrupted: stopping (answers not yet recorded are asked again); run the same command to resume',
      );
    caught ??= signal;
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const previous = existsSync(paths.manifest) ? readJson<Manifest>(paths.manifest) : undefined;
    const manifest: Manifest = {
      run_id: runId,
      config_hash: configHash,
      config_parts: configParts,
      plan_hash: planHash,
      config: redactConfig(config),
      // The harness's own checkout (the code that made the numbers), and the user's project (config,
      // plugins) where that is another repository.
      git: gitInfo(HARNESS_ROOT),
      ...projectGit(options.baseDir),
      packages: packageVersions(),
      node: process.version,
      host: { hostname: hostname(), platform: platform(), arch: arch(), cpus: cpus().length },
      started: previous?.started ?? new Date().toISOString(),
      finished: null,
      seeds,
      datasets: {},
      tasks: {},
      adapters: {},
      cells: previous?.cells ?? {},
      shard: options.shard ?? null,
    };
    for (const [planned, task] of tasks) {
      manifest.datasets[planned.loader.id] ??= { dir: planned.dir, variant: task.variant, files: [] };
      for (const f of task.files) addFile(manifest, planned.loader.id, planned.dir, f);
      manifest.tasks[task.id] = {
        protocol: task.protocol.id,
        split: task.split,
        n: task.examples.length,
        dropped: task.dropped,
        n_total: whole.get(task.id)!.n,
        ids_sha256: whole.get(task.id)!.ids,
        ...(task.context === false ? { context: false as const } : {}),
      };
    }
    for (const a of adapters)
      manifest.adapters[a.id] = { type: a.type, fingerprint: a.fingerprint(), facts: {} };
    // Train and dev files that adapters read earlier in this run (to fit, tune or draw shots; found
    // unchanged by chooseRunId) stay listed with the files read.
    if (previous) {
      for (const [id, ds] of Object.entries(previous.datasets ?? {}))
        for (const f of ds.files) addFile(manifest, id, ds.dir, f);
    }
    writeJsonAtomic(paths.manifest, manifest);

    const cells: Cell[] = [];
    for (const [planned, task] of tasks)
      for (const adapter of adapters) for (const seed of seeds) cells.push({ task, planned, adapter, seed });

    const summaryCells: SummaryCell[] = [];
    const errorCells: RunResult['errors'] = [];
    // Per adapter, answers per parse status over its finished cells, from their metrics (recomputed
    // from the predictions files): unlike the adapter's own tallies, they survive resumes and re-runs.
    const parseTotals = new Map<string, ParseCounts>();
    const adaptersWorked = new Set<string>();
    let cellsRun = 0;
    for (const cell of cells) {
      if (controller.signal.aborted) break;
      const { worked, metrics, facts } = await runCell(cell, {
        paths,
        builder,
        log,
        retryErrors: options.retryErrors ?? false,
        progress: options.progress ?? true,
        signal: controller.signal,
        bootstrap: config.bootstrap,
        onInputs: (loaderId, dir, files) => {
          // Recorded as soon as they are read, so a run killed after fitting still knows them.
          if (files.reduce((added, f) => addFile(manifest, loaderId, dir, f) || added, false))
            writeJsonAtomic(paths.manifest, manifest);
        },
      });
      if (worked) cellsRun++;
      if (worked) adaptersWorked.add(cell.adapter.id);
      if (worked) collectGarbage();
      const key = `${cell.task.id}/${cell.adapter.id}/seed-${cell.seed}`;
      if (facts) manifest.cells[key] = facts;
      if (metrics) {
        summaryCells.push(summaryCell(metrics));
        if (metrics.parse_counts.error > 0)
          errorCells.push({
            cell: `${key.replace(/\/seed-/, ' (seed ')})`,
            errors: metrics.parse_counts.error,
            n: metrics.n,
          });
        parseTotals.set(
          cell.adapter.id,
          addParseCounts(parseTotals.get(cell.adapter.id), metrics.parse_counts),
        );
      }
    }

    for (const a of adapters) {
      // An invocation that did no work for an adapter (a re-run of its finished cells) has seen
      // nothing: it keeps the facts of the invocation that did (label-choice step-downs, requests).
      const earlier = previous?.adapters?.[a.id];
      const facts =
        adaptersWorked.has(a.id) || earlier?.fingerprint !== a.fingerprint() ? a.facts?.() : earlier.facts;
      if (facts) manifest.adapters[a.id]!.facts = facts;
      const totals = parseTotals.get(a.id);
      if (totals) manifest.adapters[a.id]!.parse_counts = totals;
      const line = a.summary?.();
      if (line) log.info(line);
    }
    const interrupted = controller.signal.aborted;
    const summary: Summary = { run_id: runId, created: new Date().toISOString(), cells: summaryCells };
    if (!interrupted) {
      writeJsonAtomic(paths.summary, summary);
      manifest.finished = new Date().toISOString();
    }
    writeJsonAtomic(paths.manifest, manifest);
    return {
      runId,
      runDir: paths.dir,
      summary,
      cellsRun,
      interrupted,
      errors: errorCells,
      ...(caught ? { signal: caught } : {}),
    };
  } catch (err) {
    badInput = err instanceof InputError;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const a of adapters) await a.close?.();
    await releaseSessions();
    lock.release();
    if (badInput && !existsSync(join(paths.dir, 'predictions')))
      for (const d of created.reverse()) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * EMOTION_EVAL_TRACE=FILE appends one line per batch handed to an adapter (cell and example ids):
 * how the kill-and-resume tests prove that no recorded example is ever computed twice.
 */
const trace = process.env.EMOTION_EVAL_TRACE;

interface CellOptions {
  paths: RunPaths;
  builder: TaskBuilder;
  log: Logger;
  retryErrors: boolean;
  progress: boolean;
  signal: AbortSignal;
  bootstrap: RunConfigFile['bootstrap'];
  /** Files of a train or dev split an adapter read. */
  onInputs(loaderId: string, dir: string, files: readonly FileRecord[]): void;
}

/** Adds a file to the manifest's dataset entry; false when it was listed already. */
function addFile(manifest: Manifest, loaderId: string, dir: string, file: FileRecord): boolean {
  manifest.datasets[loaderId] ??= { dir, files: [] };
  const ds = manifest.datasets[loaderId]!;
  if (ds.files.some((g) => g.path === file.path)) return false;
  ds.files.push(file);
  return true;
}

/**
 * Why a run cannot resume when a data file its earlier invocations read is not as it was (train to
 * fit, dev to tune: the config hash covers only the evaluated split); undefined when every file is
 * unchanged. `known` holds the hashes of the files this invocation has read already.
 */
async function changedInput(
  previous: Manifest,
  manifestPath: string,
  known: ReadonlyMap<string, string>,
): Promise<string | undefined> {
  for (const ds of Object.values(previous.datasets ?? {})) {
    for (const f of ds.files) {
      const now = known.get(f.path) ?? (existsSync(f.path) ? (await fileRecord(f.path)).sha256 : undefined);
      if (now !== f.sha256)
        return `${f.path} ${now === undefined ? 'is gone' : 'changed'} since this run read it (recorded in ${manifestPath}); use --force-new to start a new run`;
    }
  }
  return undefined;
}

async function runCell(
  cell: Cell,
  o: CellOptions,
): Promise<{ worked: boolean; metrics?: MetricsFile; facts?: AdapterFacts }> {
  const { task, adapter, seed, planned } = cell;
  const predPath = o.paths.predictions(task.id, adapter.id, seed);
  const metricsPath = o.paths.metrics(task.id, adapter.id, seed);
  // Only ids are kept while predicting: records go straight to the append-only file, so memory
  // stays flat however large the task (a million utterances run in well under 1 GB).
  const recorded = await recordedIds(predPath, task, o);
  const todo = task.examples.filter((e) => !recorded.has(e.id));
  let facts: AdapterFacts | undefined;
  let worked = false;

  if (todo.length > 0) {
    worked = true;
    const ctx = cellContext(cell, o);
    facts = (await adapter.prepare?.(ctx)) ?? undefined;
    const size = Math.max(1, adapter.batchSize ?? 32);
    const batches: Example[][] = [];
    for (let i = 0; i < todo.length; i += size) batches.push(todo.slice(i, i + size));
    const progress = o.progress
      ? new Progress(`${task.id} x ${adapter.id} (seed ${seed})`, task.examples.length, recorded.size)
      : undefined;
    const limit = pLimit(Math.max(1, adapter.concurrency ?? 1));
    let failure: unknown;
    let sinceCollect = 0;
    await Promise.all(
      batches.map((batch) =>
        limit(async () => {
          if (o.signal.aborted || failure) return;
          try {
            if (trace)
              appendLines(trace, [`${JSON.stringify({ cell: predPath, ids: batch.map((e) => e.id) })}\n`]);
            const predictions = await adapter.predict(batch, ctx);
            appendLines(predPath, toRecords(batch, predictions, adapter.id).map(recordLine));
            progress?.advance(batch.length);
            sinceCollect += batch.length;
            if (sinceCollect >= COLLECT_EVERY) {
              // Records are garbage once written; on very large tasks collect now and then, so the
              // heap does not grow to a multiple of what is alive (a 1M-utterance run stays < 1 GB).
              sinceCollect = 0;
              collectGarbage();
            }
          } catch (err) {
            failure ??= err;
          }
        }),
      ),
    );
    progress?.finish();
    // Interrupted: a request that the abort cut short is not a failure; the run resumes from here.
    if (o.signal.aborted) return { worked, facts };
    if (failure) throw failure;
  } else if (existsSync(metricsPath)) {
    // Finished earlier: reuse the metrics file as it is (a re-run computes nothing).
    return { worked, metrics: readJson<MetricsFile>(metricsPath) };
  }

  // Around reading the outcomes back: the garbage of writing records goes first, that of reading
  // them next, so scoring a very large task starts from what is alive.
  collectGarbageIfLarge(task.examples.length);
  const ordered = await finishPredictions(predPath, task);
  collectGarbageIfLarge(task.examples.length);
  const resamples = o.bootstrap?.resamples ?? 1000;
  const scored =
    resamples > 0
      ? scoreRecords(ordered, task.protocol, {
          resamples,
          level: o.bootstrap?.level ?? 0.95,
          unit: o.bootstrap?.unit ?? 'dialogue',
          seed,
        })
      : computeMetrics(ordered, task.protocol);
  const metrics: MetricsFile = {
    task: task.id,
    protocol: task.protocol.id,
    adapter: adapter.id,
    seed,
    neutral: task.protocol.neutral,
    positive: task.protocol.positive,
    negative: task.protocol.negative,
    ...scored,
  } as MetricsFile;
  writeJsonAtomic(metricsPath, metrics);
  void planned;
  return { worked, metrics, facts };
}

/**
 * Ids already recorded for this cell (a torn last line is cut first; with --retry-errors, examples
 * recorded as errors are left out so they are redone). A record of an example the task does not
 * have means the data changed since the run started: bad input.
 */
async function recordedIds(predPath: string, task: Task, o: CellOptions): Promise<Set<string>> {
  await repairTornTail(predPath, o.log);
  const recorded = new Set<string>();
  if (!existsSync(predPath)) return recorded;
  const taskIds = new Set(task.examples.map((e) => e.id));
  for await (const { record, line } of readOutcomes(predPath)) {
    if (!taskIds.has(record.id)) {
      throw new InputError(
        `holds example '${record.id}', which this task does not have; the data changed since the run started`,
        predPath,
        line,
      );
    }
    if (o.retryErrors && record.parse === 'error') recorded.delete(record.id);
    else recorded.add(record.id);
  }
  return recorded;
}

/** What scoring needs of a record; labels interned so a million records stay small. */
type Outcome = Pick<PredictionRecord, 'id' | 'gold' | 'pred' | 'parse' | 'dialogueId' | 'lenient'>;

/**
 * Reads the finished cell's records back (compactly) in example order. When batches finished out of
 * order, or a retried error left two lines for an id, the file is rewritten in example order, so an
 * interrupted-and-resumed run and an uninterrupted one leave byte-identical predictions.
 */
async function finishPredictions(path: string, task: Task): Promise<Outcome[]> {
  const interned = new Map<string, string>();
  const intern = (s: string) => {
    const hit = interned.get(s);
    if (hit !== undefined) return hit;
    interned.set(s, s);
    return s;
  };
  const outcome = (r: Outcome, e?: Example): Outcome => {
    const o: Outcome = {
      // The example's own strings where the record matches it: a million outcomes add no new ids.
      id: e?.id ?? r.id,
      gold: intern(r.gold),
      pred: r.pred === null ? null : intern(r.pred),
      parse: r.parse,
      dialogueId: e ? e.dialogueId : r.dialogueId,
    };
    // Nearest-label guesses are scored as predictions but counted apart from parsed answers.
    if (r.lenient) o.lenient = true;
    return o;
  };
  // The usual case: the file is already in example order (one batch at a time, or an uninterrupted
  // run), and outcomes are collected in one pass with nothing to rewrite.
  const inOrder: Outcome[] = [];
  let clean = true;
  for await (const { record: r } of readOutcomes(path)) {
    const e = task.examples[inOrder.length];
    if (!e || e.id !== r.id) {
      clean = false;
      break;
    }
    inOrder.push(outcome(r, e));
  }
  if (clean && inOrder.length === task.examples.length) return inOrder;
  inOrder.length = 0;
  const byId = new Map<string, Outcome>();
  for await (const { record: r } of readOutcomes(path)) byId.set(r.id, outcome(r));
  await rewriteInOrder(
    path,
    task.examples.map((e) => e.id),
  );
  return task.examples.map((e) => {
    const o = byId.get(e.id);
    if (!o) throw new RuntimeFailure(`${path}: no prediction for '${e.id}'`);
    return o;
  });
}

function cellContext(cell: Cell, o: CellOptions): CellContext {
  const { task, planned, seed } = cell;
  const splits = new Map<TaskSplit, Promise<Example[]>>();
  return {
    task,
    protocol: task.protocol,
    labels: task.protocol.labels,
    seed,
    workDir: o.paths.work(task.id, cell.adapter.id, seed),
    log: o.log,
    signal: o.signal,
    loadSplit(split: TaskSplit): Promise<Example[]> {
      if (split === task.split) {
        return Promise.reject(
          new RuntimeFailure(`adapter ${cell.adapter.id} asked for the ${split} split it is evaluated on`),
        );
      }
      let pending = splits.get(split);
      if (!pending) {
        pending = o.builder
          .build(
            planned.loader,
            planned.protocol,
            split,
            planned.dir,
            planned.context === false ? { context: false } : {},
          )
          .then((t) => {
            o.onInputs(planned.loader.id, planned.dir, t.files);
            return t.examples;
          });
        splits.set(split, pending);
      }
      return pending;
    },
  };
}

/** Joins predictions to gold labels, checking the adapter kept the contract. */
function toRecords(
  batch: readonly Example[],
  predictions: Prediction[],
  adapterId: string,
): PredictionRecord[] {
  if (predictions.length !== batch.length) {
    throw new RuntimeFailure(
      `adapter ${adapterId} returned ${predictions.length} predictions for ${batch.length} examples`,
    );
  }
  return batch.map((e, i) => {
    const p = predictions[i]!;
    if (p.id !== e.id)
      throw new RuntimeFailure(`adapter ${adapterId} answered '${p.id}' where '${e.id}' was asked`);
    return {
      id: e.id,
      gold: e.label,
      pred: p.label,
      parse: p.parse,
      dialogueId: e.dialogueId,
      text: e.text,
      speaker: e.speaker,
      // The last few turns are enough for the report's example browser and keep files linear in size.
      context:
        e.context.length > 0
          ? e.context.slice(-CONTEXT_IN_RECORDS).map((t) => ({ speaker: t.speaker, text: t.text }))
          : undefined,
      scores: p.scores ? roundScores(p.scores) : undefined,
      raw: p.raw,
      error: p.error,
      lenient: p.lenient,
    };
  });
}

/** Scores rounded to 6 significant digits: enough to audit, and stable across machines' last bits. */
function roundScores(scores: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(scores)) out[k] = Number(v.toPrecision(6));
  return out;
}

/** The summary.json entry of a cell, from its metrics. */
export function summaryCell(m: MetricsFile): SummaryCell {
  return {
    task: m.task,
    protocol: m.protocol,
    adapter: m.adapter,
    seed: m.seed,
    headline: m.headline,
    value: m.metrics[m.headline] ?? Number.NaN,
    ci: m.ci?.[m.headline],
    n: m.n,
    parse_rate: m.metrics.parse_rate ?? 1,
    ...(m.parse_counts.lenient ? { lenient: m.parse_counts.lenient } : {}),
    metrics: m.metrics,
  };
}

async function checkPresent(t: PlannedTask): Promise<void> {
  const found = await t.loader.detect(t.dir);
  if (!found.found) {
    const what =
      found.present.length === 0 && !existsSync(t.dir)
        ? 'folder not found'
        : `missing ${found.missing.join(', ')}`;
    throw new InputError(
      `${t.loader.id}: ${what} (expected the official release files under ${t.dir})`,
      t.dir,
    );
  }
}

/** Keeps the examples whose id hashes into this shard; every example falls in exactly one shard. */
export function shardTask(task: Task, shard: { index: number; count: number }): Task {
  const keep = task.examples.filter(
    (e) => shardOf(`${task.id}\u0000${e.id}`, shard.count) === shard.index - 1,
  );
  return { ...task, examples: keep };
}

/** sha256 of the sorted example ids, one per line. */
export function idsHash(examples: readonly { id: string }[]): string {
  return sha256(
    examples
      .map((e) => e.id)
      .sort()
      .join('\n'),
  );
}

export function shardOf(key: string, count: number): number {
  return Number.parseInt(sha256(key).slice(0, 8), 16) % count;
}

async function chooseRunId(
  outRoot: string,
  config: RunConfigFile,
  plan: Plan,
  configHash: string,
  o: RunOptions,
  parts: Record<string, string>,
  hashes: ReadonlyMap<string, string>,
): Promise<string> {
  const selection = hashValue({
    tasks: plan.tasks.map((t) => `${t.protocol.id}.${t.split}@${t.dir}`),
    adapters: plan.adapters.map((a) => a.config.id),
  }).slice(0, 8);
  const shard = o.shard ? `-shard${o.shard.index}of${o.shard.count}` : '';
  const base = `${config.name ?? `${plan.label || 'run'}-${selection}`}${shard}`;
  let id = base;
  for (let n = 2; ; n++) {
    const manifestPath = join(outRoot, id, 'manifest.json');
    if (!existsSync(manifestPath)) return id;
    const existing = readJson<Manifest>(manifestPath);
    if (existing.config_hash === configHash) {
      // Same config: resume, unless a file an adapter read (train, dev) changed since.
      const changed = await changedInput(existing, manifestPath, hashes);
      if (!changed) return id;
      if (!o.forceNew) throw new InputError(changed);
    } else if (!o.forceNew) {
      throw new InputError(
        `run '${id}' exists with a different config (${changedParts(existing.config_parts, parts)}); use --force-new to start a new run, or --name to pick another`,
        manifestPath,
      );
    }
    id = `${base}-${n}`;
  }
}

/** Hashes of the parts of a run's identity: each adapter on its own, the rest key by key. */
function configPartsOf(identity: {
  adapters: readonly { id: string; fingerprint: string }[];
  [key: string]: unknown;
}): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const [k, v] of Object.entries(identity)) if (k !== 'adapters') parts[k] = hashValue(v);
  for (const a of identity.adapters) parts[`adapter ${a.id}`] = hashValue(a);
  return parts;
}

/** What differs between two runs' config parts, for the refusal message. */
function changedParts(before: Record<string, string> | undefined, now: Record<string, string>): string {
  if (!before) return 'adapters, seeds, data or settings changed';
  const names = { tasks: 'data or tasks', limit: '--limit', bootstrap: 'bootstrap settings' } as Record<
    string,
    string
  >;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])].filter(
    (k) => before[k] !== now[k],
  );
  const described = keys.map((k) =>
    k.startsWith('adapter ') && !(k in before)
      ? `${k} added`
      : k.startsWith('adapter ') && !(k in now)
        ? `${k} removed`
        : `${names[k] ?? k} changed`,
  );
  return described.length > 0 ? described.join(', ') : 'settings changed';
}

/** The config as given, minus anything secret-looking (keys are read from the environment, never stored). */
function redactConfig(config: RunConfigFile): unknown {
  return JSON.parse(
    JSON.stringify(config, (key, value) =>
      /^(api[-_]?key|token|secret|password)$/i.test(key) ? '<redacted>' : value,
    ),
  );
}

function resolvePath(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

/** The folder emotion-eval itself lives in (a git checkout, or an installed package). */
const HARNESS_ROOT = resolve(import.meta.dirname, '..');

/** The git checkout holding `dir`, if any. */
function gitRoot(dir: string): string | undefined {
  let root = resolve(dir);
  while (!existsSync(join(root, '.git'))) {
    const up = resolve(root, '..');
    if (up === root) return undefined;
    root = up;
  }
  return root;
}

function gitInfo(dir: string): Manifest['git'] {
  // The commit is read from .git directly (works where git is not installed); whether the tree has
  // uncommitted changes needs git itself, and stays null without it.
  const root = gitRoot(dir);
  if (!root) return { commit: null, dirty: null };
  let commit: string | null = null;
  try {
    const head = readFileSync(join(root, '.git', 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) commit = head;
    else {
      const ref = head.slice(5);
      const refPath = join(root, '.git', ref);
      if (existsSync(refPath)) commit = readFileSync(refPath, 'utf8').trim();
      else {
        const packed = join(root, '.git', 'packed-refs');
        const line = existsSync(packed)
          ? readFileSync(packed, 'utf8')
              .split('\n')
              .find((l) => l.endsWith(` ${ref}`))
          : undefined;
        if (line) commit = line.split(' ')[0]!;
      }
    }
  } catch {
    // An unreadable .git: no commit to record.
  }
  const status = spawnSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], {
    encoding: 'utf8',
    timeout: 5000,
  });
  const dirty = status.status === 0 ? status.stdout.trim() !== '' : null;
  return { commit, dirty };
}

/** The user's project checkout (config, plugins), when it is not emotion-eval's own. */
function projectGit(baseDir: string): { project_git?: Manifest['git'] } {
  const root = gitRoot(baseDir);
  return root && root !== gitRoot(HARNESS_ROOT) ? { project_git: gitInfo(root) } : {};
}

let versions: Record<string, string> | undefined;
function packageVersions(): Record<string, string> {
  if (versions) return versions;
  versions = {};
  const root = resolve(import.meta.dirname, '..');
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    versions['emotion-eval'] = pkg.version;
    for (const name of Object.keys(pkg.dependencies ?? {})) {
      const p = join(root, 'node_modules', name, 'package.json');
      if (existsSync(p)) versions[name] = JSON.parse(readFileSync(p, 'utf8')).version;
    }
  } catch {
    // Versions are informative; a missing file must not stop a run.
  }
  return versions;
}
