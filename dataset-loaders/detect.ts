import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileRecord } from '../harness/hash.ts';
import type { DetectResult, FileRecord } from '../harness/types.ts';

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The common detect(): the first variant (in declaration order) whose files are all present wins;
 * when none is complete, the variant with the most files present is reported with what it lacks.
 */
export async function detectVariants(
  dir: string,
  expected: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>,
): Promise<DetectResult> {
  let best: DetectResult | undefined;
  for (const [variant, perSplit] of Object.entries(expected)) {
    const files = [...new Set(Object.values(perSplit).flat())];
    const present: string[] = [];
    const missing: string[] = [];
    for (const f of files) ((await exists(join(dir, f))) ? present : missing).push(f);
    const result: DetectResult = { found: missing.length === 0, variant, present, missing };
    if (result.found) return result;
    if (!best || present.length > best.present.length) best = result;
  }
  return best ?? { found: false, present: [], missing: [] };
}

/** FileRecords (sha256, size) for files read, with paths as given. */
export function recordFiles(paths: readonly string[]): Promise<FileRecord[]> {
  return Promise.all(paths.map((p) => fileRecord(p)));
}
