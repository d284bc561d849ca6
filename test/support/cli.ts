import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real bin (`node bin/emotion-eval.js ...`) in a child process. */
export function cli(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'emotion-eval.js'), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, CI: '1', ...options.env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
