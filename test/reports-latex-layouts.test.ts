/**
 * LaTeX output (compiled where a TeX engine exists, else checked for structure) and the paper
 * layouts (published rows from paper-facts.md next to measured rows).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderLeaderboard } from '../reports/leaderboard.ts';
import { loadResults, type ResultSet } from '../reports/load-results.ts';
import { PUBLISHED } from '../reports/published-results.ts';
import { escapeLatex } from '../reports/table-model.ts';
import { BIN_GOLD, BIN_LABELS, writeRunFolder, writeScenario } from './support/result-fixture.ts';

const pdflatex = ['/usr/bin/pdflatex', '/usr/local/bin/pdflatex'].find((p) => existsSync(p));
const HOSTILE = 'my_model&50%#1';

let root: string;
let results: ResultSet;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'reports-tex-'));
  writeScenario(join(root, 'runs'));
  writeRunFolder(join(root, 'runs'), {
    runId: 'run-3',
    created: '2026-01-03T00:00:00.000Z',
    cells: [
      {
        task: 'toy-bin',
        adapter: HOSTILE,
        headline: 'accuracy',
        labels: BIN_LABELS,
        gold: BIN_GOLD,
        pred: BIN_GOLD,
        metrics: { accuracy: 1, macro_f1: 1 },
      },
    ],
  });
  results = await loadResults([join(root, 'runs')], { predictions: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Structure checks: environments nest, braces balance, every row has as many cells as the spec. */
