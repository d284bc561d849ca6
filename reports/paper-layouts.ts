/**
 * Tables in the layout of the papers this harness replicates, with their published rows (marked
 * "reported") next to the rows this run measured, and comparability notes as footnotes.
 *   peng2023:     Peng et al. Tables 2-5 (Acc and macro-F1; Friends also UA; M3ED Acc, weighted F1, UA).
 *   dialoguellm:  DialogueLLM Table 3 (Acc and weighted F1 on MELD, IEMOCAP, EmoryNLP and their average).
 * Measured rows read the test-split task whose id is the protocol id (e.g. `meld-7`).
 */
import { InputError, unknownName } from '../harness/errors.ts';
import type { MetricName } from '../harness/types.ts';
import {
  type Aggregate,
  type Entry,
  entryKey,
  type LeaderboardModel,
  provenanceLines,
  provenanceOf,
} from './aggregate.ts';
import {
  PUBLISHED,
  PUBLISHED_NOTES,
  type PublishedRow,
  SOURCES,
  type SourceTag,
} from './published-results.ts';
import { type PairedTest, testEntries } from './significance.ts';
import { markBest, type ReportTable, type TableCell, textCell } from './table-model.ts';

export const PAPER_LAYOUTS = ['peng2023', 'dialoguellm'] as const;
export type PaperLayout = (typeof PAPER_LAYOUTS)[number];

/** Significance markers on measured rows against a reference adapter (`leaderboard --reference`). */
export interface LayoutSignificance {
  reference: string;
  alpha: number;
  test: PairedTest;
  /** The marker after a significant cell (default †, as in the leaderboard). */
  mark?: string;
}

interface LayoutColumn {
  /** `<protocol>:<metric>`, or `average:<metric>` (mean over the layout's `averageOf` protocols). */
  key: string;
  header: string;
}

interface LayoutTable {
  id: string;
  title: string;
  source: SourceTag;
  published: readonly PublishedRow[];
  columns: readonly LayoutColumn[];
  /** Note ids that apply to the whole table. */
  tableNotes?: readonly string[];
  averageOf?: readonly string[];
  /** Show the #Param column (DialogueLLM). */
  params?: boolean;
}

const col = (protocol: string, metric: MetricName, header: string): LayoutColumn => ({
  key: `${protocol}:${metric}`,
  header,
});

const LAYOUTS: Record<PaperLayout, LayoutTable[]> = {
  peng2023: [
    {
      id: 'peng2023-table2',
      title: 'MOSI (Peng et al. Table 2): accuracy and macro-F1 (%)',
      source: '[P]',
      published: PUBLISHED.peng2023.table2,
      columns: [
        col('mosi-2', 'accuracy', 'MOSI-2 Acc'),
        col('mosi-2', 'macro_f1', 'MOSI-2 F1'),
        col('mosi-3', 'accuracy', 'MOSI-3 Acc'),
        col('mosi-3', 'macro_f1', 'MOSI-3 F1'),
      ],
    },
    {
      id: 'peng2023-table3',
      title: 'SST (Peng et al. Table 3): accuracy and macro-F1 (%)',
      source: '[P]',
      published: PUBLISHED.peng2023.table3,
      columns: [
        col('sst-2', 'accuracy', 'SST-2 Acc'),
        col('sst-2', 'macro_f1', 'SST-2 F1'),
        col('sst-5', 'accuracy', 'SST-5 Acc'),
        col('sst-5', 'macro_f1', 'SST-5 F1'),
      ],
      tableNotes: ['sst2Test'],
    },
    {
      id: 'peng2023-table4',
      title: 'CH-SIMS and Mastodon (Peng et al. Table 4): accuracy and macro-F1 (%)',
      source: '[P]',
      published: PUBLISHED.peng2023.table4,
      columns: [
        col('chsims-2', 'accuracy', 'CH-SIMS Acc'),
        col('chsims-2', 'macro_f1', 'CH-SIMS F1'),
        col('mastodon-3', 'accuracy', 'Mastodon Acc'),
        col('mastodon-3', 'macro_f1', 'Mastodon F1'),
      ],
    },
    {
      id: 'peng2023-table5',
      title:
        'Friends and M3ED (Peng et al. Table 5): Friends Acc, macro-F1, UA; M3ED Acc, weighted F1, UA (%)',
      source: '[P]',
      published: PUBLISHED.peng2023.table5,
      columns: [
        col('friends-7', 'accuracy', 'Friends Acc'),
        col('friends-7', 'macro_f1', 'Friends F1'),
        col('friends-7', 'ua', 'Friends UA'),
        col('m3ed-7', 'accuracy', 'M3ED Acc'),
        col('m3ed-7', 'weighted_f1', 'M3ED W-F1'),
        col('m3ed-7', 'ua', 'M3ED UA'),
      ],
    },
  ],
  dialoguellm: [
    {
      id: 'dialoguellm-table3',
      title: 'MELD, IEMOCAP and EmoryNLP (DialogueLLM Table 3): accuracy and weighted F1 (%)',
      source: '[D]',
      published: PUBLISHED.dialoguellm.table3,
      columns: [
        col('meld-7', 'accuracy', 'MELD Acc'),
        col('meld-7', 'weighted_f1', 'MELD W-F1'),
        col('iemocap-6', 'accuracy', 'IEMOCAP Acc'),
        col('iemocap-6', 'weighted_f1', 'IEMOCAP W-F1'),
        col('emorynlp-7', 'accuracy', 'EmoryNLP Acc'),
        col('emorynlp-7', 'weighted_f1', 'EmoryNLP W-F1'),
        { key: 'average:accuracy', header: 'Avg Acc' },
        { key: 'average:weighted_f1', header: 'Avg W-F1' },
      ],
      averageOf: ['meld-7', 'iemocap-6', 'emorynlp-7'],
      params: true,
    },
  ],
};

