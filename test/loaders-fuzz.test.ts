/**
 * Seeded mutations of every bundled sample (truncation, deleted or swapped lines, broken quoting,
 * invalid UTF-8, BOM, CRLF, duplicated lines, empty files, huge lines): every load ends either in a
 * correct result or in one InputError of one line naming a file — never a stack trace, never a hang.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinLoaders } from '../dataset-loaders/index.ts';
import { InputError } from '../harness/errors.ts';
import { Rng } from '../harness/random.ts';
import { TaskBuilder } from '../harness/tasks.ts';
import { TASK_SPLITS } from '../harness/types.ts';

type Mutation = (bytes: Buffer, rng: Rng) => Buffer;

const lines = (b: Buffer) => b.toString('latin1').split('\n');
const join1 = (ls: string[]) => Buffer.from(ls.join('\n'), 'latin1');

const mutations: Record<string, Mutation> = {
  truncate: (b, rng) => b.subarray(0, rng.int(Math.max(1, b.length))),
  'delete line': (b, rng) => {
    const ls = lines(b);
    ls.splice(rng.int(ls.length), 1);
    return join1(ls);
  },
  'swap lines': (b, rng) => {
    const ls = lines(b);
    const i = rng.int(ls.length);
    const j = rng.int(ls.length);
    [ls[i], ls[j]] = [ls[j]!, ls[i]!];
    return join1(ls);
  },
  'delete a column': (b) => join1(lines(b).map((l) => l.replace(/^[^,\t]*[,\t]/, ''))),
  'stray quote': (b, rng) => {
    const at = rng.int(b.length);
    return Buffer.concat([b.subarray(0, at), Buffer.from('"'), b.subarray(at)]);
  },
  'invalid utf-8': (b, rng) => {
    const at = rng.int(b.length);
    return Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3]), b.subarray(at)]);
  },
  bom: (b) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]),
  crlf: (b) => Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'),
  'duplicate line': (b, rng) => {
    const ls = lines(b);
    const i = 1 + rng.int(Math.max(1, ls.length - 2));
    ls.splice(i, 0, ls[i] ?? '');
    return join1(ls);
  },
  empty: () => Buffer.alloc(0),
  'huge line': (b, rng) => {
    const ls = lines(b);
    ls.splice(1 + rng.int(Math.max(1, ls.length - 1)), 0, 'x'.repeat(2_000_000));
    return join1(ls);
  },
};

async function loadEverything(loaderIndex: number, dir: string): Promise<void> {
  const loader = builtinLoaders[loaderIndex]!;
  const builder = new TaskBuilder();
  const detected = await loader.detect(dir);
  if (!detected.found) return;
  for (const protocol of loader.protocols) {
    for (const split of TASK_SPLITS) {
      if (protocol.splits[split]) await builder.build(loader, protocol, split, dir);
    }
  }
}

describe('loader fuzzing on the bundled samples', () => {
  const rng = new Rng(20261123);
  for (const [index, loader] of builtinLoaders.entries()) {
    it(`${loader.id}: every mutation loads or fails with one clear line`, async () => {
      const variant = Object.keys(loader.expectedFiles)[0]!;
      const files = [...new Set(Object.values(loader.expectedFiles[variant]!).flat())];
      const outcomes: Record<string, number> = { loaded: 0, error: 0 };
      for (const [name, mutate] of Object.entries(mutations)) {
        const dir = mkdtempSync(join(tmpdir(), `ee-fuzz-${loader.id}-`));
        cpSync(loader.sampleDir!, dir, { recursive: true });
        // IEMOCAP lists folders; mutate a file inside the first one instead.
        let target = join(dir, files[rng.int(files.length)]!);
        try {
          readFileSync(target);
        } catch {
          const { readdirSync } = await import('node:fs');
          const txt = readdirSync(target, { recursive: true, encoding: 'utf8' }).find((f) =>
            f.endsWith('.txt'),
          );
          if (!txt) continue;
          target = join(target, txt);
        }
        writeFileSync(target, mutate(readFileSync(target), rng));
        const started = performance.now();
        try {
          await loadEverything(index, dir);
          outcomes.loaded!++;
          // Invalid UTF-8 must never load silently as U+FFFD, and an emptied file is never a release.
          expect(['invalid utf-8', 'empty'], `${loader.id} / ${name} loaded`).not.toContain(name);
        } catch (err) {
          if ((err as Error).name === 'AssertionError') throw err;
          if (!(err instanceof InputError)) {
            throw new Error(
              `${loader.id} / ${name}: not a clear error but ${(err as Error)?.stack ?? String(err)}`,
            );
          }
          expect(err.message.includes('\n'), `${name}: ${err.message}`).toBe(false);
          expect(err.message, name).toMatch(
            new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|file not found|missing`),
          );
          outcomes.error!++;
        }
        expect(performance.now() - started, `${name} took too long`).toBeLessThan(10_000);
      }
      // Most mutations of an official format must be caught, not silently accepted.
      expect(outcomes.error).toBeGreaterThan(0);
    });
  }
});
