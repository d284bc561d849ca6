/**
 * Seeded byte-level and structural mutations of a dataset file, for the loader fuzz tests
 * (test/loaders-fuzz.test.ts). Every mutation is a pure function of the file's bytes and the Rng, so a
 * seed names a mutated file exactly.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Rng } from '../../harness/random.ts';
import type { DatasetLoader } from '../../harness/types.ts';

/** How a file is laid out, as far as the structural mutations care. */
export type FileKind = 'csv' | 'tsv' | 'json' | 'text';

export function fileKind(file: string): FileKind {
  const ext = extname(file).toLowerCase();
  return ext === '.csv' ? 'csv' : ext === '.tsv' ? 'tsv' : ext === '.json' ? 'json' : 'text';
}

export interface Mutation {
  name: string;
  /** The kinds of file the mutation means something for (all kinds when absent). */
  kinds?: readonly FileKind[];
  /**
   * True when a load of the mutated release must equal the load of the pristine one (the change keeps
   * every value under its own name): a loader may still refuse it, but never load something else.
   */
  preservesContent?: boolean;
  /** Kinds of file in which the mutated release is never valid: every loader must refuse it. */
  refusedIn?: readonly FileKind[];
  mutate(bytes: Buffer, rng: Rng, kind: FileKind): Buffer;
}

// Latin-1 maps every byte to one char and back, so line edits keep invalid UTF-8 and BOMs as they are.
const lines = (b: Buffer) => b.toString('latin1').split('\n');
const joinLines = (ls: string[]) => Buffer.from(ls.join('\n'), 'latin1');

/** Two different indices below n (n >= 2). */
function twoIndices(n: number, rng: Rng): [number, number] {
  const i = rng.int(n);
  const j = (i + 1 + rng.int(n - 1)) % n;
  return [i, j];
}

interface Table {
  rows: string[][];
  delimiter: string;
  quoting: boolean;
  finalNewline: boolean;
}

/**
 * The records of a CSV (RFC 4180 quoting, as csv.ts reads it) or of a GLUE TSV (tab-separated, quotes
 * are literal characters), one array of fields per record.
 */
function readTable(bytes: Buffer, kind: 'csv' | 'tsv'): Table {
  const text = bytes.toString('latin1');
  const finalNewline = text.endsWith('\n');
  if (kind === 'tsv') {
    const body = finalNewline ? text.slice(0, -1) : text;
    return {
      rows: body.split('\n').map((l) => l.split('\t')),
      delimiter: '\t',
      quoting: false,
      finalNewline,
    };
  }
  const rows = parse(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
  return { rows, delimiter: ',', quoting: true, finalNewline };
}

function writeTable(t: Table): Buffer {
  const field = (v: string) => (t.quoting && /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  const text = t.rows.map((r) => r.map(field).join(t.delimiter)).join('\n') + (t.finalNewline ? '\n' : '');
  return Buffer.from(text, 'latin1');
}

/**
 * Swaps the values of two columns in every data row; with `header`, in the header too (the columns
 * trade places, each value keeping its name). The pair is drawn among the columns whose values differ
 * in some data row, so the swap always changes the data.
 */
function swapColumns(bytes: Buffer, rng: Rng, kind: FileKind, header: boolean): Buffer {
  if (kind !== 'csv' && kind !== 'tsv') throw new Error(`no columns in a ${kind} file`);
  const t = readTable(bytes, kind);
  const width = t.rows[0]?.length ?? 0;
  const pairs: [number, number][] = [];
  for (let i = 0; i < width; i++)
    for (let j = i + 1; j < width; j++)
      if (t.rows.slice(1).some((r) => (r[i] ?? '') !== (r[j] ?? ''))) pairs.push([i, j]);
  if (pairs.length === 0) throw new Error('no two columns differ');
  const [i, j] = pairs[rng.int(pairs.length)]!;
  t.rows = t.rows.map((r, k) => {
    if (k === 0 && !header) return r;
    const s = [...r];
    [s[i], s[j]] = [r[j] ?? '', r[i] ?? ''];
    return s;
  });
  return writeTable(t);
}

/** Every object in a JSON value that has at least two fields (the records of the release). */
function records(value: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const v of value) records(v, out);
  else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length >= 2) out.push(obj);
    for (const v of Object.values(obj)) records(v, out);
  }
  return out;
}

/**
 * Swaps the values of two fields in every JSON record that has both: the pair is drawn from one
 * record, chosen by the Rng, among the pairs whose values differ.
 */
