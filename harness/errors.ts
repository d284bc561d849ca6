/**
 * Errors that map to the CLI's exit codes. Bad input (config, data, arguments) is exit 2 with one
 * line naming the file and, where there is one, the line; a runtime failure is exit 3.
 */

export const EXIT = { ok: 0, regression: 1, badInput: 2, runtime: 3 } as const;

/** Bad input: a data file, a config or an argument that is not what was expected. Exit code 2. */
export class InputError extends Error {
  readonly exitCode = EXIT.badInput;
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(InputError.format(message, file, line));
    this.name = 'InputError';
  }

  static format(message: string, file?: string, line?: number): string {
    if (!file) return message;
    return `${file}${line !== undefined ? `:${line}` : ''}: ${message}`;
  }
}

/** A data file that does not match its official format. */
export class DataError extends InputError {
  constructor(file: string, line: number | undefined, message: string) {
    super(message, file, line);
    this.name = 'DataError';
  }
}

/** A config file or option with a bad value; `path` is the key path (e.g. adapters[1].baseUrl). */
export class ConfigError extends InputError {
  constructor(message: string, file?: string) {
    super(message, file);
    this.name = 'ConfigError';
  }
}

/** Something failed while running (a model, a server, the disk). Exit code 3. */
export class RuntimeFailure extends Error {
  readonly exitCode = EXIT.runtime;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeFailure';
  }
}

/**
 * "Did you mean": the candidate nearest in optimal-string-alignment distance (a swap of two adjacent
 * letters counts once, so "mled" finds "meld"); ties go to a candidate with the same letters.
 */
export function suggest(name: string, candidates: readonly string[]): string | undefined {
  const n = name.toLowerCase();
  const letters = [...n].sort().join('');
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const score = editDistance(n, lc) - ([...lc].sort().join('') === letters ? 0.5 : 0);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** " (did you mean 'x'?)", or "" without a hint. */
export function didYouMean(hint: string | undefined): string {
  return hint === undefined ? '' : ` (did you mean '${hint}'?)`;
}

/** The splits a task id (`protocol.split`) may name, and common names for them. */
const TASK_SPLITS = ['train', 'dev', 'test'] as const;
const SPLIT_ALIASES: Record<string, string> = {
  val: 'dev',
  valid: 'dev',
  validation: 'dev',
  development: 'dev',
  training: 'train',
  testing: 'test',
};
/** Kinds of name that may be a task id, `protocol.split` (what `run --datasets` takes). */
const TASK_ID_KINDS = new Set(['dataset or protocol']);

/** "meld-7.tset" -> "meld-7.test", "mled-7.dev" -> "meld-7.dev": the protocol and the split each near-missed. */
function suggestTaskId(name: string, known: readonly string[]): string | undefined {
  const m = /^(.+)\.([^.]+)$/.exec(name);
  if (!m) return undefined;
  const [, prefix = '', suffix = ''] = m;
  const lower = suffix.toLowerCase();
  const split = (TASK_SPLITS as readonly string[]).includes(lower)
    ? lower
    : (SPLIT_ALIASES[lower] ?? suggest(suffix, TASK_SPLITS));
  const protocol = known.includes(prefix) ? prefix : suggest(prefix, known);
  if (split === undefined || protocol === undefined) return undefined;
  const hint = `${protocol}.${split}`;
  return hint === name ? undefined : hint;
}

/** "unknown dataset 'mled' (did you mean 'meld'?); known: a, b, c" */
export function unknownName(kind: string, name: string, known: readonly string[]): string {
  const hint =
    (TASK_ID_KINDS.has(kind) && name.includes('.') ? suggestTaskId(name, known) : undefined) ??
    suggest(name, known);
  return `unknown ${kind} '${name}'${didYouMean(hint)}; known: ${known.join(', ')}`;
}

/**
 * "unknown key 'cgrid' (did you mean 'cGrid'?)"; a key with no near miss lists the known keys.
 * Case differences count as near misses (baseURL finds baseUrl).
 */
export function unknownKeys(keys: readonly string[], known: readonly string[]): string {
  let unmatched = false;
  const parts = keys.map((k) => {
    const hint = suggest(k, known);
    if (hint === undefined) unmatched = true;
    return `'${k}'${didYouMean(hint)}`;
  });
  const list = unmatched && known.length > 0 ? `; known keys: ${known.join(', ')}` : '';
  return `unknown key${keys.length > 1 ? 's' : ''} ${parts.join(', ')}${list}`;
}
