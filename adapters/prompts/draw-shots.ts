import { Rng } from '../../harness/random.ts';
import type { Example } from '../../harness/types.ts';

/**
 * k demonstrations drawn without replacement from `pool` with `seed`. The pool is ordered by id first,
 * so the draw depends only on the examples and the seed, never on load order. Every adapter that shows
 * demonstrations (served or in-process) should draw with this so that the same seed shows the same shots.
 */
export function drawShots(pool: readonly Example[], k: number, seed: number): Example[] {
  if (k <= 0 || pool.length === 0) return [];
  const sorted = [...pool].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // A fixed offset keeps this stream apart from other uses of Rng(seed) (bootstrap, shards).
  return new Rng((seed ^ 0x5ef07a11) >>> 0).shuffle(sorted).slice(0, Math.min(k, sorted.length));
}
