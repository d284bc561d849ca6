/**
 * Memory stays flat as a dataset grows: a synthetic MELD-format release with 1,000,000 test
 * utterances runs through `majority` and `score`; peak RSS must stay under 1 GB (10^9 bytes, the
 * stricter reading: 953.7 MiB). The same run on
 * 100,000 utterances is measured beside it, so the ratio shows how memory grows with size.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSyntheticMeld } from '../test/support/synthetic-meld.ts';

const root = mkdtempSync(join(tmpdir(), 'ee-memory-'));
const repo = resolve(import.meta.dirname, '..');

function measure(args: string[]): { code: number; seconds: number; maxRssMiB: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'bench/support/rss-of.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '{}';
  const parsed = JSON.parse(last);
  if (parsed.code !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  return parsed;
}

const sizes = [100_000, 1_000_000];
const results: Record<string, unknown> = {};
for (const n of sizes) {
  const data = join(root, `data-${n}`);
  writeSyntheticMeld(data, { train: 2_000, dev: 500, test: n }, 11);
  const out = join(root, `out-${n}`);
  const run = measure([
    'run',
    '--datasets',
    'meld',
    '--data-dir',
    data,
    '--adapters',
    'majority',
    '--out',
    out,
    '--name',
    'm',
    '--resamples',
    '200',
    '--no-figures',
    '--quiet',
  ]);
  const score = measure([
    'score',
    '--predictions',
    join(out, 'm/predictions/meld-7/majority/seed-1.jsonl'),
    '--protocol',
    'meld-7',
    '--json',
  ]);
  results[String(n)] = { run, score };
  rmSync(data, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}

const big = results['1000000'] as { run: { maxRssMiB: number }; score: { maxRssMiB: number } };
const small = results['100000'] as { run: { maxRssMiB: number }; score: { maxRssMiB: number } };
// 1 GB read as 10^9 bytes, not 1 GiB: the stricter of the two.
const BOUND_MIB = 1e9 / 2 ** 20;
const summary = {
  benchmark: 'memory-scale',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  bound: '1 GB = 10^9 bytes',
  bound_mib: Math.round(BOUND_MIB * 10) / 10,
  run_1m_peak_rss_mib: Math.round(big.run.maxRssMiB),
  score_1m_peak_rss_mib: Math.round(big.score.maxRssMiB),
  within_bound: big.run.maxRssMiB < BOUND_MIB && big.score.maxRssMiB < BOUND_MIB,
  run_rss_ratio_1m_vs_100k: Math.round((100 * big.run.maxRssMiB) / small.run.maxRssMiB) / 100,
  score_rss_ratio_1m_vs_100k: Math.round((100 * big.score.maxRssMiB) / small.score.maxRssMiB) / 100,
  sizes: results,
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  join(import.meta.dirname, 'results', 'memory-scale.json'),
  `${JSON.stringify(summary, null, 2)}\n`,
);
console.log(JSON.stringify(summary, null, 2));
rmSync(root, { recursive: true, force: true });
if (!summary.within_bound) process.exitCode = 1;
