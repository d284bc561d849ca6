import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { createRegistry } from './builtins.ts';
import { type LoadedConfig, loadConfigFile, type RunConfigFile, validateConfig } from './config.ts';
import { describeDatasets, renderDatasets } from './datasets-report.ts';
import { EXIT, InputError, RuntimeFailure } from './errors.ts';
import { consoleLogger } from './progress.ts';
import { runEvaluation } from './runner.ts';
import { writeTextAtomic } from './store.ts';

/** Entry point of the `emotion-eval` bin. Returns the exit code (architecture doc, section 4). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return (program as Command & { exitCodeValue?: number }).exitCodeValue ?? EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    // Help on standard error because no command was given: a usage error, unless asked for.
    if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    process.stderr.write(`emotion-eval: ${commanderMessage(err.message)}\n`);
    return EXIT.badInput;
  }
  if (err instanceof InputError) {
    process.stderr.write(`emotion-eval: ${err.message}\n`);
    return EXIT.badInput;
  }
  if (err instanceof RuntimeFailure) {
    process.stderr.write(`emotion-eval: ${err.message}\n`);
    return EXIT.runtime;
  }
  const e = err as Error;
  process.stderr.write(`emotion-eval: unexpected failure: ${e?.message ?? String(err)}\n`);
  if (process.env.EMOTION_EVAL_DEBUG) process.stderr.write(`${e?.stack}\n`);
  return EXIT.runtime;
}

/**
 * commander's "error: unknown command 'rnu'\n(Did you mean run?)" as one line like the harness's own
 * errors: "unknown command 'rnu' (did you mean 'run'?)".
 */
export function commanderMessage(message: string): string {
  const [first = '', ...rest] = message.split('\n');
  let line = first.replace(/^error: /, '');
  for (const extra of rest.map((r) => r.trim()).filter(Boolean)) {
    const m = /^\(Did you mean (one of )?(.*)\?\)$/.exec(extra);
    if (m) {
      const names = (m[2] ?? '').split(', ').map((n) => `'${n}'`);
      line += ` (did you mean ${m[1] ?? ''}${names.join(', ')}?)`;
    } else line += ` ${extra}`;
  }
  return line;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `--variant emorynlp=json` (repeatable, or comma-separated): the form of a release to read. */
function variantPairs(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const out = { ...previous };
  for (const pair of list(value)) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(pair);
    if (!m) throw new InputError(`--variant: expected DATASET=FORM (e.g. emorynlp=json), got '${pair}'`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

function intList(value: string): number[] {
  return list(value).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw new InputError(`--seeds: '${s}' is not an integer`);
    return n;
  });
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new InputError(`${name}: expected a non-negative integer, got '${value}'`);
    return n;
  };
}

function shardSpec(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new InputError(`--shard: expected I/N with 1 <= I <= N (e.g. 2/4), got '${value}'`);
  }
  return { index, count };
}

async function configFrom(file: string | undefined): Promise<LoadedConfig> {
  if (file) return loadConfigFile(file);
  return { config: {}, baseDir: process.cwd() };
}

