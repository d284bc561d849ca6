import type { DatasetLoader } from '../harness/types.ts';

/** Every built-in dataset loader. Add one line per loader module. */
export const builtinLoaders: DatasetLoader[] = [];