function checkLatex(tex: string): string[] {
  const errors: string[] = [];
  const envs: string[] = [];
  for (const m of tex.matchAll(/\\(begin|end)\{([^}]*)\}/g)) {
    if (m[1] === 'begin') envs.push(m[2]!);
    else if (envs.pop() !== m[2]) errors.push(`\\end{${m[2]}} does not match`);
  }
  if (envs.length) errors.push(`unclosed ${envs.join(', ')}`);
  let depth = 0;
  const unescaped = tex.replace(/\\[{}&%$#_]/g, '');
  for (const ch of unescaped) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (depth < 0) errors.push('unbalanced }');
  }
  if (depth !== 0) errors.push(`unbalanced braces (${depth})`);
  if (/(^|[^\\])[%#]/.test(tex.replace(/\\[%#]/g, ''))) errors.push('unescaped % or #');
  for (const t of tex.matchAll(/\\begin\{tabular\}\{([lrc]+)\}([\s\S]*?)\\end\{tabular\}/g)) {
    const cols = t[1]!.length;
    const body = t[2]!.split('\n').filter((l) => l.endsWith('\\\\'));
    for (const row of body) {
      const amps = row.replace(/\\&/g, '').split('&').length;
      if (amps !== cols) errors.push(`row with ${amps} cells, expected ${cols}: ${row}`);
    }
    for (const rule of ['\\toprule', '\\midrule', '\\bottomrule']) {
      if (!t[2]!.includes(rule)) errors.push(`missing ${rule}`);
    }
  }
  return errors;
}

describe('latex', () => {
  it('escapes every special character', () => {
    expect(escapeLatex('a_b&c%d$e#f{g}h~i^j\\k[l]')).toBe(
      'a\\_b\\&c\\%d\\$e\\#f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j\\textbackslash{}k{[}l{]}',
    );
    expect(escapeLatex('77.00 ± 4.24')).toBe('77.00 $\\pm$ 4.24');
  });

  it('booktabs tables: best bold, second underlined, significance marker, escaped names', () => {
    const tex = renderLeaderboard(results, { format: 'latex', reference: 'A' });
    expect(checkLatex(tex)).toEqual([]);
    const lines = tex.split('\n');
    const row = (adapter: string) => lines.find((l) => l.split(' & ')[1] === adapter)!;
    // toy-3: A best (77.00 ± 4.24), B second; toy-bin: A and the hostile adapter tie at 100 (both bold).
    expect(row('A')).toBe(
      '1 & A & \\textbf{77.00 $\\pm$ 4.24} & \\textbf{100.00 {[}100.00, 100.00{]}} & \\textbf{88.50} \\\\',
    );
    expect(row('B')).toBe(
      '2 & B & \\underline{60.00 {[}45.00, 75.00{]}} & 50.00$^{\\dagger}$ & \\underline{55.00} \\\\',
    );
    expect(row('C')).toBe('-- & C & -- & \\underline{75.00 {[}50.00, 100.00{]}} & -- \\\\');
    expect(row('my\\_model\\&50\\%\\#1')).toBe(
      '-- & my\\_model\\&50\\%\\#1 & -- & \\textbf{100.00} & -- \\\\',
    );
    expect(tex).not.toContain('\\documentclass');
    expect(tex).toContain('\\dag{} differs from A at p < 0.05');
  });

  it.skipIf(!pdflatex)(`compiles with pdflatex${pdflatex ? '' : ' (skipped: no TeX engine here)'}`, () => {
    const tex = renderLeaderboard(results, { format: 'latex', reference: 'A', standalone: true });
    const dir = mkdtempSync(join(tmpdir(), 'reports-pdflatex-'));
    writeFileSync(join(dir, 't.tex'), tex);
    const r = spawnSync(pdflatex!, ['-interaction=nonstopmode', '-halt-on-error', 't.tex'], { cwd: dir });
    expect(r.status, r.stdout.toString().slice(-2000)).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});

/** A run holding the protocols of both layouts (numbers chosen for easy hand averages). */
async function layoutResults(dir: string): Promise<ResultSet> {
  const cell = (task: string, adapter: string, metrics: Record<string, number>, seed = 1) => ({
    task,
    adapter,
    seed,
    headline: metrics.weighted_f1 !== undefined ? ('weighted_f1' as const) : ('accuracy' as const),
    labels: ['a', 'b'],
    gold: ['a', 'b'],
    pred: ['a', 'a'],
    metrics,
  });
  writeRunFolder(dir, {
    runId: 'layout-run',
    created: '2026-02-01T00:00:00.000Z',
    cells: [
      cell('meld-7', 'X', { accuracy: 0.5, weighted_f1: 0.4 }),
      cell('iemocap-6', 'X', { accuracy: 0.6, weighted_f1: 0.55 }),
      cell('emorynlp-7', 'X', { accuracy: 0.3, weighted_f1: 0.25 }),
      cell('meld-7', 'Y', { accuracy: 0.9, weighted_f1: 0.8 }),
      cell('mastodon-3', 'X', { accuracy: 0.6, macro_f1: 0.5, pos_neg_f1: 0.45 }),
      cell('sst-2', 'X', { accuracy: 0.9, macro_f1: 0.89 }),
      cell('sst-2', 'X', { accuracy: 0.96, macro_f1: 0.95 }, 2),
    ],
  });
  return loadResults([dir]);
}

describe('paper layouts', () => {
  it('dialoguellm: published Table 3 rows, measured rows with the three-dataset average', async () => {
    const r = await layoutResults(join(root, 'layout-a'));
    const csv = renderLeaderboard(r, { format: 'csv', layout: 'dialoguellm' });
    const rows = parseCsv(csv, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    expect(rows).toHaveLength(PUBLISHED.dialoguellm.table3.length + 2);
    const dllm = rows.find((x) => x.System === 'DialogueLLM [b,c]')!;
    expect(dllm.Source).toBe('reported [D] Table 3');
    expect([dllm['MELD Acc'], dllm['MELD W-F1'], dllm['Avg Acc'], dllm['Avg W-F1']]).toEqual([
      '71.96',
      '71.90',
      '61.49',
      '60.52',
    ]);
    expect(rows.find((x) => x.System === 'ICON')!['MELD Acc']).toBe('–');
    const x = rows.find((row) => row.System === 'X')!;
    expect(x.Source).toBe('measured layout-run');
    // Avg Acc = (50 + 60 + 30)/3 = 46.67; Avg W-F1 = (40 + 55 + 25)/3 = 40.00.
    expect([x['MELD Acc'], x['IEMOCAP W-F1'], x['EmoryNLP Acc'], x['Avg Acc'], x['Avg W-F1']]).toEqual([
      '50.00',
      '55.00',
      '30.00',
      '46.67',
      '40.00',
    ]);
    const y = rows.find((row) => row.System === 'Y')!;
    expect([y['MELD Acc'], y['IEMOCAP Acc'], y['Avg Acc']]).toEqual(['90.00', '–', '–']);

    const md = renderLeaderboard(r, { format: 'md', layout: 'dialoguellm' });
    expect(md).toContain('ERNIE-Bot descriptions of the video clip');
    // Y's 90.00 beats DialogueLLM's 71.96 in the MELD Acc column: bold; DialogueLLM second.
    expect(md).toMatch(/\| Y \| measured layout-run \| {2}\| \*\*90\.00\*\* \|/);
    expect(md).toMatch(/\| DialogueLLM<sup>b,c<\/sup> \| reported \\\[D\\\] Table 3 \| 4\.2M \| _71\.96_ \|/);
  });

  it('peng2023: four tables, comparability footnotes, Mastodon pos/neg F1, seeds as mean ± sd', async () => {
    const r = await layoutResults(join(root, 'layout-b'));
    const j = JSON.parse(renderLeaderboard(r, { format: 'json', layout: 'peng2023' }));
    expect(j.map((t: { id: string }) => t.id)).toEqual([
      'peng2023-table2',
      'peng2023-table3',
      'peng2023-table4',
      'peng2023-table5',
    ]);
    const t3 = j[1];
    expect(t3.header).toEqual(['System', 'Source', 'SST-2 Acc', 'SST-2 F1', 'SST-5 Acc', 'SST-5 F1']);
    const lora = t3.rows.find(
      (row: { cells: { text: string }[] }) => row.cells[0]!.text === 'ChatGLM2 + LoRA',
    );
    expect(lora.reported).toBe(true);
    expect(lora.cells.slice(2).map((c: { text: string }) => c.text)).toEqual([
      '95.69',
      '95.69',
      '54.45',
      '52.51',
    ]);
    const xs = t3.rows.find((row: { cells: { text: string }[] }) => row.cells[0]!.text === 'X');
    expect(xs.reported).toBe(false);
    // SST-2 accuracy over seeds (.90, .96): mean 93.00, sd |.06|/sqrt(2) = 4.24.
    expect(xs.cells[2].text).toBe('93.00 ± 4.24');
    expect(t3.notes.join(' ')).toContain('1,821');

    const t4 = j[2];
    expect(t4.notes.join(' ')).toContain('DARER 59.59 is the Cerisara/Co-GAT sentiment F1');
    expect(t4.notes).toContain("Measured pos/neg F1 on Mastodon (DARER's scale): X 45.00.");
    const darer = t4.rows.find((row: { cells: { text: string }[] }) => row.cells[0]!.text === 'DARER (2022)');
    expect(darer.cells[0].footnote).toBe('b');
    expect(darer.cells[5].text).toBe('59.59');

    const t5 = j[3];
    expect(t5.notes.join(' ')).toContain('4 classes (neutral, joy, sadness, anger)');
    expect(t5.notes).toContain('No measured rows: the results hold none of friends-7, m3ed-7.');
    const precode = t5.rows.find(
      (row: { cells: { text: string }[] }) => row.cells[0]!.text === 'PRE-CODE (2020)',
    );
    expect(precode.cells.slice(2).map((c: { text: string }) => c.text)).toEqual([
      '81.30',
      '65.90',
      '–',
      '–',
      '–',
      '–',
    ]);

    const tex = renderLeaderboard(r, { format: 'latex', layout: 'peng2023' });
    expect(checkLatex(tex)).toEqual([]);
    expect(tex).toContain('PRE-CODE (2020)\\textsuperscript{a}');
  });

  it('unknown layouts are an InputError with a suggestion', async () => {
    const r = await layoutResults(join(root, 'layout-c'));
    expect(() => renderLeaderboard(r, { format: 'md', layout: 'peng2024' as 'peng2023' })).toThrow(
      /unknown layout 'peng2024' \(did you mean 'peng2023'\?\)/,
    );
  });
});
