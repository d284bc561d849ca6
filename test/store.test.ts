import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, RuntimeFailure } from '../harness/errors.ts';
import {
  appendLines,
  outcomeOfLine,
  RunLock,
  readOutcomes,
  readRecords,
  recordLine,
  repairTornTail,
  rewriteInOrder,
} from '../harness/store.ts';
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
    expect(await repairTornTail(file)).toBe(true);
    const ids: string[] = [];
    for await (const { record } of readOutcomes(file)) ids.push(record.id);
    expect(ids).toEqual(['a', 'b']);
    expect(readFileSync(file, 'utf8').endsWith('}\n')).toBe(true);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('treats a complete line that is not JSON as corruption with its line number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-store-'));
    const file = join(dir, 'seed-1.jsonl');
    writeFileSync(file, `${recordLine(rec('a', 'joy'))}not json\n`);
    const drain = async (gen: AsyncGenerator<unknown>) => {
      for await (const _ of gen);
    };
    await expect(drain(readOutcomes(file))).rejects.toThrow(InputError);
    await expect(drain(readRecords(file))).rejects.toThrow(/:2: corrupt predictions line/);
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

describe('streaming repair and rewrite', () => {
  it('cuts a torn tail longer than one read chunk, and leaves a complete file alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-store-'));
    const file = join(dir, 'seed-1.jsonl');
    const complete = recordLine(rec('a', 'joy')) + recordLine(rec('b', 'joy'));
    writeFileSync(file, `${complete}{"id":"c","raw":"${'x'.repeat(200_000)}`);
    expect(await repairTornTail(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(complete);
    expect(await repairTornTail(file)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(complete);
    writeFileSync(file, '{"id":"only-partial"');
    expect(await repairTornTail(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('rewrites in the given order with the last line of a repeated id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-store-'));
    const file = join(dir, 'seed-1.jsonl');
    appendLines(file, [
      recordLine(rec('b', null)),
      recordLine(rec('a', 'joy')),
      recordLine(rec('b', 'anger')),
    ]);
    await rewriteInOrder(file, ['a', 'b']);
    expect(readFileSync(file, 'utf8')).toBe(recordLine(rec('a', 'joy')) + recordLine(rec('b', 'anger')));
    const ids: string[] = [];
    for await (const { record, line } of readRecords(file)) ids.push(`${line}:${record.id}`);
    expect(ids).toEqual(['1:a', '2:b']);
  });
});

describe('reading the scoring fields of a line', () => {
  it('agrees with a full parse on lines written by recordLine, escapes included', () => {
    const records: PredictionRecord[] = [
      { id: 'a"b\\c', gold: 'joy', pred: null, parse: 'unparseable', raw: 'no idea', text: 'x "q" \\ y' },
      { id: 'd', gold: 'anger', pred: 'anger', parse: 'ok', dialogueId: 'dia "1"', scores: { anger: 0.9 } },
      { id: 'e', gold: 'fear', pred: null, parse: 'error', error: 'timeout' },
    ];
    for (const r of records) {
      const line = recordLine(r).trimEnd();
      const full = JSON.parse(line);
      expect(outcomeOfLine(line)).toEqual({
        id: full.id,
        gold: full.gold,
        pred: full.pred,
        parse: full.parse,
        dialogueId: full.dialogueId,
      });
    }
  });

  it('falls back to a full parse for another key order, and rejects non-JSON', () => {
    expect(outcomeOfLine('{"pred":"joy","gold":"joy","id":"z","parse":"ok"}')).toEqual({
      id: 'z',
      gold: 'joy',
      pred: 'joy',
      parse: 'ok',
      dialogueId: undefined,
    });
    expect(outcomeOfLine('{"id":"z",')).toBeUndefined();
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
