import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commanderMessage } from '../harness/cli.ts';
import { cli } from './support/cli.ts';

/**
 * Bad input through the real bin: exit code 2, exactly one line on standard error (prefixed
 * "emotion-eval: ", with the suggestion for a near miss) and no results folder. Each case runs in an
 * empty folder with --out inside it, so anything written shows up there.
 */
function badInput(args: (dir: string) => string[], config?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'ee-cli-errors-'));
  if (config !== undefined) writeFileSync(join(dir, 'c.yaml'), config);
  const r = cli(args(dir), { cwd: dir });
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  return { ...r, lines, left: readdirSync(dir).filter((f) => f !== 'c.yaml') };
}

const run = (dir: string) => ['run', '--config', join(dir, 'c.yaml'), '--out', join(dir, 'out')];

const configCases: { name: string; config: string; line: string }[] = [
  {
    name: 'a top-level key',
    config: 'seedz: [1]\n',
    line: "c.yaml: unknown key 'seedz' (did you mean 'seeds'?)",
  },
  {
    name: 'datasets',
    config: 'datasetz: [meld]\n',
    line: "c.yaml: unknown key 'datasetz' (did you mean 'datasets'?)",
  },
  {
    name: 'a bootstrap key',
    config: 'datasets: [meld]\nbootstrap:\n  resampels: 10\n',
    line: "c.yaml: bootstrap: unknown key 'resampels' (did you mean 'resamples'?)",
  },
  {
    name: 'a tfidf-logreg key (zod error)',
    config: 'datasets: [meld]\nadapters:\n  - id: m\n    type: tfidf-logreg\n    cgrid: [1]\n',
    line: "c.yaml: adapters[0] (m): unknown key 'cgrid' (did you mean 'cGrid'?)",
  },
  {
    name: 'an onnx-classifier key (the factory formats its errors)',
    config:
      'datasets: [meld]\nadapters:\n  - id: m\n    type: onnx-classifier\n    model: x\n    batchsize: 4\n',
    line: "c.yaml: adapters[0] (m): unknown key 'batchsize' (did you mean 'batchSize'?)",
  },
  {
    name: 'an openai key that differs in case (and leaves baseUrl missing)',
    config:
      'datasets: [meld]\nadapters:\n  - id: m\n    type: openai\n    baseURL: http://127.0.0.1:1/v1\n    model: x\n',
    line: "c.yaml: adapters[0] (m): unknown key 'baseURL' (did you mean 'baseUrl'?)",
  },
  {
    name: 'a nested openai key',
    config:
      'datasets: [meld]\nadapters:\n  - id: m\n    type: openai\n    baseUrl: http://127.0.0.1:1/v1\n    model: x\n    decoding:\n      temprature: 0\n',
    line: "c.yaml: adapters[0] (m): decoding: unknown key 'temprature' (did you mean 'temperature'?)",
  },
];

describe('config: a misspelt key, at any level, gets one line with a suggestion and exit code 2', () => {
  it.each(configCases)('$name', ({ config, line }) => {
    const r = badInput(run, config);
    expect(r.code).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^emotion-eval: .*c\.yaml: /);
    expect(r.lines[0]!.endsWith(line)).toBe(true);
    expect(r.left).toEqual([]);
  });

  it('a wrong type names the key', () => {
    const r = badInput(run, 'seeds: 1\n');
    expect(r.code).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/c\.yaml: seeds: expected array, received number$/);
    expect(r.left).toEqual([]);
  });

  it('a missing config file', () => {
    const r = badInput((dir) => ['run', '--config', join(dir, 'nope.yaml'), '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^emotion-eval: .*nope\.yaml: config file not found$/);
    expect(r.left).toEqual([]);
  });
});

describe('--datasets: a misspelt dataset, protocol or task id gets a suggestion', () => {
  it.each([
    ['meld-7.tset', 'meld-7.test'],
    ['mled-7.dev', 'meld-7.dev'],
    ['meld-8', 'meld-7'],
    // A dataset takes no split: the suggestion is a protocol's task, never `meld.test`.
    ['meld.tset', 'meld-7.test'],
  ])('%s', (id, hint) => {
    const r = badInput((dir) => ['run', '--datasets', id, '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(
      new RegExp(
        `^emotion-eval: unknown dataset or protocol '${id}' \\(did you mean '${hint}'\\?\\); known: `,
      ),
    );
    expect(r.left).toEqual([]);
  });
});

describe('commands and options: one prefixed line with the suggestion, exit code 2', () => {
  it.each([
    [['rnu'], "emotion-eval: unknown command 'rnu' (did you mean 'run'?)"],
    [['run', '--datsets', 'meld'], "emotion-eval: unknown option '--datsets' (did you mean '--datasets'?)"],
    [['run', '--frobnicate'], "emotion-eval: unknown option '--frobnicate'"],
    [['score'], "emotion-eval: required option '--predictions <file>' not specified"],
  ])('%j', (args, line) => {
    const r = badInput(() => args);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual([line]);
    expect(r.stdout).toBe('');
    expect(r.left).toEqual([]);
  });

  it('help when no command is given is a usage error; asked-for help is not', () => {
    const none = badInput(() => []);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: emotion-eval/);
    expect(badInput(() => ['--help']).code).toBe(0);
  });

  it("turns commander's two-line messages into one", () => {
    expect(commanderMessage("error: unknown command 'rnu'\n(Did you mean run?)")).toBe(
      "unknown command 'rnu' (did you mean 'run'?)",
    );
    expect(commanderMessage("error: unknown option '--ou'\n(Did you mean one of --out, --quiet?)")).toBe(
      "unknown option '--ou' (did you mean one of '--out', '--quiet'?)",
    );
    expect(commanderMessage("error: option '--out <dir>' argument missing")).toBe(
      "option '--out <dir>' argument missing",
    );
  });
});
