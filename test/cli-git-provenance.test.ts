import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, runArgs } from './support/cli.ts';
import { repoRoot } from './support/paths.ts';

const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8' });
const hasGit = git(repoRoot, '--version').status === 0 && existsSync(join(repoRoot, '.git'));

describe.skipIf(!hasGit)('the manifest records the commit of the code that made the numbers', () => {
  it("emotion-eval's own commit, and the user's project commit when run from another repository", () => {
    const project = mkdtempSync(join(tmpdir(), 'ee-project-'));
    expect(git(project, 'init', '-q', '.').status).toBe(0);
    const commit = git(
      project,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@t',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'x',
    );
    expect(commit.status, commit.stderr).toBe(0);
    const r = cli(runArgs({ datasets: 'meld', adapters: 'majority', out: join(project, 'out'), name: 'g' }), {
      cwd: project,
    });
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(project, 'out/g/manifest.json'), 'utf8'));
    expect(manifest.git.commit).toBe(git(repoRoot, 'rev-parse', 'HEAD').stdout.trim());
    expect(manifest.git.dirty).toBe(
      git(repoRoot, 'status', '--porcelain', '--untracked-files=no').stdout.trim() !== '',
    );
    expect(manifest.project_git).toEqual({
      commit: git(project, 'rev-parse', 'HEAD').stdout.trim(),
      dirty: false,
    });
  });
});
