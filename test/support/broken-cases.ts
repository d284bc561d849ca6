import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BrokenCase {
  name: string;
  dir: string;
  /** Loader split to load (split.txt in the case folder, else the default). */
  split: string;
  /** The exact error message, with the case folder written as `<dir>`. */
  expected: string;
}

/**
 * The broken-file fixtures under `root`: one folder per case, holding the files and
 * expected-error.txt (the exact message the loader must throw, `<dir>` standing for the folder).
 */
export function brokenCases(root: string, defaultSplit: string): BrokenCase[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => {
      const dir = join(root, e.name);
      const splitFile = join(dir, 'split.txt');
      return {
        name: e.name,
        dir,
        split: existsSync(splitFile) ? readFileSync(splitFile, 'utf8').trim() : defaultSplit,
        expected: readFileSync(join(dir, 'expected-error.txt'), 'utf8').trimEnd().replaceAll('<dir>', dir),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
