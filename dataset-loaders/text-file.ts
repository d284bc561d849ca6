import { readFile } from 'node:fs/promises';
import { DataError } from '../harness/errors.ts';
import { stripBom } from './text-repair.ts';
import { decodeUtf8 } from './utf8.ts';

/** Reads a UTF-8 text file (BOM stripped); a missing file is a DataError naming it. */
export async function readTextFile(file: string): Promise<string> {
  try {
    return stripBom(decodeUtf8(await readFile(file), file));
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as { code?: string }).code;
    throw new DataError(file, undefined, code === 'ENOENT' ? 'file not found' : `cannot read file (${code})`);
  }
}

/**
 * Lines of a text file without their terminators (LF or CRLF). A final newline does not make an
 * extra empty line; index i is line i + 1.
 */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}
