/**
 * One self-contained static HTML page: sortable tables, per-task confusion matrices and a browser
 * of misclassified examples with their dialogue context. Everything is inlined; a Content Security
 * Policy forbids any fetch, and only the page's own script (pinned by its hash) may run, so even a
 * missed escape could not execute dataset text. Dataset and model text is escaped on the server
 * side and inserted with textContent on the client side, never as markup.
 */
import { createHash } from 'node:crypto';
import type { PredictionRecord } from '../harness/types.ts';
import { type Entry, entryKey, type LeaderboardModel } from './aggregate.ts';
import { FIGURE_WIDTH, renderChart } from './chart-canvas.ts';
import { headlineChart, headlineHeight } from './figures.ts';
import type { ReportTable } from './table-model.ts';

export interface HtmlPageOptions {
  title: string;
  /** Inline the headline bar chart (SVG, text outlined) above the tables (default true). */
  chart?: boolean;
  /** Previous turns shown per misclassified example (default 5), to keep the page small. */
  contextTurns?: number;
  /** Misclassified examples embedded per task, adapter and seed (default 2,000). */
  maxExamples?: number;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

/** JSON safe inside <script type="application/json">: no "</script>", no "<!--", no U+2028/9. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function renderTable(t: ReportTable): string {
  const out: string[] = [];
  out.push(`<section class="table" id="${escapeHtml(t.id)}">`);
  out.push(`<h2>${escapeHtml(t.title)}</h2>`);
  out.push(`<table class="sortable" data-table="${escapeHtml(t.id)}">`);
  out.push('<thead><tr>');
  t.header.forEach((h, i) => {
    out.push(
      `<th scope="col" class="${t.align[i] === 'r' ? 'num' : ''}" tabindex="0" aria-sort="none">${escapeHtml(h)}</th>`,
    );
  });
  out.push('</tr></thead><tbody>');
  t.rows.forEach((row, i) => {
    const reported = t.reportedRows?.includes(i) ?? false;
    out.push(`<tr${reported ? ' class="reported"' : ''}>`);
    row.forEach((c, j) => {
      const cls = [t.align[j] === 'r' ? 'num' : '', c.emphasis ?? ''].filter(Boolean).join(' ');
      const sort = c.sort !== undefined ? ` data-sort="${c.sort}"` : '';
      const mark = c.mark ? `<span class="mark">${escapeHtml(c.mark)}</span>` : '';
      const foot = c.footnote ? `<sup>${escapeHtml(c.footnote)}</sup>` : '';
      out.push(`<td${cls ? ` class="${cls}"` : ''}${sort}>${escapeHtml(c.text)}${mark}${foot}</td>`);
    });
    out.push('</tr>');
  });
  out.push('</tbody></table>');
  if (t.notes.length > 0)
    out.push(`<ul class="notes">${t.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
  if (t.provenance.length > 0) {
    out.push(`<ul class="provenance">${t.provenance.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
  }
  out.push('</section>');
  return out.join('\n');
}

/** Row-normalised confusion matrix as a table; cell shade = share of the gold row. */
function renderConfusion(e: Entry): string {
  const cols = [...e.confusion.labels, '<none>'];
  const out: string[] = [];
  out.push(`<figure class="confusion"><figcaption>${escapeHtml(e.adapter)}`);
  out.push(
    ` (${e.cells.length > 1 ? `summed over seeds ${e.cells.map((c) => c.seed).join(', ')}` : `seed ${e.cells[0]!.seed}`}; rows gold, columns predicted, % of the gold row)</figcaption>`,
  );
  out.push('<table class="matrix"><thead><tr><th>gold \\ pred</th>');
  for (const c of cols) out.push(`<th>${escapeHtml(c)}</th>`);
  out.push('</tr></thead><tbody>');
  e.confusion.matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    out.push(`<tr><th scope="row">${escapeHtml(e.confusion.labels[i]!)}</th>`);
    row.forEach((v, j) => {
      const share = total > 0 ? v / total : 0;
      // Okabe-Ito blue (#0072B2) at an alpha proportional to the share: readable in grey print too.
      const bg = `rgba(0,114,178,${(share * 0.85).toFixed(3)})`;
      const fg = share > 0.5 ? '#fff' : '#000';
      const diag = i === j ? ' class="diag"' : '';
      out.push(
        `<td${diag} style="background:${bg};color:${fg}" title="${v} of ${total}">${(share * 100).toFixed(1)}<small> (${v})</small></td>`,
      );
    });
    out.push('</tr>');
  });
  out.push('</tbody></table></figure>');
  return out.join('');
}

