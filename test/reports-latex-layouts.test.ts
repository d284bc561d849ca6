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
import type { PairedTest } from '../reports/significance.ts';
import { escapeLatex } from '../reports/table-model.ts';
import { cli } from './support/cli.ts';
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

/**
 * The LaTeX with its math removed ($...$, not \\$) and the tabular column specs removed: what is
 * left is typeset in text mode.
 */
function textModeOutsideMath(tex: string): string {
  return tex
    .replace(/\\\$/g, '')
    .replace(/\$[^$]*\$/g, '')
    .replace(/\\begin\{tabular\}\{[^}]*\}/g, '');
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
    expect(tex).toContain("\\dag{} differs from A on the task's headline metric at $p < 0.05$ (");
    expect(textModeOutsideMath(tex)).not.toMatch(/[<>|]/);
  });

  it('no <, > or | in text mode, where OT1 prints them as ¡, ¿ and an em dash', async () => {
    expect(escapeLatex('a<b>c|d')).toBe('a\\textless{}b\\textgreater{}c\\textbar{}d');
    // p-values go to math mode, where < is the relation; other relations and exponents too.
    expect(escapeLatex('at p < 0.05 (x)')).toBe('at $p < 0.05$ (x)');
    expect(escapeLatex('p <= 1e-3, p≥0.5')).toBe('$p \\le 1\\times 10^{-3}$, $p \\ge 0.5$');
    expect(escapeLatex('help < 3')).toBe('help \\textless{} 3'); // not a p-value
    // Straight quotes: OT1 prints both as closing quotes; paired ones become TeX quotes.
    expect(escapeLatex('"–": not reported')).toBe("``--'': not reported");

    const dir = join(root, 'ot1');
    writeRunFolder(dir, {
      runId: 'run-ot1',
      created: '2026-01-04T00:00:00.000Z',
      cells: [
        {
          task: 'toy|bin',
          adapter: 'model<v2>|large',
          headline: 'accuracy',
          labels: ['<pos>', 'neg|x'],
          gold: ['<pos>', 'neg|x'],
          pred: ['<pos>', '<pos>'],
          metrics: { accuracy: 0.5, macro_f1: 1 / 3 },
        },
      ],
    });
    const r = await loadResults([dir]);
    const tex = renderLeaderboard(r, { format: 'latex' });
    expect(checkLatex(tex)).toEqual([]);
    expect(textModeOutsideMath(tex)).not.toMatch(/[<>|]/);
    expect(tex).toContain('model\\textless{}v2\\textgreater{}\\textbar{}large');
    expect(tex).toContain('\\textless{}pos\\textgreater{}');
    // The layout notes quote "–": TeX quotes, not two closing ones.
    const layout = renderLeaderboard(results, { format: 'latex', layout: 'dialoguellm' });
    expect(layout).toContain("``--'': not reported");
    expect(textModeOutsideMath(layout)).not.toMatch(/[<>|"]/);
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
    // Blocks (the layout table, then per-class tables) have their own columns: split, then parse.
    const blocks = csv.split('\n\n').filter((b) => b.trim() !== '');
    const parseBlock = (b: string) =>
      parseCsv(b, { columns: true, comment: '#' }) as Record<string, string>[];
    const rows = parseBlock(blocks[0]!);
    expect(rows).toHaveLength(PUBLISHED.dialoguellm.table3.length + 2);
    const dllm = rows.find((x) => x.System === 'DialogueLLM [b,c]')!;
    expect(dllm.Source).toBe('reported [D] Table 3');
    expect([dllm['MELD Acc'], dllm['MELD W-F1'], dllm['Avg Acc'], dllm['Avg W-F1']]).toEqual([
      '71.96',
      '71.90',
      '61.49',
      '60.52',
    ]);
    // Not reported: an empty field, so the column loads as numbers.
    expect(rows.find((x) => x.System === 'ICON')!['MELD Acc']).toBe('');
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
    expect([y['MELD Acc'], y['IEMOCAP Acc'], y['Avg Acc']]).toEqual(['90.00', '', '']);
    // "#Param" is quoted: a reader told comment="#" would otherwise cut the header there.
    expect(Object.keys(rows[0]!)).toContain('#Param');
    expect(csv).toContain(',"#Param",');

    // Provenance and the table's notes lead as # lines; footnote texts stay with the table.
    expect(csv).toMatch(/^# emotion-eval paper layout dialoguellm: /);
    expect(csv).toContain('\n# run: layout-run git=abc123def4567890aaaa dirty=false ');
    expect(csv).toContain('\n# adapter: X type=fixture fingerprint=fp-X-0123456789abcdef\n');
    expect(csv).toMatch(/\n# dataset: toy variant=v1 files=1 sha256=[0-9a-f]{64}\n/);
    expect(csv).toContain('\n# note: (b) DialogueLLM prompts carry ERNIE-Bot descriptions');
    // Runs of tasks the layout does not show stay out (mastodon-3 and sst-2 are peng2023's).
    expect(csv).not.toContain('per-class-sst-2');

    // Per-class tables of the layout's tasks, in its order: X and Y on meld-7 (gold a, b; both
    // predicted a): a P 1/2 R 1 F1 2/3, b all 0; support 1 each.
    const perClass = blocks.slice(1).map(parseBlock);
    expect(perClass.map((b) => b[0]!.table)).toEqual([
      'per-class-meld-7',
      'per-class-iemocap-6',
      'per-class-emorynlp-7',
    ]);
    expect(perClass[0]).toContainEqual({
      table: 'per-class-meld-7',
      Adapter: 'Y',
      Label: 'a',
      P: '50.00',
      R: '100.00',
      F1: '66.67',
      Support: '1',
    });
    expect(perClass[0]!.find((x) => x.Adapter === 'X' && x.Label === 'b')).toMatchObject({
      P: '0.00',
      Support: '1',
    });

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

/**
 * A run for significance markers in layouts. meld-7: 20 "a" then 20 "b"; X is always right, Y says
 * "a" for the first 12 "b" (12 discordant pairs, all X right: permutation p about 2/2^12, marked),
 * Z misses one "b" (one discordant pair: p = 1, not marked). iemocap-6: X and Y answer alike.
 */
function writeSignificanceRun(dir: string): void {
  const gold = [...Array<string>(20).fill('a'), ...Array<string>(20).fill('b')];
  const wrongOn = (k: number) => gold.map((g, i) => (i >= 20 && i < 20 + k ? 'a' : g));
  const cell = (task: string, adapter: string, pred: string[], accuracy: number) => ({
    task,
    adapter,
    headline: 'weighted_f1' as const,
    labels: ['a', 'b'],
    gold,
    pred,
    metrics: { accuracy, weighted_f1: accuracy },
  });
  writeRunFolder(dir, {
    runId: 'sig-run',
    created: '2026-02-02T00:00:00.000Z',
    cells: [
      cell('meld-7', 'X', gold, 1),
      cell('meld-7', 'Y', wrongOn(12), 0.7),
      cell('meld-7', 'Z', wrongOn(1), 0.975),
      cell('iemocap-6', 'X', wrongOn(3), 0.925),
      cell('iemocap-6', 'Y', wrongOn(3), 0.925),
    ],
  });
}

describe('paper layouts with --reference', () => {
  let sig: ResultSet;
  beforeAll(async () => {
    writeSignificanceRun(join(root, 'sig'));
    sig = await loadResults([join(root, 'sig')], { predictions: true });
  });

  it('marks measured cells that differ significantly from the reference, per column metric', () => {
    const j = JSON.parse(renderLeaderboard(sig, { format: 'json', layout: 'dialoguellm', reference: 'X' }));
    const t = j[0];
    const row = (system: string) =>
      t.rows.find((r: { cells: { text: string }[] }) => r.cells[0]!.text === system).cells as {
        text: string;
        mark: string | null;
      }[];
    const col = (name: string) => t.header.indexOf(name);
    // Y: both MELD columns marked; IEMOCAP (same answers as X) not; Avg columns are never tested.
    expect(row('Y')[col('MELD Acc')]!.mark).toBe('†');
    expect(row('Y')[col('MELD W-F1')]!.mark).toBe('†');
    expect(row('Y')[col('IEMOCAP Acc')]!.mark).toBeNull();
    expect(row('Y')[col('Avg Acc')]!.mark).toBeNull();
    // Z: one discordant example is no evidence; X is the reference; published rows have no data.
    expect(row('Z').every((c) => c.mark === null)).toBe(true);
    expect(row('X').every((c) => c.mark === null)).toBe(true);
    expect(row('DialogueLLM').every((c) => c.mark === null)).toBe(true);
    expect(t.notes).toContain(
      "† differs from X on that column's metric at p < 0.05 (paired permutation test on the metric compared (10,000 swaps; whole dialogues when records carry dialogue ids); paired by example id, lowest shared seed; Avg columns are not tested).",
    );
    // Without --reference: no markers, no note.
    const plain = JSON.parse(renderLeaderboard(sig, { format: 'json', layout: 'dialoguellm' }));
    expect(JSON.stringify(plain)).not.toContain('†');

    const tex = renderLeaderboard(sig, { format: 'latex', layout: 'dialoguellm', reference: 'X' });
    expect(checkLatex(tex)).toEqual([]);
    expect(tex).toMatch(
      /\nY & measured sig-run & {2}& 70\.00\$\^\{\\dagger\}\$ & 70\.00\$\^\{\\dagger\}\$ & /,
    );
    expect(tex).toContain("\\dag{} differs from X on that column's metric at $p < 0.05$");
    expect(renderLeaderboard(sig, { format: 'csv', layout: 'dialoguellm', reference: 'X' })).toContain(
      'dialoguellm-table3,Y,measured sig-run,,70.00†,70.00†,92.50,92.50,',
    );
  });

  it('tests each column on its own metric, not the headline', () => {
    const calls: string[] = [];
    const spy: PairedTest = (input) => {
      calls.push(`${input.metric}:${input.candidate.length}`);
      return { p: 0.5, method: 'spy' };
    };
    renderLeaderboard(sig, { format: 'md', layout: 'dialoguellm', reference: 'X', pairedTest: spy });
    // meld-7: Y and Z, accuracy and weighted F1; iemocap-6: Y. 40 paired examples each.
    expect(calls.sort()).toEqual(
      [
        'accuracy:40',
        'accuracy:40',
        'accuracy:40',
        'weighted_f1:40',
        'weighted_f1:40',
        'weighted_f1:40',
      ].sort(),
    );
  });

  it('says when the reference has no row in a table, and refuses unknown references', async () => {
    // layoutResults: Y measured meld-7 only; X also sst-2 (peng2023 Table 3), where Y has no row.
    const r = await layoutResults(join(root, 'layout-d'));
    const tables = JSON.parse(renderLeaderboard(r, { format: 'json', layout: 'peng2023', reference: 'Y' }));
    const t3 = tables.find((t: { id: string }) => t.id === 'peng2023-table3');
    expect(t3.notes).toContain('No significance markers: Y has no measured row in this table.');
    expect(JSON.stringify(t3.rows)).not.toContain('†');
    // Tables with no measured row at all say nothing about significance.
    const t5 = tables.find((t: { id: string }) => t.id === 'peng2023-table5');
    expect(t5.notes.join(' ')).not.toMatch(/significance|differs from/);
    expect(() => renderLeaderboard(sig, { format: 'md', layout: 'dialoguellm', reference: 'Q' })).toThrow(
      /unknown reference adapter 'Q'/,
    );
  });

  it('the CLI passes --reference with --layout, and an unknown one exits 2 with one line', () => {
    const dir = join(root, 'sig');
    const ok = cli([
      'leaderboard',
      '--results',
      dir,
      '--layout',
      'dialoguellm',
      '--reference',
      'X',
      '--format',
      'md',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('70.00†');
    const bad = cli(['leaderboard', '--results', dir, '--layout', 'dialoguellm', '--reference', 'Q']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^emotion-eval: unknown reference adapter 'Q'/);
  });
});
