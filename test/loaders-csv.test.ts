/**
 * readCsv's line numbers and quoted newlines. Files are built here from records whose physical
 * lines are known by construction, so every expected line number is counted independently of the
 * parser: one line for the header, then for each record one line plus one per break in its fields.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CsvRow, readCsv } from '../dataset-loaders/csv.ts';
import { normaliseLineBreaks } from '../dataset-loaders/text-repair.ts';
import { DataError } from '../harness/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'ee-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function writeCsv(content: string): string {
  const file = join(dir, `f${fileCount++}.csv`);
  writeFileSync(file, content, 'utf8');
  return file;
}

async function readAll(file: string, required = ['id', 'text']): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const row of readCsv(file, { required })) rows.push(row);
  return rows;
}

/** A record: its id and a text whose line breaks are written as `\n` (replaced by `inside`). */
interface Spec {
  id: string;
  lines: string[];
  /** Empty lines written after the record (skipped by the reader, but they count). */
  blankAfter?: number;
}

/** The file's bytes and each record's first physical line, counted from the specs. */
function build(specs: readonly Spec[], eol: string, inside: string): { content: string; lines: number[] } {
  let content = `id,text${eol}`;
  let line = 2;
  const lines: number[] = [];
  for (const s of specs) {
    lines.push(line);
    content += `${s.id},"${s.lines.join(inside)}"${eol}`;
    line += s.lines.length;
    for (let k = 0; k < (s.blankAfter ?? 0); k++) content += eol;
    line += s.blankAfter ?? 0;
  }
  return { content, lines };
}

const specs: Spec[] = [
  { id: 'a', lines: ['one line'] },
  { id: 'b', lines: ['first,', 'second'] },
  { id: 'c', lines: ['x', '', 'after an empty line inside the field'], blankAfter: 1 },
  { id: 'd', lines: ['plain'] },
  { id: 'e', lines: ['three', 'lines', 'here'], blankAfter: 2 },
  { id: 'f', lines: ['last'] },
];

describe('readCsv line numbers', () => {
  const endings = [
    { name: 'LF file, LF inside quotes', eol: '\n', inside: '\n' },
    { name: 'CRLF file, CRLF inside quotes', eol: '\r\n', inside: '\r\n' },
    { name: 'CRLF file, bare LF inside quotes (CPED valid)', eol: '\r\n', inside: '\n' },
    { name: 'LF file, CRLF inside quotes', eol: '\n', inside: '\r\n' },
    { name: 'CR file, CR inside quotes', eol: '\r', inside: '\r' },
  ];

  it.each(endings)('$name: every record starts on its physical line', async ({ eol, inside }) => {
    const { content, lines } = build(specs, eol, inside);
    const rows = await readAll(writeCsv(content));
    expect(rows.map((r) => r.values.id)).toEqual(specs.map((s) => s.id));
    expect(rows.map((r) => r.line)).toEqual(lines);
    expect(lines).toEqual([2, 3, 5, 9, 10, 15]);
  });

  it.each(endings)('$name: breaks inside a field read as LF', async ({ eol, inside }) => {
    const rows = await readAll(writeCsv(build(specs, eol, inside).content));
    expect(rows.map((r) => r.values.text)).toEqual(specs.map((s) => s.lines.join('\n')));
  });

  it('a header with a quoted newline shifts the records by its own breaks only', async () => {
    const file = writeCsv('id,"te\r\nxt"\r\n1,"a\r\nb"\r\n2,c\r\n');
    const rows: CsvRow[] = [];
    for await (const row of readCsv(file, { required: ['id'] })) rows.push(row);
    expect(rows.map((r) => r.line)).toEqual([3, 5]);
    expect(Object.keys(rows[0]!.values)).toEqual(['id', 'te\nxt']);
  });

  it('a file that switches from LF to CRLF endings keeps its line numbers and loses the CRs', async () => {
    // The parser takes LF as the record end from the header; the CRLF lines leave their CR in the
    // last field (a quoted field cannot end such a line: the parser rejects a CR after its quote).
    const file = writeCsv('id,text\n1,a\r\n2,b\r\n3,"c\r\nd"\n4,e\r\n5,f\n');
    const rows = await readAll(file);
    expect(rows.map((r) => [r.line, r.values.text])).toEqual([
      [2, 'a'],
      [3, 'b'],
      [4, 'c\nd'],
      [6, 'e'],
      [7, 'f'],
    ]);
  });

  it('records across stream chunks (a file over 64 KiB) keep their lines', async () => {
    const many: Spec[] = [];
    for (let i = 0; i < 5000; i++) {
      const n = 1 + (i % 4);
      many.push({ id: String(i), lines: Array.from({ length: n }, (_, k) => `line ${k} of record ${i}`) });
    }
    const { content, lines } = build(many, '\r\n', '\r\n');
    expect(content.length).toBeGreaterThan(3 * 65_536);
    const rows = await readAll(writeCsv(content));
    expect(rows.map((r) => r.line)).toEqual(lines);
  });

  it('a bad row after CRLF line breaks in quotes is reported at its physical line', async () => {
    // Lines 2-3: record 1; 4-6: record 2; 7: record 3 has a third column (the header has two).
    const file = writeCsv('id,text\r\n1,"a\r\nb"\r\n2,"c\r\nd\r\ne"\r\n3,f,extra\r\n');
    const error = await readAll(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataError);
    // The parser's own "on line N" in the message agrees with the line in front of it.
    expect((error as Error).message).toBe(
      `${file}:7: malformed CSV (CSV_RECORD_INCONSISTENT_FIELDS_LENGTH): expect 2, got 3 on line 7`,
    );
  });

  it('an unclosed quote after CRLF line breaks in quotes names its physical line', async () => {
    const file = writeCsv('id,text\r\n1,"a\r\nb"\r\n2,"oops,x\r\n');
    const error = await readAll(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(new RegExp(`^${file}:5: malformed CSV .*at line 5$`));
  });
});

describe('normaliseLineBreaks', () => {
  it('turns CRLF and lone CR into LF and leaves everything else alone', () => {
    expect(normaliseLineBreaks('a\r\nb\rc\nd')).toBe('a\nb\nc\nd');
    expect(normaliseLineBreaks('a\r\n\r\nb')).toBe('a\n\nb');
    expect(normaliseLineBreaks('no breaks\u2028here')).toBe('no breaks\u2028here');
  });
});
