import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real bin (`node bin/emotion-eval.js ...`) in a child process. */
export function cli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): CliResult {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'emotion-eval.js'), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, CI: '1', ...options.env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The same, asynchronous: needed when the test process itself serves (a loopback server) while the CLI runs. */
export function cliAsync(
  args: readonly string[],
  options: {
    cwd?: string;
    env?: Record<string, string>;
    onSpawn?: (child: import('node:child_process').ChildProcess) => void;
  } = {},
): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'emotion-eval.js'), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, CI: '1', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? -1, signal, stdout, stderr }));
    options.onSpawn?.(child);
  });
}

/** The argv of `emotion-eval run` as the CLI tests use it: results under `out`, no figures, quiet. */
export function runArgs(o: {
  datasets: string;
  adapters: string;
  out: string;
  name?: string;
  dataDir?: string;
  extra?: readonly string[];
}): string[] {
  return [
    'run',
    '--datasets',
    o.datasets,
    '--adapters',
    o.adapters,
    ...(o.dataDir ? ['--data-dir', o.dataDir] : []),
    '--out',
    o.out,
    ...(o.name ? ['--name', o.name] : []),
    '--no-figures',
    '--quiet',
    ...(o.extra ?? []),
  ];
}
