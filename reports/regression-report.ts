/**
 * Renders a run comparison (harness/compare.ts) for CI: JUnit XML (one test case per task/adapter
 * cell, a failure element for each regression), a Markdown summary for a pull-request comment,
 * and a plain terminal table.
 */
import type { CellComparison, CellKey, ComparisonResult } from '../harness/compare.ts';

// ---------------------------------------------------------------------------------------------
// Formatting helpers
// ---------------------------------------------------------------------------------------------

/** Escapes text for XML content and attribute values, dropping characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  const legal = text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
  return legal
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Escapes text for a Markdown table cell (pipes, HTML, line breaks, emphasis characters). */
export function escapeMarkdownCell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/([*_`[\]])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

const fmt = (x: number) => x.toFixed(4);

/** The Holm-adjusted permutation p, with McNemar's exact p beside it where the headline is accuracy. */
const pCell = (c: CellComparison) =>
  `${formatP(c.pAdjusted)}${c.mcnemarP !== undefined ? ` (McNemar ${formatP(c.mcnemarP)})` : ''}`;

/** `0.9800 -> 0.8900 (9 errors)`: how many answers parsed, and the candidate's answers that never came. */
const parseCell = (c: CellComparison) =>
  `${c.parseRate.baseline.toFixed(4)} -> ${c.parseRate.candidate.toFixed(4)}` +
  (c.errors.candidate > 0 ? ` (${c.errors.candidate} error${c.errors.candidate === 1 ? '' : 's'})` : '');
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;

/** p-values: four decimals, or an upper bound when smaller. */
export function formatP(p: number): string {
  return p < 0.0001 ? '<0.0001' : p.toFixed(4);
}

const list = (seeds: readonly number[]) => `seed${seeds.length === 1 ? '' : 's'} ${seeds.join(', ')}`;

/** `seed 1`, `seeds 1, 2`, or `seeds 1 vs 3` when the runs' seed numbers differ. */
export function seedsLabel(c: CellKey | CellComparison): string {
  if (Array.isArray(c.seeds)) return list(c.seeds);
  const { baseline, candidate } = c.seeds;
  return baseline.join() === candidate.join()
    ? list(baseline)
    : `${list(baseline)} vs ${candidate.join(', ')}`;
}

const cellName = (c: CellKey) => `${c.task} / ${c.adapter} / ${seedsLabel(c)}`;

/** The adapter column: the adapter, with its seeds unless it is the usual single seed 1. */
const adapterWithSeeds = (c: CellKey | CellComparison) => {
  const label = seedsLabel(c);
  return label === 'seed 1' ? c.adapter : `${c.adapter} (${label})`;
};

function describeCell(c: CellComparison): string {
  const lines = [
    `${c.headline}: baseline ${fmt(c.baseline)}, candidate ${fmt(c.candidate)}, delta ${signed(c.delta)}` +
      ` [${signed(c.ci.low)}, ${signed(c.ci.high)}] (${Math.round(c.ci.level * 100)}% paired bootstrap, ${c.ci.resamples} resamples, by ${c.ci.unit})`,
    `permutation p ${formatP(c.p)}, Holm-adjusted ${formatP(c.pAdjusted)}; paired-bootstrap p ${formatP(c.bootstrapP)}` +
      (c.mcnemarP !== undefined ? `; McNemar exact p ${formatP(c.mcnemarP)}` : ''),
    `parse rate: baseline ${fmt(c.parseRate.baseline)}, candidate ${fmt(c.parseRate.candidate)}; examples recorded as errors: baseline ${c.errors.baseline}, candidate ${c.errors.candidate}`,
    `n = ${c.n}; verdict: ${c.verdict}${c.note ? ` (${c.note})` : ''}`,
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// JUnit XML
// ---------------------------------------------------------------------------------------------

/** JUnit XML: one <testcase> per compared cell (and per missing cell), <failure> for each regression. */
export function renderJunit(r: ComparisonResult): string {
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const c of r.cells) {
    const attrs = `classname="${escapeXml(`emotion-eval.${c.task}`)}" name="${escapeXml(`${c.adapter} / ${seedsLabel(c)}`)}"`;
    const body = escapeXml(describeCell(c));
    if (c.verdict === 'regressed') {
      failures++;
      const message = `${c.headline} dropped ${signed(c.delta)} (Holm-adjusted p ${formatP(c.pAdjusted)} < ${r.alpha})`;
      cases.push(
        `    <testcase ${attrs} time="0">\n      <failure type="regression" message="${escapeXml(message)}">${body}</failure>\n    </testcase>`,
      );
    } else if (c.verdict === 'incomplete') {
      failures++;
      const message = `${c.errors.candidate} of ${c.n * c.seeds.candidate.length} candidate examples recorded as errors (no answer)`;
      cases.push(
        `    <testcase ${attrs} time="0">\n      <failure type="incomplete" message="${escapeXml(message)}">${body}</failure>\n    </testcase>`,
      );
    } else {
      cases.push(`    <testcase ${attrs} time="0">\n      <system-out>${body}</system-out>\n    </testcase>`);
    }
  }
  for (const m of r.missing) {
    const attrs = `classname="${escapeXml(`emotion-eval.${m.task}`)}" name="${escapeXml(`${m.adapter} / ${seedsLabel(m)}`)}"`;
    const message = `${cellName(m)} is in the baseline but not in the candidate run`;
    if (r.allowMissing) {
      skipped++;
      cases.push(
        `    <testcase ${attrs} time="0">\n      <skipped message="${escapeXml(message)}"/>\n    </testcase>`,
      );
    } else {
      failures++;
      cases.push(
        `    <testcase ${attrs} time="0">\n      <failure type="missing" message="${escapeXml(message)}"/>\n    </testcase>`,
      );
    }
  }
  const tests = r.cells.length + r.missing.length;
  const suiteAttrs = `name="emotion-eval compare" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}"`;
  const props = [
    ['baseline', r.baseline.runId],
    ['candidate', r.candidate.runId],
    ['alpha', String(r.alpha)],
    ['max-drop', String(r.maxDrop)],
    ['seed', String(r.seed)],
    ['permutations', String(r.permutations)],
    ['resamples', String(r.resamples)],
  ]
    .map(([k, v]) => `      <property name="${escapeXml(k!)}" value="${escapeXml(v!)}"/>`)
    .join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${suiteAttrs}>`,
    `  <testsuite ${suiteAttrs} timestamp="${new Date().toISOString().slice(0, 19)}">`,
    '    <properties>',
    props,
    '    </properties>',
    ...cases,
    `    <system-out>${escapeXml(r.summary)}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Markdown (pull-request comment) and terminal
// ---------------------------------------------------------------------------------------------

const VERDICT_MARK: Record<CellComparison['verdict'], string> = {
  regressed: '❌ regressed',
  incomplete: '❌ incomplete',
  improved: '✅ improved',
  'no significant change': 'no significant change',
};

/** A Markdown summary: one overall line, then one table row per cell. */
export function renderCompareMarkdown(r: ComparisonResult): string {
  const e = escapeMarkdownCell;
  const lines = [
    `**emotion-eval compare: ${e(r.summary)}**`,
    '',
    `Baseline \`${r.baseline.runId.replace(/`/g, "'")}\` vs candidate \`${r.candidate.runId.replace(/`/g, "'")}\`.` +
      ` Delta = candidate - baseline with a ${Math.round((r.cells[0]?.ci.level ?? 0.95) * 100)}% paired-bootstrap CI;` +
      ` p from a ${r.permutations}-permutation randomization test, Holm-adjusted across ${r.cells.length} cell${r.cells.length === 1 ? '' : 's'}.`,
    '',
    '| Task | Adapter | Metric | Baseline | Candidate | Delta [CI] | p (Holm) | Parse rate (errors) | Verdict |',
    '|---|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const c of r.cells) {
    const adapter = adapterWithSeeds(c);
    lines.push(
      `| ${e(c.task)} | ${e(adapter)} | ${e(c.headline)} | ${fmt(c.baseline)} | ${fmt(c.candidate)} | ` +
        `${signed(c.delta)} [${signed(c.ci.low)}, ${signed(c.ci.high)}] | ${pCell(c)} | ` +
        `${parseCell(c)} | ` +
        `${VERDICT_MARK[c.verdict]}${c.note ? ` (${e(c.note)})` : ''} |`,
    );
  }
  for (const m of r.missing) {
    const adapter = adapterWithSeeds(m);
    lines.push(
      `| ${e(m.task)} | ${e(adapter)} | | | | | | | ${r.allowMissing ? 'missing (allowed)' : '❌ missing from candidate'} |`,
    );
  }
  if (r.added.length > 0) {
    lines.push('', `New in the candidate (not compared): ${r.added.map((a) => e(cellName(a))).join(', ')}.`);
  }
  return `${lines.join('\n')}\n`;
}

/** Plain text for the terminal. */
export function renderCompareTerminal(r: ComparisonResult): string {
  const header = [
    'task',
    'adapter',
    'seeds',
    'metric',
    'baseline',
    'candidate',
    'delta [CI]',
    'p (Holm)',
    'parse rate (errors)',
    'verdict',
  ];
  const rows = r.cells.map((c) => [
    c.task,
    c.adapter,
    seedsLabel(c).replace(/^seeds? /, ''),
    c.headline,
    fmt(c.baseline),
    fmt(c.candidate),
    `${signed(c.delta)} [${signed(c.ci.low)}, ${signed(c.ci.high)}]`,
    pCell(c),
    parseCell(c),
    c.verdict + (c.note ? ` (${c.note})` : ''),
  ]);
  for (const m of r.missing)
    rows.push([m.task, m.adapter, m.seeds.join(', '), '', '', '', '', '', '', 'missing from candidate']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line), '', r.summary].join('\n')}\n`;
}
