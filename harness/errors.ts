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

/** "unknown dataset 'mled' (did you mean 'meld'?); known: a, b, c" */
export function unknownName(kind: string, name: string, known: readonly string[]): string {
  const hint = suggest(name, known);
  return `unknown ${kind} '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; known: ${known.join(', ')}`;
}