interface BrowserExample {
  id: string;
  gold: string;
  pred: string | null;
  parse: string;
  raw?: string;
  text?: string;
  speaker?: string;
  dialogueId?: string;
  context?: { speaker?: string; text: string }[];
}

interface BrowserCell {
  task: string;
  adapter: string;
  seed: number;
  misclassified: number;
  total: number;
  truncated: boolean;
  examples: BrowserExample[];
}

function browserData(model: LeaderboardModel, opts: HtmlPageOptions): BrowserCell[] {
  const turns = opts.contextTurns ?? 5;
  const max = opts.maxExamples ?? 2000;
  const out: BrowserCell[] = [];
  for (const t of model.tasks) {
    for (const r of model.rows) {
      const e = model.entries.get(entryKey(t.id, r.adapter));
      if (!e) continue;
      for (const cell of e.cells) {
        if (!cell.predictions) continue;
        const wrong = cell.predictions.filter((p: PredictionRecord) => p.pred !== p.gold);
        out.push({
          task: t.id,
          adapter: r.adapter,
          seed: cell.seed,
          misclassified: wrong.length,
          total: cell.predictions.length,
          truncated: wrong.length > max,
          examples: wrong.slice(0, max).map((p) => {
            const ex: BrowserExample = { id: p.id, gold: p.gold, pred: p.pred, parse: p.parse };
            if (p.raw !== undefined) ex.raw = p.raw.length > 500 ? `${p.raw.slice(0, 500)}…` : p.raw;
            if (p.text !== undefined) ex.text = p.text;
            if (p.speaker !== undefined) ex.speaker = p.speaker;
            if (p.dialogueId !== undefined) ex.dialogueId = p.dialogueId;
            if (p.context && turns > 0) ex.context = p.context.slice(-turns);
            return ex;
          }),
        });
      }
    }
  }
  return out;
}

const CSS = `
:root{--fg:#1b1b1b;--muted:#5f5f5f;--line:#d0d0d0;--accent:#0072B2;--bg:#fff}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1200px;padding:1rem 1.5rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}h3{font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{padding:.25rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f3f3f3}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2"}
table.sortable th[aria-sort=descending]::after{content:" \\25BC"}
.num{text-align:right;font-variant-numeric:tabular-nums}
td.best{font-weight:700}td.second{text-decoration:underline}
tr.reported td{color:var(--muted)}
.mark{color:#D55E00;font-weight:700}
ul.notes,ul.provenance{margin:.25rem 0;padding-left:1.2rem;font-size:12px}
ul.provenance{color:var(--muted)}
.matrix td{text-align:right;min-width:4.2em}.matrix td.diag{outline:2px solid #E69F00;outline-offset:-2px}
.matrix small{opacity:.75}
figure.chart{margin:1rem 0}figure.chart img{max-width:100%;height:auto}
figure.confusion{display:inline-block;margin:0 1.5rem 1rem 0;vertical-align:top}
figcaption{font-size:12px;color:var(--muted)}
#browser .controls{display:flex;gap:1rem;flex-wrap:wrap;align-items:end;margin:.5rem 0}
#browser label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
.example{border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem;margin:.5rem 0}
.example .meta{font-size:12px;color:var(--muted)}
.example .utt{font-size:15px;margin:.25rem 0;white-space:pre-wrap}
.example .ctx{font-size:13px;color:var(--muted);margin:0;padding-left:1rem;border-left:3px solid var(--line)}
.example .ctx p{margin:.1rem 0;white-space:pre-wrap}
.gold{color:#009E73;font-weight:600}.pred{color:#D55E00;font-weight:600}
nav a{margin-right:1rem}
`;

