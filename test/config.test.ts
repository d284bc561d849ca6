import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, validateConfig } from '../harness/config.ts';
import { ConfigError } from '../harness/errors.ts';

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
