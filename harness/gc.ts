import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * A full garbage collection between phases of a run (after the data is loaded, after a cell). V8
 * otherwise lets the old generation grow to a multiple of what is alive before it collects, so a
 * million-utterance run would peak far above its live memory.
 */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/**
 * From this many items (utterances, examples) on, a phase's garbage is worth a full collection: V8
 * lets the heap grow to about twice what is alive before it collects, and a million-utterance run
 * peaked there (bench/results/memory-scale.json: about 980 MiB without the collections around
 * loading and scoring, about 700 MiB with them). Below it a collection is not worth its pause.
 */
const LARGE = 100_000;

/** A full collection when `items` reaches LARGE. */
export function collectGarbageIfLarge(items: number): void {
  if (items >= LARGE) collectGarbage();
}
