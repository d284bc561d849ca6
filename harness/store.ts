import {
  closeSync,
  createReadStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { truncate } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { InputError, RuntimeFailure } from './errors.ts';
import type { Logger, PredictionRecord } from './types.ts';

/** results/runs/<run-id>/ paths (architecture doc, section 5). */
export class RunPaths {
  constructor(readonly dir: string) {}
  get manifest(): string {
    return join(this.dir, 'manifest.json');
  }
  get summary(): string {
    return join(this.dir, 'summary.json');
  }
  get lock(): string {
    return join(this.dir, '.lock');
  }
  predictions(task: string, adapter: string, seed: number): string {
    return join(this.dir, 'predictions', task, adapter, `seed-${seed}.jsonl`);
  }
  metrics(task: string, adapter: string, seed: number): string {
    return join(this.dir, 'metrics', task, adapter, `seed-${seed}.json`);
  }
  work(task: string, adapter: string, seed: number): string {
    return join(this.dir, 'work', task, adapter, `seed-${seed}`);
  }
}

/** Writes JSON through a temporary file and a rename, so readers never see half a file. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeTextAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function writeTextAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError('file not found', path);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new InputError(`not valid JSON: ${(err as Error).message}`, path);
  }
}

/** Appends complete lines in one write call, so a kill leaves at most one partial line. */
export function appendLines(path: string, lines: readonly string[]): void {
  if (lines.length === 0) return;
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, lines.join(''));
  } finally {
    closeSync(fd);
  }
}

/** The canonical JSON line of a record (fixed key order, no timing), so finished files compare byte for byte. */
export function recordLine(r: PredictionRecord): string {
  const out: Record<string, unknown> = { id: r.id, gold: r.gold, pred: r.pred, parse: r.parse };
  if (r.dialogueId !== undefined) out.dialogueId = r.dialogueId;
  if (r.text !== undefined) out.text = r.text;
  if (r.speaker !== undefined) out.speaker = r.speaker;
  if (r.context !== undefined) out.context = r.context;
  if (r.scores !== undefined) out.scores = r.scores;
  if (r.raw !== undefined) out.raw = r.raw;
  if (r.error !== undefined) out.error = r.error;
  if (r.lenient) out.lenient = true;
  return `${JSON.stringify(out)}\n`;
}

/**
 * An exclusive lock on a run folder: two processes never write the same run. A lock left by a dead
 * process on this host is taken over.
 */
export class RunLock {
  #held = false;
  constructor(readonly path: string) {}

  acquire(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.path, 'wx');
        writeSync(
          fd,
          JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
        );
        closeSync(fd);
        this.#held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = this.#holder();
        if (holder && holder.host === hostname() && !isAlive(holder.pid)) {
          rmSync(this.path, { force: true });
          continue;
        }
        throw new RuntimeFailure(
          `${dirname(this.path)} is in use by process ${holder?.pid ?? '?'} on ${holder?.host ?? '?'}; wait for it, or remove ${this.path} if that process is gone`,
        );
      }
    }
    throw new RuntimeFailure(`could not lock ${this.path}`);
  }

  release(): void {
    if (this.#held) rmSync(this.path, { force: true });
    this.#held = false;
  }

  #holder(): { pid: number; host: string } | undefined {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      return undefined;
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cuts a last line left unfinished by a killed write (no final newline), so it is redone rather
 * than parsed. Reads only the file's tail. Returns whether anything was cut.
 */
export async function repairTornTail(path: string, log?: Logger): Promise<boolean> {
  if (!existsSync(path)) return false;
  const { size } = statSync(path);
  if (size === 0) return false;
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(Math.min(size, 1 << 16));
    let end = size;
    for (;;) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      if (end === size && chunk[n - 1] === 0x0a) return false;
      const at = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (at >= 0 || start === 0) {
        const keep = at >= 0 ? start + at + 1 : 0;
        closeSync(fd);
        await truncate(path, keep);
        log?.warn(`${path}: dropped a partial last line left by an interrupted write; it will be redone`);
        return true;
      }
      end = start;
    }
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Already closed before truncating.
    }
  }
}

