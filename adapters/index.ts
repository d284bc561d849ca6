import type { AdapterFactory } from '../harness/types.ts';

/** Every built-in adapter type. Add one line per adapter family. */
// biome-ignore lint/suspicious/noExplicitAny: factories have heterogeneous config types.
export const builtinAdapters: AdapterFactory<any>[] = [];