function buildProgram(): Command {
  const program = new Command('emotion-eval')
    .description('Benchmark and evaluation harness for text emotion recognition')
    .version(packageVersion())
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Parse errors reach reportError as a CommanderError, which prints them as one line.
      outputError: () => {},
    });

  const setExit = (code: number) => {
    (program as Command & { exitCodeValue?: number }).exitCodeValue = code;
  };

  program
    .command('datasets')
    .description(
      'which datasets are present, which files are missing, and examples and labels per protocol and split',
    )
    .option(
      '--data-dir <dir>',
      'folder with one sub-folder per dataset id (default: $EMOTION_EVAL_DATA, else the bundled samples)',
    )
    .option(
      '--variant <dataset=form>',
      'form of a release to read where two can sit side by side (emorynlp=json)',
      variantPairs,
    )
    .option('--config <file>', 'run config (for plugins)')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        dataDir?: string;
        variant?: Record<string, string>;
        config?: string;
        json?: boolean;
      }) => {
        const { config, baseDir } = await configFrom(opts.config);
        const registry = await createRegistry(config.plugins, baseDir);
        const dataDir = opts.dataDir ?? config.dataDir ?? process.env.EMOTION_EVAL_DATA;
        const report = await describeDatasets(registry, dataDir ? resolve(baseDir, dataDir) : undefined, {
          ...(config.variants ?? {}),
          ...(opts.variant ?? {}),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderDatasets(report));
      },
    );

  program
    .command('adapters')
    .description('the adapter types available (built-in and from plugins)')
    .option('--config <file>', 'run config (for plugins)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const { config, baseDir } = await configFrom(opts.config);
      const registry = await createRegistry(config.plugins, baseDir);
      const rows = registry.adapters.values().map((f) => ({
        type: f.type,
        description: f.description,
        origin: registry.adapters.origin(f.type),
      }));
      if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else
        for (const r of rows)
          process.stdout.write(
            `${r.type.padEnd(18)} ${r.description}${r.origin === 'built-in' ? '' : ` [${r.origin}]`}\n`,
          );
    });

  program
    .command('run')
    .description(
      'run adapters on tasks and write results/runs/<run-id>/ (re-running the same command resumes)',
    )
    .option('--config <file>', 'run config (YAML or JSON)')
    .option('--suite <name>', 'default | erc | peng2023 | a plugin suite')
    .option('--datasets <ids>', 'dataset ids, protocol ids or protocol.split task ids, comma-separated', list)
    .option('--adapters <ids>', 'only these adapter ids of the config or suite, comma-separated', list)
    .option('--data-dir <dir>', 'folder with one sub-folder per dataset id, as the official releases unpack')
    .option(
      '--variant <dataset=form>',
      'form of a release to read where two can sit side by side (emorynlp=json)',
      variantPairs,
    )
    .option('--out <dir>', 'results folder (default results/runs)')
    .option('--seeds <list>', 'seeds, comma-separated (each cell runs once per seed)', intList)
    .option(
      '--limit <n>',
      'evaluate only the first n examples of each task (smoke runs)',
      positiveInt('--limit'),
    )
    .option('--shard <i/n>', 'run only shard i of n (examples split by id hash)', shardSpec)
    .option('--split <split>', 'split to evaluate (default test)')
    .option('--name <name>', 'run name (folder under --out); the same name resumes')
    .addOption(
      new Option('--device <device>', 'in-process inference device').choices(['auto', 'cuda', 'cpu']),
    )
    .option(
      '--resamples <n>',
      'bootstrap resamples for confidence intervals (0: none)',
      positiveInt('--resamples'),
    )
    .option('--force-new', 'start a new run when one with this name exists with another config')
    .option('--retry-errors', 'redo examples that an earlier attempt recorded as errors')
    .option('--no-figures', 'do not write figures next to the leaderboard')
    .option('--quiet', 'no progress output')
    .action(async (opts: RunCliOptions) => {
      const loaded = await configFrom(opts.config);
      const config = mergeRunOptions(loaded.config, opts, loaded.file);
      const registry = await createRegistry(config.plugins, loaded.baseDir);
      const log = consoleLogger(opts.quiet);
      const result = await runEvaluation({
        config,
        configFile: loaded.file,
        baseDir: loaded.baseDir,
        registry,
        log,
        forceNew: opts.forceNew,
        retryErrors: opts.retryErrors,
        shard: opts.shard,
        adapterIds: opts.adapters,
        progress: !opts.quiet,
      });
      if (result.interrupted) {
        process.stderr.write(
          `interrupted; results so far are in ${result.runDir}; run the same command to resume\n`,
        );
        // The shell's convention: 128 + the signal's number.
        setExit(result.signal === 'SIGTERM' ? 143 : 130);
        return;
      }
      await reportRun(result.runDir, { figures: opts.figures !== false, log });
      process.stderr.write(
        `${result.cellsRun === 0 ? 'nothing to do: every cell was already complete; ' : ''}results in ${result.runDir}\n`,
      );
      // Answers that never came count as wrong: say so even when quiet, and fail a run that got none.
      if (result.errors.length > 0) {
        const total = result.errors.reduce((a, e) => a + e.errors, 0);
        const cells = result.errors
          .slice(0, 3)
          .map((e) => `${e.cell} ${e.errors}/${e.n}`)
          .join(', ');
        const more = result.errors.length > 3 ? ` and ${result.errors.length - 3} more cells` : '';
        log.warn(
          `${total} examples were recorded as errors (no answer; they count as wrong): ${cells}${more}; run the same command with --retry-errors to ask them again`,
        );
        const dead = result.errors.find((e) => e.errors === e.n);
        if (dead) {
          process.stderr.write(
            `emotion-eval: no answer at all in ${dead.cell}: is the server up, the model name and key right?\n`,
          );
          setExit(EXIT.runtime);
        }
      }
    });

  program
    .command('score')
    .description('metrics and confidence intervals from stored predictions (no inference)')
    .requiredOption('--predictions <file>', 'JSONL with at least {"id","gold","pred"} per line')
    .option(
      '--protocol <id>',
      'protocol whose labels and metrics apply (default: labels seen in gold, all metrics)',
    )
    .option(
      '--resamples <n>',
      'bootstrap resamples (default 1000; 0: no intervals)',
      positiveInt('--resamples'),
    )
    .option('--seed <n>', 'bootstrap seed', positiveInt('--seed'))
    .option('--unit <unit>', 'bootstrap unit: dialogue (when records carry dialogueId) or utterance')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        predictions: string;
        protocol?: string;
        resamples?: number;
        seed?: number;
        unit?: string;
        json?: boolean;
      }) => {
        const { scorePredictionsFile, renderScore } = await import('./score-command.ts');
        const registry = await createRegistry();
        const result = await scorePredictionsFile(opts.predictions, {
          protocol: opts.protocol ? registry.protocols.get(opts.protocol) : undefined,
          resamples: opts.resamples,
          seed: opts.seed,
          unit:
            opts.unit === 'utterance'
              ? 'utterance'
              : opts.unit === undefined || opts.unit === 'dialogue'
                ? 'dialogue'
                : badUnit(opts.unit),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderScore(result));
      },
    );

  program
    .command('leaderboard')
    .description('leaderboard and per-task tables from result folders (no inference)')
    .option('--results <dirs...>', 'run folders, or folders holding run folders', ['results/runs'])
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['terminal', 'md', 'latex', 'csv', 'json', 'html'])
        .default('terminal'),
    )
    .addOption(new Option('--layout <layout>', 'paper layout').choices(['peng2023', 'dialoguellm']))
    .option('--reference <adapter>', 'row that significance markers compare against')
    .option('--out <file>', 'write to a file instead of standard output')
    .action(
      async (opts: {
        results: string[];
        format: string;
        layout?: string;
        reference?: string;
        out?: string;
      }) => {
        const { leaderboardCommand } = await import('./report-commands.ts');
        const text = await leaderboardCommand({ ...opts, color: opts.out ? false : undefined });
        if (opts.out) writeTextAtomic(resolve(opts.out), text);
        else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      },
    );

  program
    .command('figures')
    .description('chart.js figures (PNG, SVG or PDF) from result folders')
    .option('--results <dirs...>', 'run folders, or folders holding run folders', ['results/runs'])
    .option('--out <dir>', 'output folder', 'figures')
    .addOption(new Option('--format <format>', 'image format').choices(['png', 'svg', 'pdf']).default('png'))
    .action(async (opts: { results: string[]; out: string; format: 'png' | 'svg' | 'pdf' }) => {
      const { figuresCommand } = await import('./report-commands.ts');
      const files = await figuresCommand(opts);
      for (const f of files) process.stdout.write(`${f}\n`);
    });

  program
    .command('merge')
    .description('join the shards of a sharded run (run --shard I/N) into one run folder')
    .argument('<dirs...>', 'shard run folders')
    .requiredOption('--out <dir>', 'folder of the merged run (must not exist)')
    .action(async (dirs: string[], opts: { out: string }) => {
      const { mergeShards } = await import('./merge.ts');
      const { runDir } = await mergeShards(
        dirs.map((d) => resolve(d)),
        resolve(opts.out),
      );
      await reportRun(runDir, { figures: false, log: consoleLogger(true) });
      process.stderr.write(`merged ${dirs.length} shards into ${runDir}\n`);
    });

  program
    .command('compare')
    .description('paired comparison of two runs; exit 1 when a task regressed significantly (CI gate)')
    .requiredOption('--baseline <dir>', 'baseline run folder')
    .requiredOption('--candidate <dir>', 'candidate run folder')
    .option('--alpha <p>', 'significance level after Holm correction', parseFloat, 0.05)
    .option(
      '--max-drop <x>',
      'largest tolerated drop of the headline metric (fraction, e.g. 0.01)',
      parseFloat,
      0,
    )
    .option('--seed <n>', 'seed of the resampling tests', positiveInt('--seed'))
    .option('--allow-errors', 'pass candidate cells with examples recorded as errors (no answer)')
    .option('--junit <file>', 'write JUnit XML (one test case per task)')
    .option('--markdown <file>', 'write a Markdown summary for a pull-request comment')
    .option('--chart <file>', 'write a chart of the deltas with their CIs (.png, .svg or .pdf)')
    .option('--json', 'machine-readable output')
    .action(async (opts: CompareCliOptions) => {
      const { compareCommand } = await import('./report-commands.ts');
      setExit(await compareCommand(opts));
    });

  return program;
}

