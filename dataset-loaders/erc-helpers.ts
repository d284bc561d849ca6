/**
 * Small pieces shared by the conversational (ERC) loaders: label lookup that ignores case and
 * surrounding spaces, the bundled-sample folder of a loader, and whole-file reading with the
 * missing-file error every loader reports the same way.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../harness/errors.ts';
import type { LabelMapping } from '../harness/types.ts';
import { decodeUtf8 } from './utf8.ts';

/** Absolute path of `dataset-loaders/samples/<id>` (resolved from this module, not the cwd). */
export function sampleDirOf(id: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'samples', id);
}

/**
 * Maps a raw label to the protocol label with the same spelling, ignoring case and surrounding
 * whitespace; `undefined` (an error upstream) when there is none.
 */
export function caseInsensitiveMapper(labels: readonly string[]): (raw: string | undefined) => LabelMapping {
  const byKey = new Map(labels.map((l) => [l.toLowerCase(), l]));
  return (raw) => {
    if (raw === undefined) return undefined;
    const label = byKey.get(raw.trim().toLowerCase());
    return label === undefined ? undefined : { label };
  };
}

/** Reads a UTF-8 text file; a missing file is a DataError naming it. */
export async function readText(file: string): Promise<string> {
  try {
    return decodeUtf8(await readFile(file), file);
  } catch (err) {
    if (err instanceof DataError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new DataError(file, undefined, 'file not found');
    throw err;
  }
}

/** 1-based line of a character offset in `text`. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
