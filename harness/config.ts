import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, didYouMean, suggest, unknownKeys } from './errors.ts';
import type { AdapterConfig } from './types.ts';

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const adapterSchema = z
  .object({
    id: z.string().regex(idPattern, 'letters, digits, "_", "." and "-" only (it names folders)'),
    type: z.string().min(1),
  })
  .passthrough();

/** The run config as written in YAML or JSON. Every key is optional; the CLI fills the rest. */
export const runConfigSchema = z
  .object({
    /** Names the run folder; re-running the same name resumes it. */
    name: z.string().regex(idPattern).optional(),
    suite: z.string().optional(),
    /** Dataset ids (their primary protocol), protocol ids, or `protocol.split` task ids. */
    datasets: z.array(z.string()).optional(),
    adapters: z.array(adapterSchema).optional(),
    dataDir: z.string().optional(),
    /** The form of a release to read where a folder may hold two (e.g. `emorynlp: json`). */
    variants: z.record(z.string(), z.string()).optional(),
    out: z.string().optional(),
    seeds: z.array(z.number().int()).min(1).optional(),
    limit: z.number().int().positive().optional(),
    split: z.enum(['train', 'dev', 'test']).optional(),
    device: z.enum(['auto', 'cuda', 'cpu']).optional(),
    plugins: z.array(z.string()).optional(),
    cacheDir: z.string().optional(),
    bootstrap: z
      .object({
        resamples: z.number().int().min(0).optional(),
        unit: z.enum(['dialogue', 'utterance']).optional(),
        level: z.number().gt(0).lt(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type RunConfigFile = z.infer<typeof runConfigSchema>;

/** A config file's content and the folder its relative paths resolve against. */
export interface LoadedConfig {
  config: RunConfigFile;
  file?: string;
  baseDir: string;
}

/** `["adapters", 1, "baseUrl"]` -> `adapters[1].baseUrl`; `[]` -> `""`. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

/** Keys of an object that its (strict) schema does not know, with the keys it does know. */
interface UnknownKeysFound {
  path: string;
  keys: string[];
  known: string[];
}

/**
 * What zod reported while one parse ran: the unknown keys of each object with its schema's known
 * keys (zod's error itself keeps only the unknown ones), and the paths that were missing. Collected
 * through zod's global error map, so it also sees the parses that adapter factories run themselves
 * and format their own way.
 */
class IssueCapture {
  readonly unknown: UnknownKeysFound[] = [];
  readonly missing = new Set<string>();

  /** Runs `fn` (a synchronous parse, reading any error it gets) with the capture installed. */
  run<T>(fn: () => T): T {
    const config = z.config();
    const previous = config.customError;
    config.customError = (issue) => {
      const path = formatPath(issue.path ?? []);
      if (issue.code === 'unrecognized_keys') {
        const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)
          ?._zod?.def?.shape;
        const found = { path, keys: issue.keys, known: shape ? Object.keys(shape) : [] };
        this.unknown.push(found);
        return unknownKeys(found.keys, found.known);
      }
      if (issue.code === 'invalid_type' && issue.input === undefined) this.missing.add(path);
      // A misspelt choice (labelChoice: guidd) gets the nearest valid one, as a misspelt key does.
      if (issue.code === 'invalid_value' && typeof issue.input === 'string') {
        const values = issue.values.filter((v): v is string => typeof v === 'string');
        if (values.length === issue.values.length)
          return `'${issue.input}' is not one of ${values.join(', ')}${didYouMean(suggest(issue.input, values))}`;
      }
      return previous?.(issue);
    };
    try {
      return fn();
    } finally {
      config.customError = previous;
    }
  }

  /** Missing keys that an unknown key's suggestion explains (`baseURL` given, `baseUrl` missing). */
  explained(): Set<string> {
    const out = new Set<string>();
    for (const u of this.unknown)
      for (const k of u.keys) {
        const hint = suggest(k, u.known);
        const path = hint === undefined ? undefined : u.path ? `${u.path}.${hint}` : hint;
        if (path !== undefined && this.missing.has(path)) out.add(path);
      }
    return out;
  }
}

function unknownKeysLine(u: UnknownKeysFound): string {
  return `${u.path ? `${u.path}: ` : ''}${unknownKeys(u.keys, u.known)}`;
}

function issueLine(issue: z.core.$ZodIssue, capture: IssueCapture): string {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const found = capture.unknown.find((u) => u.path === path);
    return unknownKeysLine({ path, keys: issue.keys, known: found?.known ?? [] });
  }
  // zod's "Invalid input: expected string, received number" -> "expected string, received number".
  const message = issue.message.replace(/^Invalid input: (?=\S)/, '');
  return `${path ? `${path}: ` : ''}${message}`;
}

/**
 * One line for zod issues: `adapters[1].baseUrl: expected string, received number`. An unknown key
 * comes first, with the nearest known key (a misspelt key is also a missing one, and the missing one
 * is not counted again).
 */
function describeIssues(issues: readonly z.core.$ZodIssue[], capture: IssueCapture): string {
  const first = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
  if (!first) return 'invalid config';
  const explained = capture.explained();
  const more = issues.filter((i) => i !== first && !explained.has(formatPath(i.path))).length;
  return `${issueLine(first, capture)}${more > 0 ? ` (and ${more} more)` : ''}`;
}

/** Reads and validates a YAML or JSON run config. */
export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ConfigError('config file not found', file);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const e = err as { linePos?: { line: number }[]; message?: string };
    const line = e.linePos?.[0]?.line;
    throw new ConfigError(
      `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}${line ? ` (line ${line})` : ''}: ${String(e.message).split('\n')[0]}`,
      file,
    );
  }
  return { config: validateConfig(raw ?? {}, file), file, baseDir: dirname(resolve(file)) };
}

export function validateConfig(raw: unknown, file?: string): RunConfigFile {
  const capture = new IssueCapture();
  const result = capture.run(() => {
    const r = runConfigSchema.safeParse(raw);
    // zod builds the error (and its messages) on first read: read it while the capture is installed.
    return r.success ? r : { success: false as const, issues: r.error.issues };
  });
  if (!result.success) throw new ConfigError(describeIssues(result.issues, capture), file);
  const ids = new Set<string>();
  for (const [i, a] of (result.data.adapters ?? []).entries()) {
    if (ids.has(a.id)) throw new ConfigError(`adapters[${i}].id: duplicate adapter id '${a.id}'`, file);
    ids.add(a.id);
  }
  return result.data;
}

/** Validates one adapter's own keys with its factory's parser, naming the path on error. */
export function parseAdapterConfig<C>(
  parse: (raw: unknown) => C,
  adapter: AdapterConfig,
  index: number,
  file?: string,
): C {
  const { id: _id, type: _type, ...rest } = adapter;
  const where = `adapters[${index}] (${adapter.id})`;
  const capture = new IssueCapture();
  try {
    return capture.run(() => parse(rest));
  } catch (err) {
    if (err instanceof z.ZodError)
      throw new ConfigError(`${where}: ${describeIssues(err.issues, capture)}`, file);
    if (err instanceof ConfigError) {
      // The factory formatted zod's issues its own way; an unknown key still comes first, with its
      // suggestion, rather than the missing key it was meant to be.
      const first = capture.unknown[0];
      if (first) {
        const more = capture.unknown.length - 1;
        throw new ConfigError(
          `${where}: ${unknownKeysLine(first)}${more > 0 ? ` (and ${more} more)` : ''}`,
          file,
        );
      }
      throw new ConfigError(`${where}: ${err.message}`, file);
    }
    throw err;
  }
}
