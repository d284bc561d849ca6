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
