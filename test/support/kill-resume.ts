import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Rng } from '../../harness/random.ts';
import { cliAsync } from './cli.ts';

/** Ids of the complete lines of a predictions file (a line cut by a kill has no newline yet). */
export function recordedIds(file: string, field: 'id' | 'text' = 'id'): string[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop();
  return lines.filter(Boolean).map((l) => JSON.parse(l)[field]);
}

export interface AttemptInfo {
  episode: number;
  attempt: number;
  /** Ids recorded before this start. */
  before: Set<string>;
  /** The EMOTION_EVAL_TRACE file of this start. */
  trace: string;
}

/**
 * Kills `emotion-eval run` with SIGKILL at seeded points (by recorded lines, or one start in four
 * after a seeded time, which lands anywhere from start-up to the last metrics) and starts the same
 * command again each time, in episodes: each episode is one output folder, killed until a start is
 * let run to the end, then `verify(out)` checks it. A start that ends before its kill point (a loaded
 * machine) just ends the episode early; episodes go on until `kills` kills have happened.
 */
export async function killAndResume(o: {
  root: string;
  args: (out: string) => string[];
  predictions: (out: string) => string;
  total: number;
  kills: number;
  seed: number;
  env?: Record<string, string>;
  afterAttempt?: (info: AttemptInfo) => void;
  verify: (out: string) => void;
}): Promise<{ kills: number; episodes: number }> {
  const rng = new Rng(o.seed);
  let kills = 0;
  let episodes = 0;
  while (kills < o.kills && episodes < 12) {
    const out = join(o.root, `killed-${episodes}`);
    const predictions = o.predictions(out);
    let finished = false;
    for (let attempt = 0; attempt < 60 && !finished; attempt++) {
      const trace = join(o.root, `trace-${episodes}-${attempt}.jsonl`);
      const before = new Set(recordedIds(predictions));
      const target = before.size + 1 + rng.int(Math.max(1, Math.floor((o.total - before.size) / 40)));
      // One start in four is killed after a random time instead, so that kills also land outside
      // the prediction loop: loading, fitting a baseline, writing metrics or the manifest.
      const afterMs = rng.next() < 0.25 ? 30 + rng.int(1500) : undefined;
      const r = await cliAsync(o.args(out), {
        env: { ...o.env, EMOTION_EVAL_TRACE: trace },
        onSpawn: (child) => {
          if (kills >= o.kills) return;
          if (afterMs !== undefined) {
            const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
            child.on('exit', () => clearTimeout(timer));
            return;
          }
          const timer = setInterval(() => {
            if (recordedIds(predictions).length >= target) {
              clearInterval(timer);
              child.kill('SIGKILL');
            }
          }, 2);
          child.on('exit', () => clearInterval(timer));
        },
      });
      if (r.signal === 'SIGKILL') kills++;
      else {
        expect(r.code, r.stderr).toBe(0);
        finished = true;
      }
      const handed = existsSync(trace)
        ? readFileSync(trace, 'utf8')
            .split('\n')
            .filter(Boolean)
            .flatMap((l) => JSON.parse(l).ids as string[])
        : [];
      for (const id of handed)
        expect(before.has(id), `${id} was recorded before attempt ${attempt}`).toBe(false);
      o.afterAttempt?.({ episode: episodes, attempt, before, trace });
    }
    expect(finished).toBe(true);
    const ids = recordedIds(predictions);
    expect(ids.length).toBe(o.total);
    expect(new Set(ids).size).toBe(o.total);
    o.verify(out);
    episodes++;
  }
  return { kills, episodes };
}