function badUnit(unit: string): never {
  throw new InputError(`--unit: expected dialogue or utterance, got '${unit}'`);
}

export interface CompareCliOptions {
  baseline: string;
  candidate: string;
  alpha: number;
  maxDrop: number;
  seed?: number;
  allowErrors?: boolean;
  junit?: string;
  markdown?: string;
  chart?: string;
  json?: boolean;
}

interface RunCliOptions {
  config?: string;
  suite?: string;
  datasets?: string[];
  adapters?: string[];
  dataDir?: string;
  variant?: Record<string, string>;
  out?: string;
  seeds?: number[];
  limit?: number;
  shard?: { index: number; count: number };
  split?: string;
  name?: string;
  device?: 'auto' | 'cuda' | 'cpu';
  resamples?: number;
  forceNew?: boolean;
  retryErrors?: boolean;
  figures?: boolean;
  quiet?: boolean;
}

/** Command-line options override the config file's keys. */
function mergeRunOptions(config: RunConfigFile, o: RunCliOptions, file?: string): RunConfigFile {
  const merged: Record<string, unknown> = { ...config };
  if (o.suite) merged.suite = o.suite;
  if (o.datasets) merged.datasets = o.datasets;
  if (o.dataDir) merged.dataDir = resolve(o.dataDir);
  if (o.variant) merged.variants = { ...(config.variants ?? {}), ...o.variant };
  if (o.out) merged.out = resolve(o.out);
  if (o.seeds) merged.seeds = o.seeds;
  if (o.limit !== undefined) merged.limit = o.limit;
  if (o.split) merged.split = o.split;
  if (o.name) merged.name = o.name;
  if (o.device) merged.device = o.device;
  if (o.resamples !== undefined) merged.bootstrap = { ...(config.bootstrap ?? {}), resamples: o.resamples };
  const result = validateConfig(merged, file);
  return result;
}

/** After a run: the terminal leaderboard, leaderboard.md (and default figures) in the run folder. */
async function reportRun(
  runDir: string,
  o: { figures: boolean; log: ReturnType<typeof consoleLogger> },
): Promise<void> {
  const { leaderboardCommand, figuresCommand } = await import('./report-commands.ts');
  // The terminal gets the leaderboard alone; every per-task table is in leaderboard.md.
  const terminal = await leaderboardCommand({ results: [runDir], format: 'terminal', details: false });
  process.stdout.write(terminal.endsWith('\n') ? terminal : `${terminal}\n`);
  writeTextAtomic(
    join(runDir, 'leaderboard.md'),
    await leaderboardCommand({ results: [runDir], format: 'md' }),
  );
  if (o.figures) {
    try {
      await figuresCommand({ results: [runDir], out: join(runDir, 'figures'), format: 'png' });
    } catch (err) {
      o.log.warn(`figures were not written: ${(err as Error).message}`);
    }
  }
}

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(resolve(import.meta.dirname, '..', 'package.json'), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
}
