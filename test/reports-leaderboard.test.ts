/**
 * The scenario (test/support/result-fixture.ts), worked out by hand:
 *
 * toy-3, gold = joy×4, sad×3, neutral×3, headline weighted F1.
 *   A seed 1: joy row (3 joy, 1 sad), sad row (1 joy, 2 sad), neutral row (2 neutral, 1 unparseable).
 *     acc 7/10; joy P 3/4 R 3/4 F1 .75; sad P 2/3 R 2/3; neutral P 1 R 2/3 F1 .8;
 *     weighted F1 = (4·.75 + 3·2/3 + 3·.8)/10 = .74.
 *   A seed 2: the unparseable answer is right: weighted F1 = (3 + 2 + 3)/10 = .80.
 *     A's toy-3 cell: mean .77, sd = sqrt((.03² + .03²)/1) = .042426 -> "77.00 ± 4.24".
 *   B seed 1: weighted F1 .60, CI [.45, .75] -> "60.00 [45.00, 75.00]".
 * toy-bin, gold = positive/negative alternating (12), headline accuracy.
 *   A all right: 100.00 [100.00, 100.00]; B always "positive": 50.00; C wrong on 3 negatives: 75.00.
 * Averages: A (77 + 100)/2 = 88.50, rank 1; B (60 + 50)/2 = 55.00, rank 2; C lacks toy-3: no rank.
 * Significance against A (seed 1). toy-bin, accuracy: B differs from A on 6 examples, all A right.
 *   Exact McNemar: p = 2·(1/2)^6 = .03125. The permutation test swaps each of the 6 with chance 1/2;
 *   |delta| reaches .5 only when none or all are swapped: p -> 2/64 = .03125 too (up to Monte Carlo
 *   error, ~.0017 at 10,000 swaps): marked.
 *   toy-bin C: 3 discordant, all A right -> p = 2/8 = .25: not marked.
 *   toy-3 B: A1 right on 1,2,3,5,6,8,9; B1 right on 1,2,5,7,8,10 -> b = 3 (3,6,9), c = 2 (7,10):
 *     p = 2·(1 + 5 + 10)/32 = 1: not marked.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLeaderboard } from '../reports/aggregate.ts';
import { leaderboard, renderLeaderboard } from '../reports/leaderboard.ts';
import { ensurePredictions, loadResults, type ResultSet } from '../reports/load-results.ts';
import { mcnemarOnCorrectness } from '../reports/significance.ts';
import {
  BIN_GOLD,
  BIN_LABELS,
  TEMPLATE_A,
  TEMPLATE_B,
  writeRunFolder,
  writeScenario,
} from './support/result-fixture.ts';
import { writeRunFromRecords } from './support/run-fixture.ts';

let root: string;
let results: ResultSet;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'reports-lb-'));
  writeScenario(root);
  results = await loadResults([root], { predictions: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Table rows of a plain (no colour) cli-table3 table: cells between │ separators. */
function terminalRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('│'))
    .map((l) =>
      l
        .split('│')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

describe('leaderboard model', () => {
  it('averages seeds, ranks complete rows and leaves incomplete ones unranked', () => {
    const m = buildLeaderboard(results);
    expect(m.tasks.map((t) => t.id)).toEqual(['toy-3', 'toy-bin']);
    expect(m.rows.map((r) => [r.adapter, r.rank])).toEqual([
      ['A', 1],
      ['B', 2],
      ['C', undefined],
    ]);
    expect(m.rows[0]!.average).toBeCloseTo(0.885, 12);
    expect(m.rows[1]!.average).toBeCloseTo(0.55, 12);
    const a3 = m.entries.get('toy-3\u0000A')!;
    expect(a3.headlineValue.mean).toBeCloseTo(0.77, 12);
    expect(a3.headlineValue.sd).toBeCloseTo(Math.sqrt(0.0018), 12);
    expect(a3.headlineValue.ci).toBeUndefined(); // several seeds: no single CI
    // Confusion summed over seeds: neutral row = 2 + 3 right, 1 unparseable.
    expect(a3.confusion.matrix[2]).toEqual([0, 0, 5, 1]);
  });
});

describe('renderLeaderboard terminal', () => {
  it('shows hand-worked cells, average and rank, and no colour codes when color is false', () => {
    const out = renderLeaderboard(results, { format: 'terminal', color: false });
    expect(out.includes('\u001b[')).toBe(false);
    const rows = terminalRows(out.split('\n\n')[0]!);
    expect(rows[0]).toEqual(['Rank', 'Adapter', 'toy-3 W-F1', 'toy-bin Acc', 'Average']);
    expect(rows[1]).toEqual(['1', 'A', '77.00 ± 4.24', '100.00 [100.00, 100.00]', '88.50']);
    expect(rows[2]).toEqual(['2', 'B', '60.00 [45.00, 75.00]', '50.00', '55.00']);
    expect(rows[3]).toEqual(['–', 'C', '–', '75.00 [50.00, 100.00]', '–']);
    expect(out).toContain('Values are percentages (2 decimals)');
    // Provenance: both runs with their commits, seeds, fingerprints and template hashes, data read.
    expect(out).toContain('Runs: run-1 (git 111111111111); run-2 (git 222222222222)');
    expect(out).toContain('Seeds: 1, 2');
    // A (openai) records `template: { id, hash }`, B (onnx-causal-lm) `template` + `template_hash`.
    expect(out).toContain(
      'Adapters: A [openai] fingerprint fp-A-0123456, template peng2023 hash a1b2c3d4e5f6; ' +
        'B [onnx-causal-lm] fingerprint fp-B-0123456, template dialoguellm hash b0c1d2e3f405; ' +
        'C [tfidf-logreg] fingerprint fp-C-0123456\n',
    );
    expect(out).toContain('toy (variant v1), 1 files');
  });

  it('wraps headers and CIs onto two lines when the table is wider than the terminal', () => {
    const wide = renderLeaderboard(results, { format: 'terminal', color: false, details: false, width: 200 });
    const narrow = renderLeaderboard(results, {
      format: 'terminal',
      color: false,
      details: false,
      width: 60,
    });
    expect(wide).toBe(renderLeaderboard(results, { format: 'terminal', color: false, details: false }));
    const widthOf = (s: string) =>
      Math.max(
        ...s
          .split('\n')
          .filter((l) => l.startsWith('┌'))
          .map((l) => l.length),
      );
    expect(widthOf(narrow)).toBeLessThan(widthOf(wide));
    const rows = terminalRows(narrow);
    // Header "toy-3 W-F1" becomes "toy-3" over "W-F1"; B's cell "60.00" over "[45.00, 75.00]".
    expect(rows[0]).toEqual(['Rank', 'Adapter', 'toy-3', 'toy-bin', 'Average']);
    expect(rows[1]).toEqual(['', '', 'W-F1', 'Acc', '']);
    expect(rows).toContainEqual(['2', 'B', '60.00', '50.00', '55.00']);
    expect(rows).toContainEqual(['', '', '[45.00, 75.00]', '', '']);
  });

  it('colours with ANSI codes when asked', () => {
    const out = renderLeaderboard(results, { format: 'terminal', color: true });
    expect(out).toContain('\u001b[1m100.00 [100.00, 100.00]\u001b[0m'); // best in bold
  });

  it('per-task detail and per-class tables carry every metric and parse rate', () => {
    const out = renderLeaderboard(results, { format: 'terminal', color: false });
    const blocks = out.split('\n\n');
    const detail = blocks.find((b) => b.startsWith('toy-3 (toy-3): every metric'))!;
    const rows = terminalRows(detail);
    expect(rows[0]).toEqual(['Adapter', 'Acc', 'Macro-F1', 'W-F1', 'UA', 'Parse rate', 'n']);
    // A: acc (.7, .8) -> 75.00 ± 7.07; macro ((.738889, .805556)) -> 77.22 ± 4.71; parse (0.9, 1) -> 95.00 ± 7.07
    expect(rows[1]).toEqual([
      'A',
      '75.00 ± 7.07',
      '77.22 ± 4.71',
      '77.00 ± 4.24',
      '75.00 ± 7.86',
      '95.00 ± 7.07',
      '10',
    ]);
    // B: macro 38/63 = 60.32; UA (.5 + 2/3 + 2/3)/3 = 61.11
    expect(rows[2]).toEqual(['B', '60.00', '60.32', '60.00 [45.00, 75.00]', '61.11', '100.00', '10']);
    expect(detail).toContain('Runs: run-1');
    const perClass = terminalRows(blocks.find((b) => b.startsWith('toy-bin: per-class'))!);
    // C on toy-bin: positive P 6/9 R 1 F1 .8; negative P 1 R .5 F1 2/3.
    expect(perClass).toContainEqual(['C', 'positive', '66.67', '100.00', '80.00', '6']);
    expect(perClass).toContainEqual(['C', 'negative', '100.00', '50.00', '66.67', '6']);
  });

  it('marks significance against the reference row', () => {
    const out = renderLeaderboard(results, { format: 'terminal', color: false, reference: 'A' });
    const rows = terminalRows(out.split('\n\n')[0]!);
    expect(rows[2]).toEqual(['2', 'B', '60.00 [45.00, 75.00]', '50.00†', '55.00']);
    expect(rows[3]![3]).toBe('75.00 [50.00, 100.00]');
    expect(out).toContain(
      "† differs from A on the task's headline metric at p < 0.05 (paired permutation test on the metric compared",
    );
    expect(() => renderLeaderboard(results, { format: 'terminal', reference: 'AA' })).toThrow(
      /unknown reference adapter 'AA' \(did you mean 'A'\?\)/,
    );
  });
});

describe('renderLeaderboard machine formats', () => {
  it('json round-trips to the hand-worked fractions', () => {
    const j = JSON.parse(renderLeaderboard(results, { format: 'json', reference: 'A' }));
    expect(j.units).toBe('fraction');
    const a = j.leaderboard[0];
    expect(a.adapter).toBe('A');
    expect(a.rank).toBe(1);
    expect(a.average).toBeCloseTo(0.885, 12);
    expect(a.tasks['toy-3'].values).toEqual([0.74, 0.8]);
    expect(a.tasks['toy-3'].sd).toBeCloseTo(0.0424264, 6);
    const b = j.leaderboard[1];
    expect(Math.abs(b.tasks['toy-bin'].p_vs_reference - 0.03125)).toBeLessThan(0.006);
    const c3 = j.leaderboard[2].tasks['toy-bin'].p_vs_reference;
    expect(Math.abs(c3 - 0.25)).toBeLessThan(0.02);
    // The exact test gives the hand-worked value exactly.
    const exact = JSON.parse(
      renderLeaderboard(results, { format: 'json', reference: 'A', pairedTest: mcnemarOnCorrectness }),
    );
    expect(exact.leaderboard[1].tasks['toy-bin'].p_vs_reference).toBeCloseTo(0.03125, 12);
    expect(exact.leaderboard[2].tasks['toy-bin'].p_vs_reference).toBeCloseTo(0.25, 12);
    expect(b.tasks['toy-3'].ci).toMatchObject({ low: 0.45, high: 0.75 });
    const c = j.details.find(
      (d: { task: string; adapter: string }) => d.task === 'toy-bin' && d.adapter === 'C',
    );
    expect(c.per_class.negative.recall).toBe(0.5);
    expect(c.confusion.matrix).toEqual([
      [6, 0, 0],
      [3, 3, 0],
    ]);
    expect(j.provenance.runs.map((r: { runId: string }) => r.runId)).toEqual(['run-1', 'run-2']);
  });

  it('csv parses back to the same numbers (percent), skipping the # provenance lines', () => {
    const csv = renderLeaderboard(results, { format: 'csv' });
    // comment: '#' is what pandas (comment="#") and R (comment.char = "#") are told to do.
    const rows = parseCsv(csv, { columns: true, comment: '#' }) as Record<string, string>[];
    const find = (task: string, adapter: string, metric: string, cls = '') =>
      rows.find((r) => r.task === task && r.adapter === adapter && r.metric === metric && r.class === cls)!;
    const aw = find('toy-3', 'A', 'weighted_f1');
    expect(Number(aw.mean_pct)).toBeCloseTo(77, 6);
    expect(Number(aw.sd_pct)).toBeCloseTo(4.242641, 5);
    expect(aw.seeds).toBe('1 2');
    expect(aw.is_headline).toBe('true');
    expect(aw.runs).toBe('run-1 run-2');
    expect(aw.support).toBe('');
    const bw = find('toy-3', 'B', 'weighted_f1');
    expect([bw.ci_low_pct, bw.ci_high_pct].map(Number)).toEqual([45, 75]);
    expect(bw.sd_pct).toBe('');
    expect(Number(find('toy-bin', 'B', 'macro_f1').mean_pct)).toBeCloseTo(100 / 3, 5);
    expect(Number(find('(average)', 'B', 'headline').mean_pct)).toBeCloseTo(55, 9);
    expect(find('toy-bin', 'C', 'accuracy').rank).toBe('');
  });

  it('csv has per-class precision, recall, F1 and support rows (mean and sd over seeds)', () => {
    const rows = parseCsv(renderLeaderboard(results, { format: 'csv' }), {
      columns: true,
      comment: '#',
    }) as Record<string, string>[];
    const perClass = rows.filter((r) => r.class !== '');
    // 3 labels x 2 adapters (toy-3) + 2 labels x 3 adapters (toy-bin), each with P, R and F1.
    expect(perClass).toHaveLength((3 * 2 + 2 * 3) * 3);
    const get = (task: string, adapter: string, cls: string, metric: string) =>
      perClass.find(
        (r) => r.task === task && r.adapter === adapter && r.class === cls && r.metric === metric,
      )!;
    // C on toy-bin: positive P 6/9 R 1 F1 .8; negative P 1 R .5 F1 2/3; 6 of each class.
    expect(Number(get('toy-bin', 'C', 'positive', 'precision').mean_pct)).toBeCloseTo(200 / 3, 5);
    expect(Number(get('toy-bin', 'C', 'positive', 'f1').mean_pct)).toBeCloseTo(80, 6);
    expect(Number(get('toy-bin', 'C', 'negative', 'recall').mean_pct)).toBeCloseTo(50, 6);
    expect(get('toy-bin', 'C', 'negative', 'recall').support).toBe('6');
    // B never predicts negative: P, R and F1 are 0 there.
    expect(Number(get('toy-bin', 'B', 'negative', 'precision').mean_pct)).toBe(0);
    // A's toy-3 neutral over seeds: recall 2/3 (seed 1, one unparseable) and 1 (seed 2):
    // mean 5/6, sd (1/3)/sqrt(2); F1 .8 and 1: mean .9, sd .2/sqrt(2). Support 3 (gold neutral).
    const rec = get('toy-3', 'A', 'neutral', 'recall');
    expect(Number(rec.mean_pct)).toBeCloseTo(500 / 6, 5);
    expect(Number(rec.sd_pct)).toBeCloseTo(100 / 3 / Math.SQRT2, 5);
    expect(rec.seeds).toBe('1 2');
    expect(rec.support).toBe('3');
    expect(rec.is_headline).toBe('false');
    const f1 = get('toy-3', 'A', 'neutral', 'f1');
    expect(Number(f1.mean_pct)).toBeCloseTo(90, 6);
    expect(Number(f1.sd_pct)).toBeCloseTo(20 / Math.SQRT2, 5);
    // A single seed: no sd, as in the metric rows.
    expect(get('toy-3', 'B', 'joy', 'f1').sd_pct).toBe('');
    expect(get('toy-3', 'B', 'joy', 'f1').support).toBe('4');
  });

  it('csv provenance: # lines with full run commits, dataset variant and sha256, fingerprints, template hashes', () => {
    const csv = renderLeaderboard(results, { format: 'csv' });
    const lines = csv.split('\n');
    const firstData = lines.findIndex((l) => !l.startsWith('#'));
    expect(lines[firstData]).toBe(
      'task,protocol,adapter,metric,is_headline,seeds,mean_pct,sd_pct,ci_low_pct,ci_high_pct,n,parse_rate_pct,rank,runs,class,support',
    );
    // Every comment line leads: the table after them is plain CSV.
    expect(lines.slice(firstData).some((l) => l.startsWith('#'))).toBe(false);
    expect(lines[1]).toContain('pandas.read_csv(path, comment="#")');
    /** `kind: id key=value ...` back to an object (values quoted as JSON when they need it). */
    const parsed = lines.slice(0, firstData).flatMap((l) => {
      const m = /^# (\w+): (\S+)(.*)$/.exec(l);
      if (!m) return [];
      const fields: Record<string, string> = { kind: m[1]!, id: m[2]! };
      for (const f of m[3]!.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
        fields[f[1]!] = f[2]!.startsWith('"') ? JSON.parse(f[2]!) : f[2]!;
      }
      return [fields];
    });
    const of = (kind: string, id: string) => parsed.find((p) => p.kind === kind && p.id === id)!;
    expect(of('run', 'run-1')).toMatchObject({
      git: '1111111111111111aaaa',
      dirty: 'false',
      created: '2026-01-01T00:00:00.000Z',
    });
    expect(of('run', 'run-2').git).toBe('2222222222222222bbbb');
    expect(lines).toContain('# seeds: 1 2');
    expect(of('adapter', 'A')).toMatchObject({
      type: 'openai',
      fingerprint: 'fp-A-0123456789abcdef',
      template: TEMPLATE_A.id,
      template_hash: TEMPLATE_A.hash,
    });
    expect(of('adapter', 'B')).toMatchObject({
      type: 'onnx-causal-lm',
      template: TEMPLATE_B.id,
      template_hash: TEMPLATE_B.hash,
    });
    expect(of('adapter', 'C').template_hash).toBeUndefined(); // a baseline has no prompt
    // The manifest lists one file of the toy dataset; its digest is sha256 over the files' sha256s.
    const fileSha = 'aa'.repeat(32);
    expect(of('dataset', 'toy')).toMatchObject({
      variant: 'v1',
      files: '1',
      sha256: createHash('sha256').update(fileSha).digest('hex'),
    });
    expect(of('dataset_file', 'toy')).toMatchObject({ path: 'toy.csv', sha256: fileSha });
  });

  it('csv quotes fields holding #, so readers that cut comments mid-line keep them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reports-lb-hash-'));
    const name = 'tuned #2, "large"';
    writeRunFolder(dir, {
      runId: 'run-h',
      created: '2026-01-05T00:00:00.000Z',
      datasets: {
        toy: {
          dir: '/d',
          variant: 'v 2',
          files: [{ path: 'a dir/x#1.csv', sha256: 'bb'.repeat(32), bytes: 1 }],
        },
      },
      cells: [
        {
          task: 'toy-bin',
          adapter: name,
          headline: 'accuracy',
          labels: BIN_LABELS,
          gold: BIN_GOLD,
          pred: BIN_GOLD,
          metrics: { accuracy: 1, macro_f1: 1 },
        },
      ],
    });
    const csv = renderLeaderboard(await loadResults([dir]), { format: 'csv' });
    // What an unquoted "#" does to such a reader: the rest of the line is dropped.
    expect(parseCsv('a,b\nx#1,2\n', { columns: true, comment: '#', relax_column_count: true })).toEqual([
      { a: 'x' },
    ]);
    const rows = parseCsv(csv, { columns: true, comment: '#' }) as Record<string, string>[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.adapter === name)).toBe(true);
    expect(Number(rows.find((r) => r.metric === 'accuracy')!.mean_pct)).toBe(100);
    // Values with spaces in the provenance lines are JSON-quoted.
    expect(csv).toContain('# dataset: toy variant="v 2" files=1 sha256=');
    expect(csv).toContain(`# dataset_file: toy path="a dir/x#1.csv" sha256=${'bb'.repeat(32)}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('markdown shows bold best, italic second and escapes pipes', () => {
    const out = renderLeaderboard(results, { format: 'md', details: false });
    const line = out.split('\n').find((l) => l.startsWith('| 1 |'))!;
    expect(line).toBe('| 1 | A | **77.00 ± 4.24** | **100.00 \\[100.00, 100.00\\]** | **88.50** |');
    const lineB = out.split('\n').find((l) => l.startsWith('| 2 |'))!;
    expect(lineB).toBe('| 2 | B | _60.00 \\[45.00, 75.00\\]_ | 50.00 | _55.00_ |');
  });

  it('the async entry point loads and renders', async () => {
    const out = await leaderboard([root], { format: 'csv' });
    expect(out.split('\n').find((l) => !l.startsWith('#'))).toBe(
      'task,protocol,adapter,metric,is_headline,seeds,mean_pct,sd_pct,ci_low_pct,ci_high_pct,n,parse_rate_pct,rank,runs,class,support',
    );
  });

  it('unknown formats are an InputError', () => {
    expect(() => renderLeaderboard(results, { format: 'xml' as 'md' })).toThrow(/unknown format 'xml'/);
  });

  it('provenance names a dirty tree and the shards a run was merged from', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reports-lb-merged-'));
    const { run2 } = writeScenario(dir);
    const file = join(run2, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    m.merged_from = ['run-2-shard-1', 'run-2-shard-2'];
    m.git.dirty = true;
    writeFileSync(file, JSON.stringify(m));
    const out = renderLeaderboard(await loadResults([dir]), { format: 'md', details: false });
    expect(out).toContain('run-2 (git 222222222222, dirty, merged from 2 shards)');
    rmSync(dir, { recursive: true, force: true });
  });

  it('significance without predictions says so instead of guessing', async () => {
    const bare = await loadResults([root]);
    const out = renderLeaderboard(bare, { format: 'terminal', color: false, reference: 'A', details: false });
    expect(out).toContain(
      'No significance test for: toy-3/B (predictions not loaded); toy-bin/B (predictions not loaded); toy-bin/C (predictions not loaded).',
    );
    expect(out).not.toContain('50.00†');
    await ensurePredictions(bare);
    expect(renderLeaderboard(bare, { format: 'terminal', color: false, reference: 'A' })).toContain('50.00†');
  });
});

describe('cells with answers that never came', () => {
  it('are marked in the table and counted under it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ee-lb-errors-'));
    const protocol = {
      labels: ['neg', 'pos'],
      headline: 'accuracy' as const,
      metrics: ['accuracy' as const],
    };
    const records = (errors: number) =>
      Array.from({ length: 20 }, (_, i) => ({
        id: `x${i}`,
        gold: i % 2 ? 'pos' : 'neg',
        pred: i < errors ? null : i % 2 ? 'pos' : 'neg',
        parse: i < errors ? ('error' as const) : ('ok' as const),
      }));
    const dir = writeRunFromRecords(root, 'run', [
      { task: 'toy-2', adapter: 'served', protocol, records: records(4) },
      { task: 'toy-2', adapter: 'local', protocol, records: records(0) },
    ]);
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        run_id: 'run',
        git: { commit: null, dirty: null },
        seeds: [1],
        datasets: {},
        adapters: {
          served: { type: 'openai', fingerprint: 'f1', facts: {} },
          local: { type: 'majority', fingerprint: 'f2', facts: {} },
        },
      }),
    );
    const results = await loadResults([dir]);
    const md = renderLeaderboard(results, { format: 'md', details: false });
    // 16 of 20 right: the 4 errors count as wrong, and the cell says so.
    expect(md).toMatch(/\| served \| _?80\.00‡/);
    expect(md).not.toMatch(/\| local \|[^\n]*‡/);
    expect(md).toContain('‡ examples recorded as errors (no answer; counted wrong): served on toy-2 4/20.');
    const latex = renderLeaderboard(results, { format: 'latex', details: false });
    expect(latex).toContain('\\ddagger');
  });
});
