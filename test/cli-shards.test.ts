import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, runArgs } from './support/cli.ts';
import { repoRoot } from './support/paths.ts';

const config = join(repoRoot, 'test/fixtures/plugin/config.yaml');
const runDirOf = (stderr: string) => stderr.match(/results in (.*)\n/)![1]!;
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

describe('sharded runs', () => {
  it('two shards cover every example once, and their merge scores like the unsharded run', () => {
    const out = mkdtempSync(join(tmpdir(), 'ee-shards-'));
    const whole = cli([
      'run',
      '--config',
      config,
      '--out',
      out,
      '--name',
      'whole',
      '--no-figures',
      '--quiet',
    ]);
    expect(whole.code).toBe(0);
    const s1 = cli([
      'run',
      '--config',
      config,
      '--out',
      out,
      '--name',
      'part',
      '--shard',
      '1/2',
      '--no-figures',
      '--quiet',
    ]);
    const s2 = cli([
      'run',
      '--config',
      config,
      '--out',
      out,
      '--name',
      'part',
      '--shard',
      '2/2',
      '--no-figures',
      '--quiet',
    ]);
    expect([s1.code, s2.code]).toEqual([0, 0]);
    const p1 = lines(join(runDirOf(s1.stderr), 'predictions/toy-2/kw/seed-1.jsonl')).map(
      (l) => JSON.parse(l).id,
    );
    const p2 = lines(join(runDirOf(s2.stderr), 'predictions/toy-2/kw/seed-1.jsonl')).map(
      (l) => JSON.parse(l).id,
    );
    expect(p1.length + p2.length).toBe(6);
    expect(new Set([...p1, ...p2]).size).toBe(6);

    // A missing shard is refused.
    const lonely = cli(['merge', runDirOf(s1.stderr), '--out', join(out, 'merged-bad')]);
    expect(lonely.code).toBe(2);
    expect(lonely.stderr).toContain('shards 2 of 2 are missing');
    expect(existsSync(join(out, 'merged-bad'))).toBe(false);

    // Shards that overlap are refused, and the merge leaves nothing behind.
    const p2file = join(runDirOf(s2.stderr), 'predictions/toy-2/kw/seed-1.jsonl');
    const p1file = join(runDirOf(s1.stderr), 'predictions/toy-2/kw/seed-1.jsonl');
    const p1text = readFileSync(p1file, 'utf8');
    writeFileSync(p1file, `${p1text}${readFileSync(p2file, 'utf8').split('\n')[0]}\n`);
    const overlap = cli([
      'merge',
      runDirOf(s1.stderr),
      runDirOf(s2.stderr),
      '--out',
      join(out, 'merged-bad'),
    ]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toMatch(/appears in two shards/);
    expect(existsSync(join(out, 'merged-bad'))).toBe(false);
    writeFileSync(p1file, p1text);

    const merged = cli(['merge', runDirOf(s1.stderr), runDirOf(s2.stderr), '--out', join(out, 'merged')]);
    expect(merged.stderr).toContain('merged 2 shards');
    expect(merged.code).toBe(0);
    const a = JSON.parse(readFileSync(join(runDirOf(whole.stderr), 'metrics/toy-2/kw/seed-1.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(out, 'merged', 'metrics/toy-2/kw/seed-1.json'), 'utf8'));
    expect(b.metrics).toEqual(a.metrics);
    expect(b.confusion).toEqual(a.confusion);
    expect(b.n).toBe(6);
  });

  it('shards run on machines with the data at other paths merge, with run-wide counts over all shards', () => {
    const root = mkdtempSync(join(tmpdir(), 'ee-shards-paths-'));
    for (const d of ['nodeA', 'nodeB'])
      cpSync(join(repoRoot, 'dataset-loaders/samples/meld'), join(root, d, 'meld'), { recursive: true });
    const run = (data: string, name: string, shard?: string) =>
      cli(
        runArgs({
          datasets: 'meld-7',
          adapters: 'majority',
          dataDir: join(root, data),
          out: join(root, 'out'),
          name,
          extra: shard ? ['--shard', shard] : [],
        }),
      );
    expect(run('nodeA', 'whole').code).toBe(0);
    expect(run('nodeA', 'part', '1/2').code).toBe(0);
    expect(run('nodeB', 'part', '2/2').code).toBe(0);
    const [s1, s2] = ['part-shard1of2', 'part-shard2of2'].map((d) => join(root, 'out', d));
    const merged = cli(['merge', s1!, s2!, '--out', join(root, 'out', 'merged')]);
    expect(merged.code, merged.stderr).toBe(0);
    const read = (run: string, rel: string) => JSON.parse(readFileSync(join(root, 'out', run, rel), 'utf8'));
    expect(read('merged', 'metrics/meld-7/majority/seed-1.json').metrics).toEqual(
      read('whole', 'metrics/meld-7/majority/seed-1.json').metrics,
    );
    const counts = read('merged', 'manifest.json').adapters.majority.parse_counts;
    expect(counts).toEqual(read('whole', 'manifest.json').adapters.majority.parse_counts);
    expect(counts.ok).toBe(read('whole', 'manifest.json').tasks['meld-7'].n);
    expect(read('part-shard1of2', 'manifest.json').adapters.majority.parse_counts.ok).toBeLessThan(counts.ok);

    // Other data (one label changed on node B) is another plan: refused.
    const other = join(root, 'nodeB', 'meld', 'test_sent_emo.csv');
    writeFileSync(other, readFileSync(other, 'utf8').replace(',neutral,neutral,', ',anger,negative,'));
    expect(run('nodeB', 'part2', '2/2').code).toBe(0);
    const refused = cli([
      'merge',
      s1!,
      join(root, 'out', 'part2-shard2of2'),
      '--out',
      join(root, 'out', 'bad'),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/shard was run with another config/);
  });

  it('a bad shard spec is bad input', () => {
    const r = cli(['run', '--config', config, '--shard', '3/2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--shard');
  });
});
