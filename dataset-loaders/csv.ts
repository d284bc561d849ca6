import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { DataError } from '../harness/errors.ts';
import { assertNoReplacement } from './utf8.ts';

export interface CsvRow {
  /** Values by header name. */
  values: Record<string, string>;
  /** 1-based line of the record's first line in the file. */
  line: number;
}

export interface CsvOptions {
  /** Columns that must be in the header (selected by name, never by position). */
  required: readonly string[];
  delimiter?: string;
  /** TSV files without quoting (GLUE SST-2): quotes are literal characters. */
  quoting?: boolean;
  /** Name used in error messages (defaults to the path). */
  displayName?: string;
}

/**
 * Streams an RFC-4180 CSV with a header row: BOM stripped, CRLF or LF, quoted fields with doubled
 * quotes and embedded newlines. Every problem becomes one DataError naming the file and line.
 */
export async function* readCsv(file: string, options: CsvOptions): AsyncGenerator<CsvRow> {
  const name = options.displayName ?? file;
  try {
    await access(file);
  } catch {
    throw new DataError(name, undefined, 'file not found');
  }
  const parser = createReadStream(file, { encoding: 'utf8' }).pipe(
    parse({
      bom: true,
      delimiter: options.delimiter ?? ',',
      quote: options.quoting === false ? false : '"',
      relax_column_count: false,
      skip_empty_lines: true,
      info: true,
    }),
  );
  let header: string[] | undefined;
  try {
    for await (const record of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const cells = record.record;
      if (!header) {
        header = cells.map((c) => c.trim());
        const missing = options.required.filter((c) => !header!.includes(c));
        if (missing.length > 0) {
          throw new DataError(
            name,
            1,
            `expected header column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}; found ${header.map((h) => `'${h}'`).join(', ')}`,
          );
        }
        continue;
      }
      const line = record.info.lines - countNewlines(cells);
      assertNoReplacement(cells, name, line);
      const values: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) values[header[i]!] = cells[i] ?? '';
      yield { values, line };
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    const e = err as { message?: string; lines?: number; code?: string };
    const line = typeof e.lines === 'number' ? e.lines : undefined;
    const what = (e.message ?? String(err)).replace(
      /^Invalid (Record Length|Opening Quote|Closing Quote): /,
      '',
    );
    throw new DataError(name, line, `malformed CSV (${e.code ?? 'parse error'}): ${what}`);
  }
  if (!header)
    throw new DataError(
      name,
      1,
      `expected a header row with ${options.required.join(', ')}; the file is empty`,
    );
}

/** Records spanning several lines report the last line; step back to the first. */
function countNewlines(cells: readonly string[]): number {
  let n = 0;
  for (const c of cells) for (let i = c.indexOf('\n'); i !== -1; i = c.indexOf('\n', i + 1)) n++;
  return n;
}