/** The page's only script: table sorting and the example browser. Reads data, writes textContent. */
const SCRIPT = `
(function () {
  'use strict';
  function cellValue(td) {
    var s = td.getAttribute('data-sort');
    return s === null ? null : Number(s);
  }
  function sortTable(table, col, th) {
    var dir = th.getAttribute('aria-sort') === 'descending' ? 'ascending' : 'descending';
    var ths = table.tHead.rows[0].cells;
    for (var i = 0; i < ths.length; i++) ths[i].setAttribute('aria-sort', 'none');
    th.setAttribute('aria-sort', dir);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.some(function (r) { return cellValue(r.cells[col]) !== null; });
    rows.sort(function (a, b) {
      var x, y;
      if (numeric) {
        x = cellValue(a.cells[col]); y = cellValue(b.cells[col]);
        if (x === null && y === null) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return dir === 'ascending' ? x - y : y - x;
      }
      x = a.cells[col].textContent; y = b.cells[col].textContent;
      var c = x.localeCompare(y);
      return dir === 'ascending' ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener('click', function () { sortTable(table, col, th); });
      th.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); sortTable(table, col, th); }
      });
    });
  });

  var dataEl = document.getElementById('browser-data');
  if (!dataEl) return;
  var cells = JSON.parse(dataEl.textContent);
  var root = document.getElementById('browser');
  var selCell = document.getElementById('b-cell');
  var selGold = document.getElementById('b-gold');
  var selPred = document.getElementById('b-pred');
  var search = document.getElementById('b-search');
  var list = document.getElementById('b-list');
  var status = document.getElementById('b-status');
  var PAGE = 100;
  var shown = PAGE;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function option(sel, value, text) {
    var o = document.createElement('option');
    o.value = value; o.textContent = text; sel.appendChild(o);
  }
  cells.forEach(function (c, i) {
    option(selCell, String(i), c.task + ' / ' + c.adapter + ' / seed ' + c.seed + ' (' + c.misclassified + ' of ' + c.total + ' wrong)');
  });
  function fillLabels() {
    var c = cells[Number(selCell.value)];
    [selGold, selPred].forEach(function (sel) {
      while (sel.options.length) sel.remove(0);
      option(sel, '', 'any');
    });
    var golds = {}, preds = {};
    c.examples.forEach(function (e) { golds[e.gold] = 1; preds[e.pred === null ? '<none>' : e.pred] = 1; });
    Object.keys(golds).sort().forEach(function (g) { option(selGold, g, g); });
    Object.keys(preds).sort().forEach(function (p) { option(selPred, p, p); });
  }
  function render() {
    var c = cells[Number(selCell.value)];
    var g = selGold.value, p = selPred.value, q = search.value.toLowerCase();
    var rows = c.examples.filter(function (e) {
      var pred = e.pred === null ? '<none>' : e.pred;
      if (g && e.gold !== g) return false;
      if (p && pred !== p) return false;
      if (q && (e.text || '').toLowerCase().indexOf(q) < 0 && e.id.toLowerCase().indexOf(q) < 0) return false;
      return true;
    });
    list.textContent = '';
    rows.slice(0, shown).forEach(function (e) {
      var box = el('article', 'example');
      box.setAttribute('data-id', e.id);
      var meta = el('div', 'meta');
      meta.appendChild(el('span', '', e.id + (e.dialogueId ? ' · dialogue ' + e.dialogueId : '') + ' · gold '));
      meta.appendChild(el('span', 'gold', e.gold));
      meta.appendChild(el('span', '', ' · predicted '));
      meta.appendChild(el('span', 'pred', e.pred === null ? '<none> (' + e.parse + ')' : e.pred));
      box.appendChild(meta);
      if (e.context && e.context.length) {
        var ctx = el('div', 'ctx');
        e.context.forEach(function (t) { ctx.appendChild(el('p', '', (t.speaker ? t.speaker + ': ' : '') + t.text)); });
        box.appendChild(ctx);
      }
      box.appendChild(el('p', 'utt', e.text === undefined ? '(text not recorded in the predictions file)' : (e.speaker ? e.speaker + ': ' : '') + e.text));
      if (e.raw !== undefined && e.raw !== e.pred) box.appendChild(el('div', 'meta', 'model answer: ' + e.raw));
      list.appendChild(box);
    });
    status.textContent = rows.length + ' misclassified example(s) match' + (rows.length > shown ? '; showing ' + shown : '') + (c.truncated ? ' (list truncated in this page)' : '');
    document.getElementById('b-more').hidden = rows.length <= shown;
  }
  if (cells.length === 0) { status.textContent = 'No predictions were loaded.'; return; }
  selCell.addEventListener('change', function () { shown = PAGE; fillLabels(); render(); });
  [selGold, selPred].forEach(function (s) { s.addEventListener('change', function () { shown = PAGE; render(); }); });
  search.addEventListener('input', function () { shown = PAGE; render(); });
  document.getElementById('b-more').addEventListener('click', function () { shown += PAGE; render(); });
  fillLabels();
  render();
  root.setAttribute('data-ready', 'true');
})();
`;