function splitKey(key: string): { protocol: string; metric: MetricName } {
  const i = key.lastIndexOf(':');
  return { protocol: key.slice(0, i), metric: key.slice(i + 1) as MetricName };
}

function measuredValue(
  model: LeaderboardModel,
  adapter: string,
  key: string,
  spec: LayoutTable,
): { text: string; value: number } | undefined {
  const { protocol, metric } = splitKey(key);
  const fmt = (a: Aggregate) => ({
    text:
      a.sd !== undefined
        ? `${(a.mean * 100).toFixed(2)} ± ${(a.sd * 100).toFixed(2)}`
        : (a.mean * 100).toFixed(2),
    value: a.mean,
  });
  if (protocol === 'average') {
    const parts = (spec.averageOf ?? []).map((p) => model.entries.get(entryKey(p, adapter))?.metrics[metric]);
    if (parts.some((a) => a === undefined)) return undefined;
    const mean = parts.reduce((s, a) => s + a!.mean, 0) / parts.length;
    return { text: (mean * 100).toFixed(2), value: mean };
  }
  const a = model.entries.get(entryKey(protocol, adapter))?.metrics[metric];
  return a ? fmt(a) : undefined;
}

/**
 * Marks measured cells whose metric differs significantly from the reference adapter's on the same
 * protocol. Each column is tested on its own metric (accuracy, macro-F1...), not the headline;
 * average columns have no paired test and stay unmarked; published rows have no predictions.
 */
function markSignificance(
  model: LeaderboardModel,
  spec: LayoutTable,
  adapters: readonly string[],
  rows: TableCell[][],
  firstMeasured: number,
  numericStart: number,
  sig: LayoutSignificance,
): string[] {
  const mark = sig.mark ?? '†';
  const tested = spec.columns.filter((c) => splitKey(c.key).protocol !== 'average');
  const hasReference = tested.some((c) =>
    model.entries.has(entryKey(splitKey(c.key).protocol, sig.reference)),
  );
  if (!hasReference) return [`No significance markers: ${sig.reference} has no measured row in this table.`];
  const missing: string[] = [];
  let method: string | undefined;
  adapters.forEach((adapter, i) => {
    if (adapter === sig.reference) return;
    spec.columns.forEach((c, j) => {
      const { protocol, metric } = splitKey(c.key);
      if (protocol === 'average') return;
      const ref = model.entries.get(entryKey(protocol, sig.reference));
      const cand = model.entries.get(entryKey(protocol, adapter));
      if (!ref || !cand || cand.metrics[metric] === undefined) return;
      const r = testEntries(ref, cand, metric, sig.test);
      if ('missing' in r) {
        missing.push(`${adapter} ${c.header} (${r.missing})`);
        return;
      }
      method ??= r.method;
      if (r.p < sig.alpha) rows[firstMeasured + i]![numericStart + j]!.mark = mark;
    });
  });
  const notes = [
    `${mark} differs from ${sig.reference} on that column's metric at p < ${sig.alpha} (${method ?? 'paired test'}; paired by example id, lowest shared seed${spec.averageOf ? '; Avg columns are not tested' : ''}).`,
  ];
  if (missing.length > 0) notes.push(`No significance test for: ${missing.join('; ')}.`);
  return notes;
}

