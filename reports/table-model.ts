/**
 * A format-neutral table (title, header, cells with emphasis, notes, provenance) and its renderers
 * for the terminal, Markdown and LaTeX. Leaderboards and paper layouts build these; the HTML page
 * renders the same model.
 */
import { stripVTControlCharacters } from 'node:util';
import Table from 'cli-table3';

export interface TableCell {
  text: string;
  /** Best and second best in their column: bold and underlined (LaTeX), bold and italic (Markdown). */
  emphasis?: 'best' | 'second';
  /** A footnote-style marker (significance vs the reference row), shown after the text. */
  mark?: string;
  /** Footnote letters (e.g. "a,b"): " [a,b]" in text formats, a superscript in LaTeX and HTML. */
  footnote?: string;
  /** Numeric value for sorting (HTML) and round trips; undefined for text cells. */
  sort?: number;
}

export interface ReportTable {
  id: string;
  title: string;
  header: string[];
  /** Per column: 'l' text, 'r' numbers. */
  align: ('l' | 'r')[];
  rows: TableCell[][];
  /** Rows that are published figures ("reported"), rendered in a muted style where the format allows. */
  reportedRows?: number[];
  /** Footnotes: units, comparability, significance. */
  notes: string[];
  provenance: string[];
}

export function textCell(text: string): TableCell {
  return { text };
}

/** Marks best and second-best cells of numeric column `col` (higher is better; ties share). */
export function markBest(rows: TableCell[][], col: number, skipRows: ReadonlySet<number> = new Set()): void {
  const values = [
    ...new Set(
      rows
        .filter((_, i) => !skipRows.has(i))
        .map((r) => r[col]?.sort)
        .filter((v): v is number => v !== undefined && Number.isFinite(v)),
    ),
  ].sort((a, b) => b - a);
  if (values.length < 2) return; // a single row has no "best" worth marking
  const [best, second] = values;
  rows.forEach((r, i) => {
    const c = r[col];
    if (!c || c.sort === undefined || skipRows.has(i)) return;
    if (c.sort === best) c.emphasis = 'best';
    else if (c.sort === second) c.emphasis = 'second';
  });
}

// ---- terminal ----

const ANSI = { bold: '\u001b[1m', underline: '\u001b[4m', dim: '\u001b[2m', reset: '\u001b[0m' };

/**
 * A cli-table3 table with title, notes and provenance. When the table is wider than `maxWidth`
 * (the terminal's columns), headers break after the task id and CIs go under their value.
 */
export function renderTerminalTable(t: ReportTable, color: boolean, maxWidth?: number): string {
  const wide = terminalTable(t, color, false);
  const width = Math.max(...wide.split('\n').map((l) => stripVTControlCharacters(l).length));
  const table = maxWidth !== undefined && width > maxWidth ? terminalTable(t, color, true) : wide;
  const title = color ? `${ANSI.bold}${t.title}${ANSI.reset}` : t.title;
  const below = [...t.notes, ...t.provenance].map((l) => (color ? `${ANSI.dim}${l}${ANSI.reset}` : l));
  return [title, table, ...below].join('\n');
}

function terminalTable(t: ReportTable, color: boolean, compact: boolean): string {
  const table = new Table({
    head: compact ? t.header.map((h) => h.replace(' ', '\n')) : t.header,
    colAligns: t.align.map((a) => (a === 'r' ? 'right' : 'left')),
    // No rule between one-line rows: long tables stay readable. Two-line rows keep their rules.
    ...(compact ? {} : { chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } }),
    // cli-table3 colours the head and borders by default; an empty style keeps the output plain.
    style: color ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] },
  });
  t.rows.forEach((row, i) => {
    const reported = t.reportedRows?.includes(i) ?? false;
    table.push(
      row.map((c) => {
        const text = compact ? c.text.replace(' [', '\n[').replace(' ± ', '\n± ') : c.text;
        let s = text + (c.mark ?? '') + (c.footnote ? ` [${c.footnote}]` : '');
        if (!color) return s;
        if (c.emphasis === 'best') s = `${ANSI.bold}${s}${ANSI.reset}`;
        else if (c.emphasis === 'second') s = `${ANSI.underline}${s}${ANSI.reset}`;
        if (reported) s = `${ANSI.dim}${s}${ANSI.reset}`;
        return s;
      }),
    );
  });
  return table.toString();
}

// ---- Markdown ----

export function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]<>|#]/g, (ch) => `\\${ch}`).replace(/\r?\n/g, ' ');
}

export function renderMarkdownTable(t: ReportTable, level = 2): string {
  const out: string[] = [`${'#'.repeat(level)} ${escapeMarkdown(t.title)}`, ''];
  out.push(`| ${t.header.map(escapeMarkdown).join(' | ')} |`);
  out.push(`| ${t.align.map((a) => (a === 'r' ? '---:' : ':---')).join(' | ')} |`);
  for (const row of t.rows) {
    const cells = row.map((c) => {
      const s =
        escapeMarkdown(c.text) +
        (c.mark ? escapeMarkdown(c.mark) : '') +
        (c.footnote ? `<sup>${escapeMarkdown(c.footnote)}</sup>` : '');
      if (c.emphasis === 'best') return `**${s}**`;
      if (c.emphasis === 'second') return `_${s}_`;
      return s;
    });
    out.push(`| ${cells.join(' | ')} |`);
  }
  out.push('');
  for (const n of t.notes) out.push(`${escapeMarkdown(n)}  `);
  if (t.notes.length > 0) out.push('');
  out.push('<sub>');
  for (const p of t.provenance) out.push(`${escapeMarkdown(p)}<br>`);
  out.push('</sub>', '');
  return out.join('\n');
}