const STR = '"(?:[^"\\\\]|\\\\.)*"';
const OUTCOME = new RegExp(
  `^\\{"id":(${STR}),"gold":(${STR}),"pred":(null|${STR}),"parse":"(ok|unparseable|error)"(?:,"dialogueId":(${STR}))?`,
);

/**
 * The scoring fields of a record line (id, gold, pred, parse, dialogueId from the line's head,
 * lenient from its end) without building the whole record: recordLine() puts them there. Other writers'
 * lines fall back to a full parse. `undefined` when the line is not JSON.
 */
export function outcomeOfLine(
  text: string,
): Pick<PredictionRecord, 'id' | 'gold' | 'pred' | 'parse' | 'dialogueId' | 'lenient'> | undefined {
  const m = OUTCOME.exec(text);
  if (m) {
    const o: Pick<PredictionRecord, 'id' | 'gold' | 'pred' | 'parse' | 'dialogueId' | 'lenient'> = {
      id: JSON.parse(m[1]!),
      gold: JSON.parse(m[2]!),
      pred: m[3] === 'null' ? null : JSON.parse(m[3]!),
      parse: m[4] as PredictionRecord['parse'],
      dialogueId: m[5] === undefined ? undefined : JSON.parse(m[5]),
    };
    // recordLine writes `lenient` last, so its mark is the line's end.
    if (text.endsWith(',"lenient":true}')) o.lenient = true;
    return o;
  }
  try {
    const r = JSON.parse(text) as PredictionRecord;
    return {
      id: r.id,
      gold: r.gold,
      pred: r.pred,
      parse: r.parse,
      dialogueId: r.dialogueId,
      ...(r.lenient === true ? { lenient: true } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Non-empty lines of a file with their 1-based numbers, streamed (nothing when the file is absent). */
async function* nonEmptyLines(path: string): AsyncGenerator<{ text: string; line: number }> {
  if (!existsSync(path)) return;
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text !== '') yield { text, line };
  }
}

function corrupt(path: string, line: number): InputError {
  return new InputError('corrupt predictions line (not JSON); delete the file to redo this cell', path, line);
}

/** Streams the scoring fields of a predictions file's records, with line numbers. */
export async function* readOutcomes(path: string): AsyncGenerator<{
  record: Pick<PredictionRecord, 'id' | 'gold' | 'pred' | 'parse' | 'dialogueId'>;
  line: number;
}> {
  for await (const { text, line } of nonEmptyLines(path)) {
    const record = outcomeOfLine(text);
    if (!record) throw corrupt(path, line);
    yield { record, line };
  }
}

/** Streams the records of a predictions file with their line numbers and raw text. */
export async function* readRecords(
  path: string,
): AsyncGenerator<{ record: PredictionRecord; line: number; text: string }> {
  for await (const { text, line } of nonEmptyLines(path)) {
    let record: PredictionRecord;
    try {
      record = JSON.parse(text) as PredictionRecord;
    } catch {
      throw corrupt(path, line);
    }
    yield { record, line, text };
  }
}

/**
 * Rewrites a predictions file with one line per id, in the given order (the last line seen for an
 * id wins), streaming to a temporary file and renaming it over the original.
 */
export async function rewriteInOrder(path: string, ids: readonly string[]): Promise<void> {
  const latest = new Map<string, string>();
  for await (const { record, text } of readRecords(path)) latest.set(record.id, text);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    let buffer = '';
    for (const id of ids) {
      const text = latest.get(id);
      if (text === undefined) throw new RuntimeFailure(`${path}: no prediction for '${id}'`);
      buffer += `${text}\n`;
      if (buffer.length > 1 << 20) {
        writeSync(fd, buffer);
        buffer = '';
      }
    }
    writeSync(fd, buffer);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