function buildTable(model: LeaderboardModel, spec: LayoutTable, sig?: LayoutSignificance): ReportTable {
  const protocols = [
    ...new Set(spec.columns.map((c) => splitKey(c.key).protocol).filter((p) => p !== 'average')),
  ];
  const adapters = model.adapters.filter((a) => protocols.some((p) => model.entries.has(entryKey(p, a))));
  const header = [
    'System',
    'Source',
    ...(spec.params ? ['#Param'] : []),
    ...spec.columns.map((c) => c.header),
  ];
  const numericStart = spec.params ? 3 : 2;
  const rows: TableCell[][] = [];
  const reportedRows: number[] = [];
  const letters: string[] = [];
  const letterOf = (noteId: string) => {
    if (!letters.includes(noteId)) letters.push(noteId);
    return String.fromCharCode(97 + letters.indexOf(noteId));
  };

  for (const r of spec.published) {
    const name: TableCell = textCell(r.system);
    if (r.notes?.length) name.footnote = r.notes.map(letterOf).join(',');
    reportedRows.push(rows.length);
    rows.push([
      name,
      textCell(`reported ${r.source} ${r.table}`),
      ...(spec.params ? [textCell(r.params ?? '–')] : []),
      ...spec.columns.map((c) => {
        const v = r.values[c.key];
        return v === undefined || v === null ? textCell('–') : { text: v.toFixed(2), sort: v / 100 };
      }),
    ]);
  }
  const usedEntries: Entry[] = [];
  const firstMeasured = rows.length;
  for (const adapter of adapters) {
    const runs = new Set<string>();
    for (const p of protocols) {
      const e = model.entries.get(entryKey(p, adapter));
      if (!e) continue;
      usedEntries.push(e);
      for (const c of e.cells) runs.add(c.runId);
    }
    rows.push([
      textCell(adapter),
      textCell(`measured ${[...runs].join(', ')}`),
      ...(spec.params ? [textCell('')] : []),
      ...spec.columns.map((c) => {
        const m = measuredValue(model, adapter, c.key, spec);
        return m ? { text: m.text, sort: m.value } : textCell('–');
      }),
    ]);
  }
  for (let i = numericStart; i < header.length; i++) markBest(rows, i);

  const notes: string[] = [
    'Values are percentages (2 decimals); measured rows with several seeds: mean ± sd.',
  ];
  if (sig && adapters.length > 0) {
    notes.push(...markSignificance(model, spec, adapters, rows, firstMeasured, numericStart, sig));
  }
  notes.push(`Reported rows: ${SOURCES[spec.source]}; "–": not reported.`);
  for (const id of letters)
    notes.push(`(${String.fromCharCode(97 + letters.indexOf(id))}) ${PUBLISHED_NOTES[id]}`);
  for (const id of spec.tableNotes ?? []) notes.push(PUBLISHED_NOTES[id]!);
  // Mastodon: give the measured figure on DARER's scale when the run reports it.
  if (protocols.includes('mastodon-3')) {
    const posNeg = adapters
      .map((a) => ({ a, v: model.entries.get(entryKey('mastodon-3', a))?.metrics.pos_neg_f1 }))
      .filter((x) => x.v !== undefined);
    if (posNeg.length > 0) {
      notes.push(
        `Measured pos/neg F1 on Mastodon (DARER's scale): ${posNeg.map((x) => `${x.a} ${(x.v!.mean * 100).toFixed(2)}`).join('; ')}.`,
      );
    }
  }
  if (spec.averageOf) {
    notes.push(`Avg: mean over ${spec.averageOf.join(', ')}; measured rows only when all three are present.`);
  }
  if (adapters.length === 0)
    notes.push(`No measured rows: the results hold none of ${protocols.join(', ')}.`);
  const cells = usedEntries.flatMap((e) => e.cells);
  return {
    id: spec.id,
    title: spec.title,
    header,
    align: header.map((_, i) => (i < numericStart ? 'l' : 'r')),
    rows,
    reportedRows,
    notes,
    provenance: cells.length > 0 ? provenanceLines(provenanceOf(cells, model.results.runs)) : [],
  };
}

/** The protocols (task ids) whose measured rows `layout` shows. */
export function layoutProtocols(layout: PaperLayout): string[] {
  const specs = LAYOUTS[layout];
  if (!specs) throw new InputError(unknownName('layout', String(layout), PAPER_LAYOUTS));
  const keys = specs.flatMap((s) => s.columns.map((c) => splitKey(c.key).protocol));
  return [...new Set(keys.filter((p) => p !== 'average'))];
}

/** The tables of `layout`, measured rows from `model`, with markers when `significance` is given. */
export function paperLayoutTables(
  model: LeaderboardModel,
  layout: PaperLayout,
  significance?: LayoutSignificance,
): ReportTable[] {
  const specs = LAYOUTS[layout];
  if (!specs) throw new InputError(unknownName('layout', String(layout), PAPER_LAYOUTS));
  if (significance && !model.adapters.includes(significance.reference)) {
    throw new InputError(unknownName('reference adapter', significance.reference, model.adapters));
  }
  return specs.map((s) => buildTable(model, s, significance));
}
