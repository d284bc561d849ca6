import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tfidfLogregConfigSchema } from '../adapters/baselines/tfidf-logreg.ts';
import { parseOpenAIConfig } from '../adapters/openai/config.ts';
import { loadConfigFile, parseAdapterConfig, validateConfig } from '../harness/config.ts';
import { ConfigError, unknownKeys, unknownName } from '../harness/errors.ts';

function write(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ee-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('run config', () => {
  it('names the path of a bad key and the file', async () => {
    const file = write('c.yaml', 'adapters:\n  - id: a\n    type: majority\n  - id: 7\n    type: majority\n');
    await expect(loadConfigFile(file)).rejects.toThrow(ConfigError);
    await expect(loadConfigFile(file)).rejects.toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: adapters\\[1\\]\\.id:`),
    );
  });

  it('rejects unknown keys by name', () => {
    expect(() => validateConfig({ seedz: [1] })).toThrow(/unknown key 'seedz'/);
  });

  it('rejects duplicate adapter ids', () => {
    expect(() =>
      validateConfig({
        adapters: [
          { id: 'x', type: 'majority' },
          { id: 'x', type: 'tfidf-logreg' },
        ],
      }),
    ).toThrow(/adapters\[1\]\.id: duplicate adapter id 'x'/);
  });

  it('reports YAML syntax errors with a line', async () => {
    const file = write('c.yaml', 'seeds: [1, 2\nlimit: 3\n');
    await expect(loadConfigFile(file)).rejects.toThrow(/not valid YAML/);
  });

  it('reads JSON configs', async () => {
    const file = write('c.json', JSON.stringify({ seeds: [1, 2], limit: 10 }));
    const { config } = await loadConfigFile(file);
    expect(config.seeds).toEqual([1, 2]);
    expect(config.limit).toBe(10);
  });
});

describe('near-miss keys get a suggestion, on one line naming the path', () => {
  it('at the top level and in bootstrap', () => {
    expect(() => validateConfig({ seedz: [1] })).toThrow(/^unknown key 'seedz' \(did you mean 'seeds'\?\)$/);
    expect(() => validateConfig({ datasetz: ['meld'] }, 'c.yaml')).toThrow(
      /^c\.yaml: unknown key 'datasetz' \(did you mean 'datasets'\?\)$/,
    );
    expect(() => validateConfig({ bootstrap: { resampels: 10 } })).toThrow(
      /^bootstrap: unknown key 'resampels' \(did you mean 'resamples'\?\)$/,
    );
  });

  it('lists the known keys when nothing is close, and counts the other problems', () => {
    expect(() => validateConfig({ datasetz: ['meld'], frobnicate: 1 })).toThrow(
      /^unknown keys 'datasetz' \(did you mean 'datasets'\?\), 'frobnicate'; known keys: name, suite, datasets,/,
    );
    expect(() => validateConfig({ seedz: [1], limit: -1 })).toThrow(
      /^unknown key 'seedz' \(did you mean 'seeds'\?\) \(and 1 more\)$/,
    );
  });

  it('names a wrong type without zod\'s "Invalid input" prefix', () => {
    expect(() => validateConfig({ seeds: 1 })).toThrow(/^seeds: expected array, received number$/);
  });

  it('a misspelt choice gets the nearest valid one, in the run config and in an adapter', () => {
    expect(() => validateConfig({ device: 'cdua' }, 'c.yaml')).toThrow(
      /^c\.yaml: device: 'cdua' is not one of auto, cuda, cpu \(did you mean 'cuda'\?\)$/,
    );
    const adapter = {
      id: 'm',
      type: 'openai',
      baseUrl: 'http://127.0.0.1:1/v1',
      model: 'x',
      labelChoice: 'guidd',
    };
    expect(() => parseAdapterConfig(parseOpenAIConfig, adapter, 0)).toThrow(
      /^adapters\[0\] \(m\): (openai adapter: )?labelChoice: 'guidd' is not one of .*guided.* \(did you mean 'guided'\?\)$/,
    );
  });

  it("in an adapter's config parsed by a zod schema (a ZodError)", () => {
    const adapter = { id: 'm', type: 'tfidf-logreg', cgrid: [1] };
    expect(() =>
      parseAdapterConfig((raw) => tfidfLogregConfigSchema.parse(raw), adapter, 0, 'c.yaml'),
    ).toThrow(/^c\.yaml: adapters\[0\] \(m\): unknown key 'cgrid' \(did you mean 'cGrid'\?\)$/);
  });

  it('in an adapter whose factory formats its own errors: the unknown key, not the key it misses', () => {
    const adapter = { id: 'm', type: 'openai', baseURL: 'http://127.0.0.1:1/v1', model: 'x' };
    expect(() => parseAdapterConfig(parseOpenAIConfig, adapter, 2)).toThrow(
      /^adapters\[2\] \(m\): unknown key 'baseURL' \(did you mean 'baseUrl'\?\)$/,
    );
    const nested = {
      id: 'm',
      type: 'openai',
      baseUrl: 'http://127.0.0.1:1/v1',
      model: 'x',
      decoding: { temprature: 0 },
    };
    expect(() => parseAdapterConfig(parseOpenAIConfig, nested, 0)).toThrow(
      /^adapters\[0\] \(m\): decoding: unknown key 'temprature' \(did you mean 'temperature'\?\)$/,
    );
  });

  it('in a factory that wraps zod errors in a ConfigError of its own', () => {
    const schema = z.object({ model: z.string(), batchSize: z.number().optional() }).strict();
    const parse = (raw: unknown) => {
      const r = schema.safeParse(raw);
      if (r.success) return r.data;
      throw new ConfigError(`x config: ${r.error.issues.map((i) => i.message).join('; ')}`);
    };
    expect(() => parseAdapterConfig(parse, { id: 'c', type: 'x', model: 'm', batchsize: 4 }, 0)).toThrow(
      /^adapters\[0\] \(c\): unknown key 'batchsize' \(did you mean 'batchSize'\?\)$/,
    );
    // Other problems keep the factory's own message, behind the adapter's path.
    expect(() => parseAdapterConfig(parse, { id: 'c', type: 'x', model: 3 }, 1)).toThrow(
      /^adapters\[1\] \(c\): x config: /,
    );
  });

  it("leaves zod's own messages alone outside config parsing", () => {
    const r = z.object({}).strict().safeParse({ a: 1 });
    expect(r.success || r.error.issues[0]!.message).toMatch(/Unrecognized key/);
  });
});

describe('suggestions for names', () => {
  it('matches keys regardless of case', () => {
    expect(unknownKeys(['baseURL'], ['baseUrl', 'model'])).toBe(
      "unknown key 'baseURL' (did you mean 'baseUrl'?)",
    );
  });

  it('suggests a task id when its protocol or its split is misspelt', () => {
    const known = ['meld', 'meld-7', 'meld-sentiment-3', 'sst-2'];
    expect(unknownName('dataset or protocol', 'meld-7.tset', known)).toMatch(/did you mean 'meld-7\.test'/);
    expect(unknownName('dataset or protocol', 'mled-7.dev', known)).toMatch(/did you mean 'meld-7\.dev'/);
    expect(unknownName('dataset or protocol', 'sst-2.validation', known)).toMatch(
      /did you mean 'sst-2\.dev'/,
    );
    expect(unknownName('dataset or protocol', 'meld-8', known)).toMatch(/did you mean 'meld-7'/);
    // Only names that may be task ids get a split suggested.
    expect(unknownName('protocol', 'meld-7.tset', known)).not.toMatch(/did you mean/);
  });
});
