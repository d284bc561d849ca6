import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../harness/errors.ts';
import { loadResults } from '../reports/load-results.ts';
import { TOY3_GOLD, TOY3_LABELS, writeRunFolder, writeScenario } from './support/result-fixture.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'reports-load-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('loadResults', () => {
  it('reads one run folder: cells, metrics files and manifest', async () => {
    const { run1 } = writeScenario(root);
    const r = await loadResults([run1]);
    expect(r.runs.map((x) => x.runId)).toEqual(['run-1']);
    expect(r.cells).toHaveLength(5);
    const a = r.cells.find((c) => c.task === 'toy-3' && c.adapter === 'A')!;
    expect(a.summary.value).toBe(0.74);
    expect(a.metrics.confusion.matrix[2]).toEqual([0, 0, 2, 1]); // one neutral answer was unparseable
    expect(a.predictions).toBeUndefined();
    expect(r.warnings).toEqual([]);
  });

  it('reads a parent folder holding several runs, oldest first', async () => {
    writeScenario(root);
    const r = await loadResults([root], { predictions: true });
    expect(r.runs.map((x) => x.runId)).toEqual(['run-1', 'run-2']);
    expect(r.cells).toHaveLength(6);
    const a2 = r.cells.find((c) => c.task === 'toy-3' && c.adapter === 'A' && c.seed === 2)!;
    expect(a2.predictions).toHaveLength(10);
    expect(a2.predictions![9]).toMatchObject({ id: 'toy-3-10', gold: 'neutral', pred: 'neutral' });
  });

  it('says which sub-folders of a folder of runs it skipped', async () => {
    writeScenario(root);
    mkdirSync(join(root, 'run-unfinished'));
    writeFileSync(join(root, 'run-unfinished', 'manifest.json'), '{}');
    mkdirSync(join(root, 'notes'));
    const r = await loadResults([root]);
    expect(r.runs.map((x) => x.runId)).toEqual(['run-1', 'run-2']);
    expect(r.warnings).toEqual([
      `${join(root, 'run-unfinished')}: skipped, it has a manifest but no summary.json (an unfinished run?)`,
    ]);
  });

  it('a later run replaces the same (task, adapter, seed) and says so', async () => {
    const { run1 } = writeScenario(root);
    const older = writeRunFolder(join(root, 'old'), {
      runId: 'run-0',
      created: '2025-12-01T00:00:00.000Z',
      cells: [
        {
          task: 'toy-3',
          adapter: 'A',
          headline: 'weighted_f1',
          labels: TOY3_LABELS,
          gold: TOY3_GOLD,
          pred: TOY3_GOLD.map(() => 'joy'),
          metrics: { accuracy: 0.4, weighted_f1: 0.1 },
        },
      ],
    });
    const r = await loadResults([older, run1]);
    const a = r.cells.filter((c) => c.task === 'toy-3' && c.adapter === 'A');
    expect(a).toHaveLength(1);
    expect(a[0]!.summary.value).toBe(0.74);
    expect(a[0]!.runId).toBe('run-1');
    expect(r.warnings).toEqual(['toy-3/A/seed-1: run run-1 replaces run run-0 (later run wins)']);
    // run-0 contributes nothing any more, so it is not in the provenance.
    expect(r.runs.map((x) => x.runId)).toEqual(['run-1']);

    // Order on the command line decides: the older folder named last wins.
    const r2 = await loadResults([run1, older]);
    expect(r2.cells.find((c) => c.task === 'toy-3' && c.adapter === 'A')!.summary.value).toBe(0.1);
  });

  it('a missing metrics file is an InputError naming the file', async () => {
    const { run1 } = writeScenario(root);
    const file = join(run1, 'metrics', 'toy-bin', 'B', 'seed-1.json');
    rmSync(file);
    await expect(loadResults([run1])).rejects.toThrow(InputError);
    await expect(loadResults([run1])).rejects.toThrow(`${file}: file is missing`);
  });

  it('a bad summary value is reported with its JSON path', async () => {
    const { run1 } = writeScenario(root);
    const file = join(run1, 'summary.json');
    const s = JSON.parse(readFileSync(file, 'utf8'));
    s.cells[1].value = 62.3; // a percentage where a fraction is expected
    writeFileSync(file, JSON.stringify(s));
    await expect(loadResults([run1])).rejects.toThrow(/summary\.json: at cells\[1\]\.value: /);
  });

  it('broken JSON and a bad predictions line name the file (and line)', async () => {
    const { run1 } = writeScenario(root);
    writeFileSync(join(run1, 'manifest.json'), '{"run_id": ');
    await expect(loadResults([run1])).rejects.toThrow(/manifest\.json: not valid JSON/);
    rmSync(root, { recursive: true, force: true });
    const again = writeScenario(root);
    const pf = join(again.run1, 'predictions', 'toy-3', 'A', 'seed-1.jsonl');
    const lines = readFileSync(pf, 'utf8').split('\n');
    lines[3] = '{"id": "x", "gold": "joy"}';
    writeFileSync(pf, lines.join('\n'));
    await expect(loadResults([again.run1], { predictions: true })).rejects.toThrow(
      /seed-1\.jsonl:4: at pred: /,
    );
  });

  it('a metrics file whose confusion matrix lacks the <none> column is rejected', async () => {
    const { run1 } = writeScenario(root);
    const file = join(run1, 'metrics', 'toy-3', 'A', 'seed-1.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    m.confusion.matrix = m.confusion.matrix.map((row: number[]) => row.slice(0, 3));
    writeFileSync(file, JSON.stringify(m));
    await expect(loadResults([run1])).rejects.toThrow(
      /seed-1\.json: at confusion\.matrix\[0\]: expected 4 columns/,
    );
  });

  it('a folder with no run in it is an InputError', async () => {
    await expect(loadResults([root])).rejects.toThrow(/no summary\.json here/);
    await expect(loadResults([join(root, 'nope')])).rejects.toThrow(/results folder does not exist/);
  });
});
