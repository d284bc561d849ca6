import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { DataError } from '../harness/errors.ts';
import { normaliseLineBreaks } from './text-repair.ts';
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
 * Streams an RFC-4180 CSV with a header row: BOM stripped, CRLF, LF or CR, quoted fields with doubled
 * quotes and embedded newlines. Line breaks inside fields come back as LF (normaliseLineBreaks), so
 * a field reads the same whatever the file's line endings. Every problem becomes one DataError
 * naming the file and the physical line (a CRLF, LF or lone CR ends a line, as in an editor).
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
      // Every line ending ends a record, whichever comes first in the file: left to discover it,
      // csv-parse takes the first one for all, and a bare LF in a CRLF file (or a lone CR in an LF
      // one) turns a stray line into text glued to the next record's first field, silently.
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: false,
      skip_empty_lines: true,
      info: true,
    }),
  );
  let header: string[] | undefined;
  // csv-parse counts every CR and every LF inside a quoted field as a line of its own, so each CRLF
  // in a field puts its count one line ahead of the file for every later record: this is the
  // surplus so far, taken off every line number (records' and the parser's own errors').
  let surplus = 0;
  try {
    for await (const record of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      let cells = record.record;
      // A file that starts with LF endings and later has CRLF ones (edited on another system) keeps
      // that CR at the end of the record's last field: it is part of the line ending, not text.
      const last = cells.length - 1;
      const endCr = last >= 0 && cells[last]!.endsWith('\r');
      if (endCr) cells = [...cells.slice(0, last), cells[last]!.slice(0, -1)];
      const breaks = lineBreaks(cells);
      const parserBreaks = breaks.parser + (endCr ? 1 : 0);
      // The parser's count stands at the record's last line; step back over the breaks inside it.
      const line = record.info.lines - surplus - parserBreaks;
      surplus += parserBreaks - breaks.physical;
      if (breaks.physical > 0) cells = cells.map(normaliseLineBreaks);
      if (!header) {
        header = cells.map((c) => c.trim());
        const missing = options.required.filter((c) => !header!.includes(c));
        if (missing.length > 0) {
          throw new DataError(
            name,
            line,
            `expected header column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}; found ${header.map((h) => `'${h}'`).join(', ')}`,
          );
        }
        continue;
      }
      assertNoReplacement(cells, name, line);
      const values: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) values[header[i]!] = cells[i] ?? '';
      yield { values, line };
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    const e = err as { message?: string; lines?: number; code?: string };
    const line = typeof e.lines === 'number' ? e.lines - surplus : undefined;
    // The parser's message quotes its own count too; it must agree with the line in front of it.
    const what = (e.message ?? String(err))
      .replace(/^Invalid (Record Length|Opening Quote|Closing Quote): /, '')
      .replace(
        /\b(at|on) line (\d+)/g,
        (_, word: string, n: string) => `${word} line ${Number(n) - surplus}`,
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

/**
 * Line breaks inside a record's fields, counted two ways: as csv-parse counts them (every CR and every
 * LF) and as the file's lines run (CRLF, LF or a lone CR, one each).
 */
function lineBreaks(cells: readonly string[]): { parser: number; physical: number } {
  let parser = 0;
  let physical = 0;
  for (const c of cells) {
    // Almost no field has a break: the native searches keep the common case off the per-char loop.
    if (c.indexOf('\n') === -1 && c.indexOf('\r') === -1) continue;
    for (let i = 0; i < c.length; i++) {
      const ch = c.charCodeAt(i);
      if (ch === 0x0a) {
        parser++;
        physical++;
      } else if (ch === 0x0d) {
        parser++;
        // A CR followed by LF is one break; the LF counts it.
        if (c.charCodeAt(i + 1) !== 0x0a) physical++;
      }
    }
  }
  return { parser, physical };
}