// ---- LaTeX (booktabs) ----

const LATEX_SPECIALS: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
  // Braced so a cell starting with "[" is never read as the optional argument of the preceding \\.
  '[': '{[}',
  ']': '{]}',
  // OT1, LaTeX's default font encoding, has no < > | glyphs in text fonts: a literal "<" prints
  // "¡", ">" prints "¿" and "|" an em dash. These commands work under OT1 and T1 alike.
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
};

/** "p < 0.05", "p <= 1e-3": typeset in math mode, where < and an italic p are right. */
const P_VALUE = /\bp ?(<=|>=|[<>=≤≥]) ?(\d+(?:\.\d+)?)(?:e([-+]?\d+))?/g;
const MATH_RELATION: Record<string, string> = {
  '<': '<',
  '>': '>',
  '=': '=',
  '<=': '\\le',
  '≤': '\\le',
  '>=': '\\ge',
  '≥': '\\ge',
};

function escapeLatexText(s: string): string {
  return (
    s
      .replace(/[\\&%$#_{}~^[\]<>|]/g, (ch) => LATEX_SPECIALS[ch]!)
      .replace(/±/g, '$\\pm$')
      .replace(/†/g, '\\dag{}')
      .replace(/‡/g, '\\ddag{}')
      .replace(/–/g, '--')
      // Under OT1 a straight " prints as a closing quote at both ends: pairs become `` and ''.
      .replace(/"([^"]*)"/g, "``$1''")
      .replace(/\r?\n/g, ' ')
  );
}

/** Text for LaTeX text mode: specials escaped, p-values in math mode, no character OT1 misprints. */
export function escapeLatex(s: string): string {
  let out = '';
  let last = 0;
  for (const m of s.matchAll(P_VALUE)) {
    out += escapeLatexText(s.slice(last, m.index));
    const exp = m[3] !== undefined ? `\\times 10^{${Number(m[3])}}` : '';
    out += `$p ${MATH_RELATION[m[1]!]} ${m[2]}${exp}$`;
    last = m.index + m[0].length;
  }
  return out + escapeLatexText(s.slice(last));
}

/** LaTeX for a marker: † and ‡ become math daggers, anything else superscript text. */
function latexMark(mark: string): string {
  const m = mark.replace(/†/g, '\\dagger').replace(/‡/g, '\\ddagger').replace(/\*/g, '\\ast');
  return `$^{${m}}$`;
}

/**
 * A booktabs `table` environment. Needs \usepackage{booktabs} (and nothing else: underline is
 * \underline, daggers are math). Notes and provenance go below the tabular as footnote-size text.
 */
export function renderLatexTable(t: ReportTable): string {
  const out: string[] = [];
  out.push('\\begin{table}[t]', '\\centering', '\\small');
  out.push(`\\caption{${escapeLatex(t.title)}}`);
  out.push(`\\label{tab:${t.id.replace(/[^A-Za-z0-9:-]/g, '-')}}`);
  out.push(`\\begin{tabular}{${t.align.join('')}}`, '\\toprule');
  out.push(`${t.header.map(escapeLatex).join(' & ')} \\\\`, '\\midrule');
  const firstReported = t.reportedRows && t.reportedRows.length > 0 ? Math.min(...t.reportedRows) : -1;
  t.rows.forEach((row, i) => {
    if (i === firstReported && i > 0) out.push('\\midrule');
    if (i > 0 && t.reportedRows?.includes(i - 1) && !t.reportedRows.includes(i)) out.push('\\midrule');
    const cells = row.map((c) => {
      let s = escapeLatex(c.text);
      if (c.emphasis === 'best') s = `\\textbf{${s}}`;
      else if (c.emphasis === 'second') s = `\\underline{${s}}`;
      if (c.mark) s += latexMark(c.mark);
      if (c.footnote) s += `\\textsuperscript{${escapeLatex(c.footnote)}}`;
      return s;
    });
    out.push(`${cells.join(' & ')} \\\\`);
  });
  out.push('\\bottomrule', '\\end{tabular}');
  if (t.notes.length + t.provenance.length > 0) {
    out.push('\\par\\smallskip\\footnotesize\\raggedright');
    for (const n of [...t.notes, ...t.provenance]) out.push(`${escapeLatex(n)}\\par`);
  }
  out.push('\\end{table}', '');
  return out.join('\n');
}

/** A compilable document around tables (for `--out file.tex` checks and quick previews). */
export function latexDocument(body: string): string {
  return [
    '\\documentclass{article}',
    '\\usepackage[T1]{fontenc}',
    '\\usepackage[utf8]{inputenc}',
    '\\usepackage{booktabs}',
    '\\usepackage[margin=1.5cm,landscape]{geometry}',
    '\\begin{document}',
    body,
    '\\end{document}',
    '',
  ].join('\n');
}
