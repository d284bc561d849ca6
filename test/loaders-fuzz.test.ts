/**
 * Seeded mutations of every bundled sample (test/support/fuzz-mutations.ts: truncation, deleted or
 * swapped lines, a crude first-column cut, swapped CSV/TSV columns with and without the header,
 * swapped field values in JSON records, a stray quote, invalid UTF-8, BOM, CRLF, duplicated lines
 * (hence duplicated ids), empty files, huge lines).
 *
 * In process, every load ends either in a correct result or in one InputError of one short line
 * naming a file of the release (and a line that exists in it) — never another error, never a hang.
 * Through the CLI (`emotion-eval run`), a seeded subset per dataset exits 0 with results written, or
 * 2 with exactly one stderr line naming the file, no stack trace and nothing left under --out.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinLoaders } from '../dataset-loaders/index.ts';
import { InputError } from '../harness/errors.ts';
import { Rng } from '../harness/random.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import { type DatasetLoader, TASK_SPLITS } from '../harness/types.ts';
import { cliAsync } from './support/cli.ts';
import { type FileKind, fileKind, filesRead, MUTATIONS, type Mutation } from './support/fuzz-mutations.ts';

const SEED = 20261123;
/** Files mutated per mutation and dataset in process (drawn by seed among the files it applies to). */
const FILES_PER_MUTATION = 2;
/** A CLI run that takes longer than this hangs (a normal one takes 1-2 s). */
const CLI_TIMEOUT_MS = 45_000;

const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every task of every protocol of the loader in `dir`, as comparable data (what a run would see). */
async function loadEverything(loader: DatasetLoader, dir: string): Promise<string> {
  const builder = new TaskBuilder();
  const detected = await loader.detect(dir);
  // The mutations edit files in place and never remove one: the release must still be found.
  expect(detected.missing, `${dir}: files missing`).toEqual([]);
  const tasks: unknown[] = [];
  for (const protocol of loader.protocols) {
    for (const split of TASK_SPLITS) {
      if (!protocol.splits[split]) continue;
      const task = await builder.build(loader, protocol, split, dir);
      tasks.push({
        id: task.id,
        variant: task.variant,
        dropped: task.dropped,
        examples: task.examples.map((e) => [
          e.id,
          e.dialogueId,
          e.speaker,
          e.text,
          e.label,
          e.context.length,
        ]),
      });
    }
  }
  return JSON.stringify(tasks);
}

/** Physical lines of a file as an editor counts them (CRLF, LF or a lone CR ends one). */
function lineCount(file: string): number {
  return readFileSync(file, 'latin1').split(/\r\n|\r|\n/).length;
}