/** The headline chart as an outlined SVG data URI: no font, no script, nothing fetched (CSP img-src data:). */
function chartFigure(model: LeaderboardModel, opts: HtmlPageOptions): string[] {
  if (!(opts.chart ?? true)) return [];
  const svg = renderChart(headlineChart(model) as never, FIGURE_WIDTH, headlineHeight(model), 'svg');
  return [
    `<figure class="chart"><img alt="Headline metric per task and adapter, with 95% CI or ± sd whiskers" width="520" src="data:image/svg+xml;base64,${svg.toString('base64')}"></figure>`,
  ];
}

/** The whole page. Sync: everything it shows is in `model` (predictions must be loaded for the browser). */
export function renderHtmlPage(
  model: LeaderboardModel,
  tables: readonly ReportTable[],
  opts: HtmlPageOptions,
): string {
  const scriptHash = createHash('sha256').update(SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${scriptHash}'; base-uri 'none'; form-action 'none'`;
  const out: string[] = [];
  out.push('<!doctype html>', '<html lang="en"><head><meta charset="utf-8">');
  out.push(`<meta http-equiv="Content-Security-Policy" content="${csp}">`);
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>${escapeHtml(opts.title)}</title>`, `<style>${CSS}</style>`, '</head><body>');
  out.push(`<h1>${escapeHtml(opts.title)}</h1>`);
  out.push(
    '<nav><a href="#tables">Tables</a><a href="#tasks">Confusion matrices</a><a href="#browser">Misclassified examples</a></nav>',
  );
  out.push('<p>Click a column header to sort. Values are percentages with 2 decimals.</p>');
  if (model.results.warnings.length > 0) {
    out.push(
      `<ul class="notes">${model.results.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`,
    );
  }
  out.push('<div id="tables">');
  tables.forEach((t, i) => {
    out.push(renderTable(t));
    // The chart goes under the first table (the leaderboard or the first paper table).
    if (i === 0) out.push(...chartFigure(model, opts));
  });
  out.push('</div>');

  out.push('<div id="tasks"><h2>Confusion matrices</h2>');
  for (const t of model.tasks) {
    out.push(
      `<section class="task" id="task-${escapeHtml(t.id)}"><h3>${escapeHtml(t.id)} (${escapeHtml(t.protocol)})</h3>`,
    );
    for (const r of model.rows) {
      const e = model.entries.get(entryKey(t.id, r.adapter));
      if (e) out.push(renderConfusion(e));
    }
    out.push('</section>');
  }
  out.push('</div>');

  out.push('<section id="browser"><h2>Misclassified examples</h2>');
  out.push('<div class="controls">');
  out.push('<label>Task / adapter / seed<select id="b-cell"></select></label>');
  out.push('<label>Gold<select id="b-gold"></select></label>');
  out.push('<label>Predicted<select id="b-pred"></select></label>');
  out.push('<label>Search text or id<input id="b-search" type="search"></label>');
  out.push('</div>');
  out.push(
    `<p class="meta" id="b-status"></p><div id="b-list"></div><button id="b-more" type="button" hidden>Show more</button>`,
  );
  out.push(
    `<p class="meta">Context: up to the ${opts.contextTurns ?? 5} previous turns, as recorded in the predictions files.</p>`,
  );
  out.push(
    `<script type="application/json" id="browser-data">${jsonForScript(browserData(model, opts))}</script>`,
  );
  out.push('</section>');
  out.push(`<script>${SCRIPT}</script>`);
  out.push('</body></html>', '');
  return out.join('\n');
}