function swapJsonFields(bytes: Buffer, rng: Rng): Buffer {
  const root = JSON.parse(bytes.toString('utf8')) as unknown;
  const all = records(root);
  for (let tries = 0; tries < 100; tries++) {
    const pick = all[rng.int(all.length)]!;
    const keys = Object.keys(pick);
    const [i, j] = twoIndices(keys.length, rng);
    const a = keys[i]!;
    const b = keys[j]!;
    if (JSON.stringify(pick[a]) === JSON.stringify(pick[b])) continue;
    for (const r of all) {
      if (a in r && b in r) [r[a], r[b]] = [r[b], r[a]];
    }
    return Buffer.from(`${JSON.stringify(root, null, 4)}\n`, 'utf8');
  }
  throw new Error('no record has two fields with different values');
}

const ALL_KINDS: readonly FileKind[] = ['csv', 'tsv', 'json', 'text'];

export const MUTATIONS: readonly Mutation[] = [
  { name: 'truncate', mutate: (b, rng) => b.subarray(0, rng.int(Math.max(1, b.length))) },
  {
    name: 'delete line',
    mutate: (b, rng) => {
      const ls = lines(b);
      ls.splice(rng.int(ls.length), 1);
      return joinLines(ls);
    },
  },
  {
    name: 'swap lines',
    mutate: (b, rng) => {
      const ls = lines(b);
      if (ls.length < 2) return b;
      const [i, j] = twoIndices(ls.length, rng);
      [ls[i], ls[j]] = [ls[j]!, ls[i]!];
      return joinLines(ls);
    },
  },
  {
    // Crude on purpose: a quoted first field with a comma inside is cut at that comma.
    name: 'cut each line up to its first comma or tab',
    mutate: (b) => joinLines(lines(b).map((l) => l.replace(/^[^,\t]*[,\t]/, ''))),
  },
  {
    name: 'swap two columns, header included',
    kinds: ['csv', 'tsv'],
    preservesContent: true,
    mutate: (b, rng, kind) => swapColumns(b, rng, kind, true),
  },
  {
    name: 'swap two columns in the data rows only',
    kinds: ['csv', 'tsv'],
    mutate: (b, rng, kind) => swapColumns(b, rng, kind, false),
  },
  {
    name: "swap two fields' values in JSON records",
    kinds: ['json'],
    mutate: (b, rng) => swapJsonFields(b, rng),
  },
  {
    name: 'stray quote',
    mutate: (b, rng) => {
      const at = rng.int(b.length);
      return Buffer.concat([b.subarray(0, at), Buffer.from('"'), b.subarray(at)]);
    },
  },
  {
    name: 'invalid utf-8',
    refusedIn: ALL_KINDS,
    mutate: (b, rng) => {
      const at = rng.int(b.length);
      return Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3]), b.subarray(at)]);
    },
  },
  { name: 'bom', mutate: (b) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]) },
  { name: 'crlf', mutate: (b) => Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') },
  {
    // A duplicated data line repeats an id in every format with one record per line and ids in it:
    // each CSV release has them (MELD, EmoryNLP, MMSA); SST trees and Mastodon posts have none.
    name: 'duplicate line',
    refusedIn: ['csv'],
    mutate: (b, rng) => {
      const ls = lines(b);
      const i = 1 + rng.int(Math.max(1, ls.length - 2));
      ls.splice(i, 0, ls[i] ?? '');
      return joinLines(ls);
    },
  },
  { name: 'empty', refusedIn: ALL_KINDS, mutate: () => Buffer.alloc(0) },
  {
    // A line of 2 MB of "x" between two lines: never a row of a table (no sample has a line break
    // inside a quoted field) and never valid in pretty-printed JSON. IEMOCAP skips stray lines by
    // design, so plain text files may take it.
    name: 'huge line',
    refusedIn: ['csv', 'tsv', 'json'],
    mutate: (b, rng) => {
      const ls = lines(b);
      ls.splice(1 + rng.int(Math.max(1, ls.length - 1)), 0, 'x'.repeat(2_000_000));
      return joinLines(ls);
    },
  },
];

/**
 * The files a loader reads in `dir` (its dataset folder), relative to it, per loader split: the
 * expected files of every variant present, a listed folder standing for the .txt files right in it.
 */
export function filesRead(loader: DatasetLoader, dir: string): Map<string, string[]> {
  const bySplit = new Map<string, string[]>();
  for (const perSplit of Object.values(loader.expectedFiles)) {
    for (const [split, listed] of Object.entries(perSplit)) {
      const files = bySplit.get(split) ?? [];
      for (const entry of listed) {
        let stat: ReturnType<typeof statSync>;
        try {
          stat = statSync(join(dir, entry));
        } catch {
          continue;
        }
        const found = stat.isDirectory()
          ? readdirSync(join(dir, entry))
              .filter((f) => f.endsWith('.txt') && statSync(join(dir, entry, f)).isFile())
              .sort()
              .map((f) => join(entry, f))
          : [entry];
        for (const f of found) if (!files.includes(f)) files.push(f);
      }
      bySplit.set(split, files);
    }
  }
  return bySplit;
}
