import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The real data beside the checkout (../shared/data), or EMOTION_EVAL_SHARED_DATA. */
export const sharedData = process.env.EMOTION_EVAL_SHARED_DATA ?? resolve(repoRoot, '../shared/data');

/** True when the real data of `dataset` is present; tests on real data are skipped (visibly) otherwise. */
export function hasSharedData(dataset: string): boolean {
  return existsSync(resolve(sharedData, dataset));
}
