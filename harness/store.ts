import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { readFile, truncate } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
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

/**
 * Reads a predictions JSONL for resuming. A last line cut mid-write (no final newline) is dropped
 * from the file and redone; a complete line that does not parse is corruption, not a torn write.
 */
export async function readPredictionsForResume(
  path: string,
  log?: Logger,
): Promise<{ records: Map<string, PredictionRecord>; repaired: boolean }> {
  const records = new Map<string, PredictionRecord>();
  if (!existsSync(path)) return { records, repaired: false };
  const buf = await readFile(path);
  let end = buf.length;
  let repaired = false;
  if (end > 0 && buf[end - 1] !== 0x0a) {
    end = buf.lastIndexOf(0x0a) + 1;
    await truncate(path, end);
    repaired = true;
    log?.warn(`${path}: dropped a partial last line left by an interrupted write; it will be redone`);
  }
  const text = buf.subarray(0, end).toString('utf8');
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    if (raw === '') continue;
    let rec: PredictionRecord;
    try {
      rec = JSON.parse(raw) as PredictionRecord;
    } catch {
      throw new InputError(
        'corrupt predictions line (not JSON); delete the file to redo this cell',
        path,
        line,
      );
    }
    // A record seen twice (should not happen) keeps its first answer: the file is append-only.
    if (!records.has(rec.id)) records.set(rec.id, rec);
  }
  return { records, repaired };
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
