import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, RuntimeFailure } from '../harness/errors.ts';
import { appendLines, RunLock, readPredictionsForResume, recordLine } from '../harness/store.ts';
import type { PredictionRecord } from '../harness/types.ts';

const rec = (id: string, pred: string | null): PredictionRecord => ({
  id,
  gold: 'joy',
  pred,
  parse: pred ? 'ok' : 'unparseable',
});

describe('predictions store', () => {
  it('drops a torn last line on resume and never parses it as a record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-store-'));
    const file = join(dir, 'seed-1.jsonl');
    appendLines(file, [recordLine(rec('a', 'joy')), recordLine(rec('b', 'anger'))]);
    // Simulate a kill in the middle of the next write.
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"id":"c","gold":"jo`);
    const { records, repaired } = await readPredictionsForResume(file);
    expect(repaired).toBe(true);
    expect([...records.keys()]).toEqual(['a', 'b']);
    expect(readFileSync(file, 'utf8').endsWith('}\n')).toBe(true);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('treats a complete line that is not JSON as corruption with its line number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-store-'));
    const file = join(dir, 'seed-1.jsonl');
    writeFileSync(file, `${recordLine(rec('a', 'joy'))}not json\n`);
    await expect(readPredictionsForResume(file)).rejects.toThrow(InputError);
    await expect(readPredictionsForResume(file)).rejects.toThrow(/:2: corrupt predictions line/);
  });

  it('writes records with a fixed key order and no timing, so finished files compare byte for byte', () => {
    const a = recordLine({
      parse: 'ok',
      pred: 'joy',
      gold: 'joy',
      id: 'x',
      latencyMs: 12,
    } as PredictionRecord);
    const b = recordLine({ id: 'x', gold: 'joy', pred: 'joy', parse: 'ok', latencyMs: 99 });
    expect(a).toBe(b);
    expect(a).toBe('{"id":"x","gold":"joy","pred":"joy","parse":"ok"}\n');
  });
});

describe('run lock', () => {
  it('refuses a second holder and takes over a lock left by a dead process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-lock-'));
    const path = join(dir, '.lock');
    const first = new RunLock(path);
    first.acquire();
    expect(() => new RunLock(path).acquire()).toThrow(RuntimeFailure);
    first.release();
    // A lock written by a process that no longer exists (pid far above pid_max is never alive).
    writeFileSync(path, JSON.stringify({ pid: 2 ** 30, host: hostname() }));
    const third = new RunLock(path);
    expect(() => third.acquire()).not.toThrow();
    third.release();
  });
});
