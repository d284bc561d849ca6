/**
 * `npm run bench`: runs every bench/*.bench.ts in its own process, one after the other (benchmarks
 * must not compete for the two cores), then writes bench/results/SUMMARY.md from the JSON files.
 * Every figure there is a ratio measured side by side in one run, with the machine it ran on.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';

const benchDir = resolve(import.meta.dirname);
const resultsDir = join(benchDir, 'results');
const only = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const failures: string[] = [];
for (const f of files) {
  process.stderr.write(`\n== ${f}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, f)], {
    stdio: 'inherit',
    cwd: resolve(benchDir, '..'),
  });
  if (r.status !== 0) failures.push(f);
}

const results = readdirSync(resultsDir)
  .filter((x) => x.endsWith('.json'))
  .sort()
  .map((f) => ({
    f,
    data: JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as Record<string, unknown>,
  }));
// Each results file says when and where it was measured: a partial `npm run bench -- NAME` leaves
// the others as they were, and the table shows it rather than one machine line for all.
const machineOf = (d: Record<string, unknown>) => {
  const m = (d.machine ?? {}) as Record<string, unknown>;
  return `${m.cpu ?? m.cpu_model ?? 'unknown'} x ${m.cores ?? m.cpus ?? '?'}`;
};
const thisRun = new Set(files.map((f) => f.replace(/\.bench\.ts$/, '.json')));
const lines = [
  '# Benchmark results',
  '',
  `This run: ${files.length === 0 ? 'none' : files.join(', ')} on ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}, Node ${process.version}.`,
  'Each figure is a ratio of two things measured side by side in one process (shared machines are noisy:',
  'absolute times are given for context only). Regenerate with `npm run bench`.',
  '',
  '| benchmark | measured | machine | pass | from this run |',
  '|---|---|---|---|---|',
  ...results.map(
    ({ f, data }) =>
      `| ${f.replace(/\.json$/, '')} | ${String(data.date ?? 'unknown').slice(0, 16)} | ${machineOf(data)} | ${data.pass ?? data.within_bound ?? '?'} | ${thisRun.has(f) ? 'yes' : 'no'} |`,
  ),
  '',
];
for (const { f, data } of results) {
  lines.push(
    `## ${f.replace(/\.json$/, '')}`,
    '',
    '```json',
    JSON.stringify(headline(data), null, 2),
    '```',
    '',
  );
}
writeFileSync(join(resultsDir, 'SUMMARY.md'), `${lines.join('\n')}\n`);
process.stderr.write(`\nwrote ${join(resultsDir, 'SUMMARY.md')}\n`);
if (failures.length > 0) {
  process.stderr.write(`failed: ${failures.join(', ')}\n`);
  process.exitCode = 1;
}

/** The top-level scalar fields and one level of nested objects: enough for a summary page. */
function headline(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (v === null || typeof v !== 'object') out[k] = v;
    else if (!Array.isArray(v)) {
      const inner: Record<string, unknown> = {};
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>))
        if (v2 === null || typeof v2 !== 'object') inner[k2] = v2;
      if (Object.keys(inner).length > 0) out[k] = inner;
    }
  }
  return out;
}
