/**
 * Parser for the one Python literal shape the EmoryNLP CSV stores in its `Speaker` column: a list of
 * string literals, e.g. `['Monica Geller', 'Phoebe Buffay']` or `["Phoebe's Assistant"]` (Python
 * switches to double quotes when the name holds an apostrophe). Splitting on commas or quotes breaks
 * on such names; this reads the literal as Python's `ast.literal_eval` would for this shape.
 */

const ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\u0007',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
};

/** Parses `[ 'a', "b", ... ]`; throws an Error saying what was expected at which character. */
export function parsePythonStringList(literal: string): string[] {
  const s = literal;
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(
      `expected ${what} at character ${i + 1} of the Python list literal ${JSON.stringify(literal)}`,
    );
  };
  const ws = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  ws();
  if (s[i] !== '[') fail("'['");
  i++;
  const out: string[] = [];
  ws();
  if (s[i] === ']') {
    i++;
  } else {
    while (true) {
      ws();
      const quote = s[i];
      if (quote !== "'" && quote !== '"') fail('a quoted string');
      i++;
      let value = '';
      while (true) {
        if (i >= s.length) fail(`closing ${quote}`);
        const ch = s[i]!;
        if (ch === quote) {
          i++;
          break;
        }
        if (ch === '\\') {
          const esc = s[i + 1];
          if (esc === undefined) fail(`closing ${quote}`);
          // Unknown escapes stay as written, backslash included (Python's rule).
          value += ESCAPES[esc!] ?? `\\${esc}`;
          i += 2;
          continue;
        }
        if (ch === '\n') fail(`closing ${quote} before the end of the line`);
        value += ch;
        i++;
      }
      out.push(value);
      ws();
      if (s[i] === ',') {
        i++;
        ws();
        if (s[i] === ']') {
          i++; // trailing comma, as Python allows
          break;
        }
        continue;
      }
      if (s[i] === ']') {
        i++;
        break;
      }
      fail("',' or ']'");
    }
  }
  ws();
  if (i !== s.length) fail('the end of the literal');
  return out;
}