/** What must hold of the one-line message naming the file (and line) of a refused release. */
function checkErrorLocation(
  where: string,
  located: { message: string; file?: string | undefined; line?: number | undefined },
  dir: string,
  mutated: { file: string; kind: FileKind; bytes: number },
): void {
  const { message, file, line } = located;
  expect(message.includes('\n') || message.includes('\r'), `${where}: ${message}`).toBe(false);
  // One clear line: a quoted value is clipped, never the 2 MB line itself.
  expect(message.replaceAll(dir, '<dir>').length, `${where}: message too long`).toBeLessThan(1000);
  expect(file, `${where}: names no file: ${message}`).toBeDefined();
  expect(file!.startsWith(`${dir}/`), `${where}: names ${file}, not a file of ${dir}`).toBe(true);
  expect(existsSync(file!), `${where}: names ${file}, which does not exist`).toBe(true);
  if (line !== undefined) {
    expect(line, `${where}: ${message}`).toBeGreaterThanOrEqual(1);
    // The line just past the end is where a missing line was expected ("has 3 lines but ... has 6").
    expect(line, `${where}: ${message} (past the end of the file)`).toBeLessThanOrEqual(lineCount(file!) + 1);
  }
  // Where the fault is in the file that was mutated and that file has lines, the message says where.
  // Exempt: a split with nothing left in it (no single line is at fault).
  const wholeFile = /no utterances in .* split/.test(message);
  if (file === mutated.file && mutated.bytes > 0 && !wholeFile) {
    if (mutated.kind === 'json') {
      expect(line !== undefined || /\$[.[]/.test(message), `${where}: no line or JSON path: ${message}`).toBe(
        true,
      );
    } else {
      expect(line, `${where}: no line: ${message}`).toBeDefined();
    }
  }
}

/** Up to `n` different files drawn from `files`. */
function draw<T>(files: readonly T[], n: number, rng: Rng): T[] {
  return rng.shuffle([...files]).slice(0, n);
}

describe('loader fuzzing on the bundled samples (in process)', () => {
  for (const [index, loader] of builtinLoaders.entries()) {
    it(`${loader.id}: every mutation loads or fails with one clear line`, async () => {
      const sample = loader.sampleDir!;
      const pristine = await loadEverything(loader, sample);
      const files = [...new Set([...filesRead(loader, sample).values()].flat())];
      expect(files.length, 'files found').toBeGreaterThan(0);
      const outcomes = { loaded: 0, error: 0, cases: 0 };
      for (const [m, mutation] of MUTATIONS.entries()) {
        const rng = new Rng(SEED + 1000 * index + m);
        const applicable = files.filter((f) => !mutation.kinds || mutation.kinds.includes(fileKind(f)));
        for (const target of draw(applicable, FILES_PER_MUTATION, rng)) {
          const where = `${loader.id} / ${mutation.name} / ${target} (seed ${SEED + 1000 * index + m})`;
          const dir = tempDir(`ee-fuzz-${loader.id}-`);
          cpSync(sample, dir, { recursive: true });
          const kind = fileKind(target);
          const bytes = mutation.mutate(readFileSync(join(dir, target)), rng, kind);
          writeFileSync(join(dir, target), bytes);
          outcomes.cases++;
          const started = performance.now();
          let loaded: string | undefined;
          try {
            loaded = await loadEverything(loader, dir);
          } catch (err) {
            if ((err as Error).name === 'AssertionError') throw err;
            if (!(err instanceof InputError)) {
              throw new Error(`${where}: not a clear error but ${(err as Error)?.stack ?? String(err)}`);
            }
            checkErrorLocation(where, err, dir, { file: join(dir, target), kind, bytes: bytes.length });
            outcomes.error++;
          }
          if (loaded !== undefined) {
            outcomes.loaded++;
            // E.g. invalid UTF-8 must never load silently as U+FFFD, an emptied file is never a
            // release, a stray line is never a row, a repeated row repeats an id.
            expect(mutation.refusedIn?.includes(kind), `${where}: loaded`).not.toBe(true);
            // Columns swapped with their header keep every value under its name: the same release.
            if (mutation.preservesContent)
              expect(loaded === pristine, `${where}: loaded other data`).toBe(true);
          }
          expect(performance.now() - started, `${where}: took too long`).toBeLessThan(10_000);
          rmSync(dir, { recursive: true, force: true });
        }
      }
      // Every mutation found a file to apply to where it applies at all, and most broken releases are
      // caught, not silently accepted.
      expect(outcomes.cases).toBeGreaterThanOrEqual(MUTATIONS.filter((m) => !m.kinds).length);
      expect(outcomes.error).toBeGreaterThan(outcomes.cases / 3);
    });
  }
});

interface CliCase {
  split: 'test' | 'train';
  file: string;
  mutation: Mutation;
  seed: number;
}

/**
 * Two CLI cases per dataset: a mutated file of the default protocol's test split (read when the tasks
 * are built, before the run folder exists) and one of its train split (read when majority fits,
 * after the run folder was made), a train-only file where there is one; mutation and file by seed.
 */
function cliCases(index: number, loader: DatasetLoader): CliCase[] {
  const protocol = loader.protocols[0]!; // what `--datasets <id>` runs
  const bySplit = filesRead(loader, loader.sampleDir!);
  const filesOf = (split: 'test' | 'train') =>
    (protocol.splits[split] ?? []).flatMap((ls) => bySplit.get(ls) ?? []);
  const testFiles = filesOf('test');
  const trainOnly = filesOf('train').filter((f) => !testFiles.includes(f));
  return (['test', 'train'] as const).map((split, k) => {
    const seed = SEED + 7919 * (index + 1) + k;
    const rng = new Rng(seed);
    const pool = split === 'train' && trainOnly.length > 0 ? trainOnly : filesOf(split);
    const file = pool[rng.int(pool.length)]!;
    const applicable = MUTATIONS.filter((m) => !m.kinds || m.kinds.includes(fileKind(file)));
    return { split, file, mutation: applicable[rng.int(applicable.length)]!, seed };
  });
}

const cliTally = { runs: 0, exit2: 0 };
const cliRunsExpected = builtinLoaders.length * 2;

describe('loader fuzzing through the CLI (emotion-eval run)', () => {
  for (const [index, loader] of builtinLoaders.entries()) {
    const cases = cliCases(index, loader);
    const title = cases.map((c) => `${c.split} ${basename(c.file)}: ${c.mutation.name}`).join('; ');
    it(`${loader.id} (${title}): exit 0 with results, or 2 with one line and nothing left`, async () => {
      await Promise.all(
        cases.map(async (c) => {
          const where = `${loader.id} / ${c.split} ${c.file} / ${c.mutation.name} (seed ${c.seed})`;
          const root = tempDir(`ee-fuzz-cli-${loader.id}-`);
          const data = join(root, 'data');
          const dir = join(data, loader.id);
          const out = join(root, 'out');
          cpSync(loader.sampleDir!, dir, { recursive: true });
          const target = join(dir, c.file);
          const kind = fileKind(c.file);
          const bytes = c.mutation.mutate(readFileSync(target), new Rng(c.seed), kind);
          writeFileSync(target, bytes);
          let timer: NodeJS.Timeout | undefined;
          let hung = false;
          const r = await cliAsync(
            [
              'run',
              '--datasets',
              loader.id,
              '--data-dir',
              data,
              '--adapters',
              'majority',
              '--out',
              out,
              '--no-figures',
              '--quiet',
            ],
            {
              cwd: root,
              env: { EMOTION_EVAL_DEBUG: '' },
              onSpawn: (child) => {
                timer = setTimeout(() => {
                  hung = true;
                  child.kill('SIGKILL');
                }, CLI_TIMEOUT_MS);
              },
            },
          ).finally(() => clearTimeout(timer));
          expect(hung, `${where}: no answer within ${CLI_TIMEOUT_MS / 1000} s`).toBe(false);
          const said = `${where}: exit ${r.code}, stderr: ${r.stderr.slice(0, 2000)}`;
          expect(r.stderr, said).not.toMatch(/^\s+at /m);
          expect([0, 2], said).toContain(r.code);
          cliTally.runs++;
          if (r.code === 0) {
            expect(c.mutation.refusedIn?.includes(kind), `${where}: accepted`).not.toBe(true);
            // A correct load is a whole run: its results are there.
            const runs = readdirSync(out);
            expect(runs.length, said).toBe(1);
            expect(existsSync(join(out, runs[0]!, 'summary.json')), said).toBe(true);
            return;
          }
          cliTally.exit2++;
          // Exactly one line on stderr: "emotion-eval: <file>[:<line>]: <what>".
          expect(r.stderr.endsWith('\n'), said).toBe(true);
          const message = r.stderr.slice(0, -1);
          const m = new RegExp(`^emotion-eval: (${escapeRegExp(dir)}/[^:\\n]+?)(?::(\\d+))?: \\S`).exec(
            message,
          );
          expect(m, `${said}: not "emotion-eval: <file of ${dir}>[:<line>]: ..."`).not.toBeNull();
          checkErrorLocation(
            where,
            { message, file: m![1], line: m![2] === undefined ? undefined : Number(m![2]) },
            dir,
            { file: target, kind, bytes: bytes.length },
          );
          // Bad input leaves no results behind (the runner removes the run folder it made).
          const left = existsSync(out) ? readdirSync(out, { recursive: true }) : [];
          expect(left, `${where}: left under --out`).toEqual([]);
        }),
      );
    });
  }

  it('the seeded CLI cases include refused releases', () => {
    // Only meaningful when every dataset's cases ran (not under a -t filter).
    if (cliTally.runs < cliRunsExpected) return;
    expect(cliTally.exit2).toBeGreaterThanOrEqual(cliRunsExpected / 4);
  });
});
