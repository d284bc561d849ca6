import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
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

/** Formats zod issues as `file: adapters[1].baseUrl: expected string` (first issue; one line). */
export function formatIssues(error: z.ZodError, file?: string): ConfigError {
  const issue = error.issues[0]!;
  const path = issue.path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
  let message = issue.message;
  if (issue.code === 'unrecognized_keys')
    message = `unknown key ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return new ConfigError(`${path ? `${path}: ` : ''}${message}${more}`, file);
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
  const result = runConfigSchema.safeParse(raw);
  if (!result.success) throw formatIssues(result.error, file);
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
  try {
    return parse(rest);
  } catch (err) {
    if (err instanceof z.ZodError) {
      const inner = formatIssues(err);
      throw new ConfigError(`adapters[${index}] (${adapter.id}).${inner.message}`, file);
    }
    if (err instanceof ConfigError)
      throw new ConfigError(`adapters[${index}] (${adapter.id}): ${err.message}`, file);
    throw err;
  }
}
