import { readFile } from 'node:fs/promises';
import { DataError } from '../harness/errors.ts';
import { stripBom } from './text-repair.ts';
import { decodeUtf8 } from './utf8.ts';

/**
 * Reads a JSON file; every problem is one DataError naming the file and the line. JSON.parse's own
 * messages in Node 20 often give no position ("Unexpected token '}', ... is not valid JSON"), so on
 * failure the text is scanned again by `findJsonError` to point at the line and column.
 */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = decodeUtf8(await readFile(file), file);
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as { code?: string }).code;
    throw new DataError(file, undefined, code === 'ENOENT' ? 'file not found' : `cannot read file (${code})`);
  }
  return parseJsonText(text, file);
}

/** Parses JSON text (BOM stripped); `file` names it in errors. */
export function parseJsonText(text: string, file: string): unknown {
  const body = stripBom(text);
  try {
    return JSON.parse(body);
  } catch {
    const problem = findJsonError(body) ?? { offset: 0, message: 'invalid JSON' };
    const { line, column } = lineColumn(body, problem.offset);
    throw new DataError(file, line, `${problem.message} (column ${column})`);
  }
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

interface JsonProblem {
  offset: number;
  message: string;
}

/**
 * A strict JSON (RFC 8259) scanner that only reports where the text stops being JSON. Used on the
 * failure path, so it favours clear messages over speed. Returns undefined for valid JSON.
 */
export function findJsonError(text: string): JsonProblem | undefined {
  let i = 0;
  const n = text.length;
  const fail = (message: string, at = i): never => {
    throw { offset: at, message } satisfies JsonProblem;
  };
  const truncated = (what: string): never => fail(`truncated JSON: the file ends inside ${what}`, n);
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const show = (ch: string | undefined) => (ch === undefined ? 'end of file' : JSON.stringify(ch));
  const string = () => {
    const start = i;
    i++; // opening quote
    while (true) {
      if (i >= n) truncated('a string');
      const ch = text[i]!;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch === '\\') {
        const esc = text[i + 1];
        if (esc === undefined) truncated('a string');
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
            fail('invalid JSON: bad \\u escape in string');
          i += 6;
        } else if ('"\\/bfnrt'.includes(esc!)) i += 2;
        else fail(`invalid JSON: bad escape \\${esc} in string`);
        continue;
      }
      if (ch < ' ') {
        if (ch === '\n') fail('invalid JSON: unterminated string (raw line break inside a string)', start);
        fail('invalid JSON: raw control character inside a string');
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    if (i >= n) truncated('a value');
    const ch = text[i]!;
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      while (true) {
        ws();
        if (i >= n) truncated('an object');
        if (text[i] !== '"') fail(`invalid JSON: expected a quoted key, found ${show(text[i])}`);
        string();
        ws();
        if (i >= n) truncated('an object');
        if (text[i] !== ':') fail(`invalid JSON: expected ':' after key, found ${show(text[i])}`);
        i++;
        value();
        ws();
        if (i >= n) truncated('an object');
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`invalid JSON: expected ',' or '}' in object, found ${show(text[i])}`);
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      while (true) {
        value();
        ws();
        if (i >= n) truncated('an array');
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`invalid JSON: expected ',' or ']' in array, found ${show(text[i])}`);
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(
      text.slice(i, i + 400),
    );
    if (literal) {
      i += literal[0].length;
      return;
    }
    fail(`invalid JSON: unexpected ${show(ch)} where a value was expected`);
  };
  try {
    value();
    ws();
    if (i < n) fail(`invalid JSON: unexpected ${show(text[i])} after the end of the document`);
    return undefined;
  } catch (err) {
    if (err && typeof err === 'object' && 'offset' in err) return err as JsonProblem;
    throw err;
  }
}

/** Type checks on parsed JSON that name the JSON path in the error. */
export class JsonReader {
  constructor(readonly file: string) {}

  error(path: string, expected: string, found: unknown): DataError {
    return new DataError(this.file, undefined, `${path}: expected ${expected}, found ${describe(found)}`);
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) throw this.error(path, 'an array', value);
    return value;
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw this.error(path, 'an object', value);
    return value as Record<string, unknown>;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') throw this.error(path, 'a string', value);
    return value;
  }

  /** A string with visible content (empty utterances are a format error, never silently dropped). */
  text(value: unknown, path: string): string {
    const s = this.string(value, path);
    if (s.trim() === '')
      throw new DataError(this.file, undefined, `${path}: expected non-empty text, found ""`);
    return s;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (missing key)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** JSON path segment: `[3]` for indices, `.key` for identifier keys, `["key"]` otherwise. */
export function jsonPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}
