import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRuns } from '../harness/compare.ts';
import { InputError } from '../harness/errors.ts';
import type { ProtocolLike } from '../harness/metrics.ts';
import { Rng } from '../harness/random.ts';
import { holm } from '../harness/stats.ts';
import type { PredictionRecord } from '../harness/types.ts';
import {
  escapeMarkdownCell,
  renderCompareMarkdown,
  renderCompareTerminal,
  renderJunit,
} from '../reports/regression-report.ts';
import { type RunFixtureCell, writeRunFromRecords } from './support/run-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'emotion-eval-compare-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const LABELS = ['neutral', 'joy', 'anger', 'sadness'];
const ERC: ProtocolLike = {
  labels: LABELS,
  neutral: 'neutral',
  headline: 'weighted_f1',
  metrics: ['weighted_f1', 'micro_f1_excl_neutral'],
};
const ACC: ProtocolLike = { labels: LABELS, headline: 'accuracy', metrics: ['accuracy'] };
const EXCL: ProtocolLike = { ...ERC, headline: 'micro_f1_excl_neutral' };

/** n examples in dialogues of 4, a classifier right with probability 0.7. */
function baseline(n: number, seed: number): PredictionRecord[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const g = rng.int(LABELS.length);
    const right = rng.next() < 0.7;
    const p = right ? g : (g + 1 + rng.int(LABELS.length - 1)) % LABELS.length;
    return {
      id: `x${i}`,
      gold: LABELS[g]!,
      pred: LABELS[p]!,
      parse: 'ok',
      dialogueId: `d${Math.floor(i / 4)}`,
    };
  });
}

/** 5% of the correct answers turned wrong (every 20th), or null (unparseable) when `asNull`. */
function regress(records: PredictionRecord[], asNull = false): PredictionRecord[] {
  let k = 0;
  return records.map((r) => {
    if (r.pred === r.gold && k++ % 20 === 0) {
      return asNull
        ? { ...r, pred: null, parse: 'unparseable' as const }
        : { ...r, pred: LABELS[(LABELS.indexOf(r.gold) + 1) % LABELS.length]! };
    }
    return r;
  });
}

const b1 = baseline(2000, 1);
const b2 = baseline(1200, 2);
const b3 = baseline(800, 3);
const cellsOf = (x: PredictionRecord[], y: PredictionRecord[], z: PredictionRecord[]): RunFixtureCell[] => [
  { task: 'meld-7', adapter: 'model-a', protocol: ERC, records: x },
  { task: 'toy-acc', adapter: 'model-a', protocol: ACC, records: y },
  { task: 'dd-7', adapter: 'model-a', seed: 2, protocol: EXCL, records: z },
];

const baseDir = writeRunFromRecords(root, 'base', cellsOf(b1, b2, b3));
const sameDir = writeRunFromRecords(root, 'same', cellsOf(b1, b2, b3));
const worseDir = writeRunFromRecords(root, 'worse', cellsOf(regress(b1), b2, b3));
const fast = { permutations: 2000, resamples: 500, seed: 1 };

describe('compareRuns', () => {
  it('flags a planted regression (5% of correct answers flipped on 2,000 examples) and fails the gate', async () => {
    const r = await compareRuns(baseDir, worseDir, fast);
    expect(r.exitCode).toBe(1);
    expect(r.passed).toBe(false);
    expect(r.regressions).toBe(1);
    const meld = r.cells.find((c) => c.task === 'meld-7')!;
    expect(meld.verdict).toBe('regressed');
    expect(meld.delta).toBeLessThan(0);
    expect(meld.ci.high).toBeLessThan(0);
    expect(meld.ci.unit).toBe('dialogue');
    expect(meld.pAdjusted).toBeLessThan(0.05);
    for (const c of r.cells.filter((x) => x.task !== 'meld-7')) {
      expect(c.verdict).toBe('no significant change');
      expect(c.delta).toBe(0);
      expect(c.p).toBe(1);
    }
    expect(r.summary).toMatch(/^FAIL: 3 cells compared, 1 regressed, 0 improved/);
  });

  it('adjusts p-values with Holm across the cells', async () => {
    const r = await compareRuns(baseDir, worseDir, fast);
    const want = holm(r.cells.map((c) => c.p));
    for (const [i, c] of r.cells.entries()) expect(c.pAdjusted).toBeCloseTo(want[i]!, 12);
    const meld = r.cells.find((c) => c.task === 'meld-7')!;
    expect(meld.pAdjusted).toBeCloseTo(Math.min(1, 3 * meld.p), 12);
  });

  it('two runs of identical predictions pass', async () => {
    const r = await compareRuns(baseDir, sameDir, fast);
    expect(r.exitCode).toBe(0);
    expect(r.cells.every((c) => c.verdict === 'no significant change' && c.delta === 0)).toBe(true);
    expect(r.cells).toHaveLength(3);
    expect(r.cells.find((c) => c.task === 'dd-7')!.seeds).toEqual({ baseline: [2], candidate: [2] });
  });

  it('the reverse direction is an improvement and passes', async () => {
    const r = await compareRuns(worseDir, baseDir, fast);
    expect(r.exitCode).toBe(0);
    expect(r.cells.find((c) => c.task === 'meld-7')!.verdict).toBe('improved');
    expect(r.improvements).toBe(1);
  });

  it('a drop within --max-drop passes, with a note', async () => {
    const r = await compareRuns(baseDir, worseDir, { ...fast, maxDrop: 0.2 });
    expect(r.exitCode).toBe(0);
    const meld = r.cells.find((c) => c.task === 'meld-7')!;
    expect(meld.verdict).toBe('no significant change');
    expect(meld.note).toMatch(/within the tolerated 0.2/);
  });

  it('reports McNemar for an accuracy headline, and unparseable answers count as wrong', async () => {
    const dir = writeRunFromRecords(root, 'nulls', cellsOf(b1, regress(b2, true), b3));
    const r = await compareRuns(baseDir, dir, fast);
    const acc = r.cells.find((c) => c.task === 'toy-acc')!;
    expect(acc.mcnemarP).toBeLessThan(1e-6);
    expect(acc.verdict).toBe('regressed');
    // Shown beside the permutation p in the pull-request table and the terminal, not only in JSON.
    expect(renderCompareMarkdown(r)).toMatch(/\| <?[0-9.]+ \(McNemar <0\.0001\) \|/);
    expect(renderCompareTerminal(r)).toContain('(McNemar <0.0001)');
    expect(r.cells.find((c) => c.task === 'meld-7')!.mcnemarP).toBeUndefined();
    // The number of flipped answers is known: every 20th correct one.
    const correct = b2.filter((x) => x.pred === x.gold).length;
    expect(acc.delta).toBeCloseTo(-Math.ceil(correct / 20) / b2.length, 12);
  });

  it('regresses on micro F1 excluding neutral using the label roles from the metrics file', async () => {
    const dir = writeRunFromRecords(root, 'dd-worse', cellsOf(b1, b2, regress(regress(b3))));
    const r = await compareRuns(baseDir, dir, fast);
    const dd = r.cells.find((c) => c.task === 'dd-7')!;
    expect(dd.headline).toBe('micro_f1_excl_neutral');
    expect(dd.delta).toBeLessThan(0);
  });

  it('a baseline cell missing from the candidate fails the gate unless allowed', async () => {
    const dir = writeRunFromRecords(root, 'partial', cellsOf(b1, b2, b3).slice(0, 2));
    const r = await compareRuns(baseDir, dir, fast);
    expect(r.missing).toEqual([{ task: 'dd-7', adapter: 'model-a', seeds: [2] }]);
    expect(r.exitCode).toBe(1);
    expect((await compareRuns(baseDir, dir, { ...fast, allowMissing: true })).exitCode).toBe(0);
    const back = await compareRuns(dir, baseDir, fast);
    expect(back.added).toHaveLength(1);
    expect(back.exitCode).toBe(0);
  });

  it('pairs cells by task and adapter: one seed each is compared even when the seed numbers differ', async () => {
    const reseeded = writeRunFromRecords(root, 'reseeded', [
      { task: 'meld-7', adapter: 'model-a', seed: 3, protocol: ERC, records: regress(b1) },
    ]);
    const one = writeRunFromRecords(root, 'one', [
      { task: 'meld-7', adapter: 'model-a', protocol: ERC, records: b1 },
    ]);
    const sameSeed = writeRunFromRecords(root, 'one-worse', [
      { task: 'meld-7', adapter: 'model-a', protocol: ERC, records: regress(b1) },
    ]);
    const r = await compareRuns(one, reseeded, fast);
    expect(r.cells).toHaveLength(1);
    expect(r.missing).toEqual([]);
    expect(r.cells[0]!.seeds).toEqual({ baseline: [1], candidate: [3] });
    expect(r.cells[0]!.verdict).toBe('regressed');
    // The same predictions under seed 1 give the very same test.
    const s = await compareRuns(one, sameSeed, fast);
    expect(r.cells[0]!.delta).toBe(s.cells[0]!.delta);
    expect(r.cells[0]!.p).toBe(s.cells[0]!.p);
    expect(renderCompareTerminal(r)).toMatch(/meld-7\s+model-a\s+1 vs 3\s/);
  });

  it('several seeds of a cell are one test on their pooled predictions', async () => {
    const s1 = baseline(600, 11);
    const s2 = baseline(600, 12);
    const twoSeeds = (x: PredictionRecord[], y: PredictionRecord[]): RunFixtureCell[] => [
      { task: 'toy-acc', adapter: 'model-a', seed: 1, protocol: ACC, records: x },
      { task: 'toy-acc', adapter: 'model-a', seed: 2, protocol: ACC, records: y },
    ];
    const base = writeRunFromRecords(root, 'two-seeds', twoSeeds(s1, s2));
    const worse = writeRunFromRecords(root, 'two-seeds-worse', twoSeeds(regress(s1), regress(s2)));
    const r = await compareRuns(base, worse, fast);
    expect(r.cells).toHaveLength(1);
    const c = r.cells[0]!;
    expect(c.seeds).toEqual({ baseline: [1, 2], candidate: [1, 2] });
    expect(c.n).toBe(600);
    // Accuracy over equal-sized seeds pooled is the mean of the seeds' accuracies.
    const acc = (x: PredictionRecord[]) => x.filter((e) => e.pred === e.gold).length / x.length;
    const want = (acc(regress(s1)) + acc(regress(s2)) - acc(s1) - acc(s2)) / 2;
    expect(c.delta).toBeCloseTo(want, 12);
    expect(c.verdict).toBe('regressed');
    // McNemar assumes independent pairs; the seeds of one example are not.
    expect(c.mcnemarP).toBeUndefined();
    expect(c.note).toContain('values over the pooled predictions of 2 seeds');
    expect(c.ci.unit).toBe('dialogue');
    const byUtterance = await compareRuns(base, worse, { ...fast, unit: 'utterance' });
    expect(byUtterance.cells[0]!.ci.unit).toBe('utterance');
    expect(renderJunit(r).match(/<testcase /g)).toHaveLength(1);
    expect(renderJunit(r)).toContain('name="model-a / seeds 1, 2"');
  });

  it("pooled seeds resample each example's seeds together: two identical seeds test like one", async () => {
    // Seeds that answered alike add no evidence: with an example's seeds as one unit, the pooled
    // accuracy of every resample equals the single seed's, so the CI and p are exactly the same.
    // (Resampled as independent rows, the CI would narrow and p would shrink.)
    const noDialogues = (r: PredictionRecord[]) => r.map(({ dialogueId: _, ...x }) => x as PredictionRecord);
    const s1 = noDialogues(baseline(500, 31));
    const worse = noDialogues(regress(baseline(500, 31)));
    const one = (name: string, recs: PredictionRecord[]) =>
      writeRunFromRecords(root, name, [
        { task: 'toy-acc', adapter: 'model-a', protocol: ACC, records: recs },
      ]);
    const two = (name: string, recs: PredictionRecord[]) =>
      writeRunFromRecords(root, name, [
        { task: 'toy-acc', adapter: 'model-a', seed: 1, protocol: ACC, records: recs },
        { task: 'toy-acc', adapter: 'model-a', seed: 2, protocol: ACC, records: recs },
      ]);
    for (const unit of ['dialogue', 'utterance'] as const) {
      const single = (
        await compareRuns(one(`one-b-${unit}`, s1), one(`one-c-${unit}`, worse), { ...fast, unit })
      ).cells[0]!;
      const pooled = (
        await compareRuns(two(`two-b-${unit}`, s1), two(`two-c-${unit}`, worse), { ...fast, unit })
      ).cells[0]!;
      expect(pooled.seeds.baseline).toEqual([1, 2]);
      expect(pooled.delta).toBeCloseTo(single.delta, 12);
      expect(pooled.ci.low).toBeCloseTo(single.ci.low, 12);
      expect(pooled.ci.high).toBeCloseTo(single.ci.high, 12);
      expect(pooled.p).toBe(single.p);
    }
  });

  it('seeds one run lacks are named in a note, and the shared seeds are compared', async () => {
    const s1 = baseline(300, 21);
    const s2 = baseline(300, 22);
    const base = writeRunFromRecords(root, 'seeds-12', [
      { task: 'toy-acc', adapter: 'model-a', seed: 1, protocol: ACC, records: s1 },
      { task: 'toy-acc', adapter: 'model-a', seed: 2, protocol: ACC, records: s2 },
    ]);
    const cand = writeRunFromRecords(root, 'seeds-2', [
      { task: 'toy-acc', adapter: 'model-a', seed: 2, protocol: ACC, records: s2 },
    ]);
    const r = await compareRuns(base, cand, fast);
    expect(r.cells[0]!.seeds).toEqual({ baseline: [2], candidate: [2] });
    expect(r.cells[0]!.note).toBe('not compared: baseline seed 1');
    expect(r.cells[0]!.mcnemarP).toBe(1);
    expect(r.exitCode).toBe(0);
  });

  it('a candidate with answers recorded as errors is incomplete and fails the gate, whatever its score', async () => {
    // Every 40th example of the ACC cell lost its answer to a server error (pred null, parse error).
    const failed = b2.map((r, i) => (i % 40 === 0 ? { ...r, pred: null, parse: 'error' as const } : r));
    const n = failed.filter((r) => r.parse === 'error').length;
    const dir = writeRunFromRecords(root, 'errors', cellsOf(b1, failed, b3));
    const r = await compareRuns(baseDir, dir, fast);
    const acc = r.cells.find((c) => c.task === 'toy-acc')!;
    expect(acc.errors).toEqual({ baseline: 0, candidate: n });
    expect(acc.parseRate.baseline).toBe(1);
    expect(acc.parseRate.candidate).toBeCloseTo((b2.length - n) / b2.length, 12);
    expect(acc.verdict).toBe('incomplete');
    expect(acc.note).toContain(`${n} candidate examples recorded as errors`);
    expect(r.incomplete).toBe(1);
    expect(r.exitCode).toBe(1);
    expect(r.summary).toMatch(/^FAIL: .*1 incomplete/);
    expect(renderCompareMarkdown(r)).toContain(`(${n} errors) | ❌ incomplete`);
    expect(renderJunit(r)).toContain('<failure type="incomplete"');
    expect(renderCompareTerminal(r)).toMatch(/1\.0000 -> 0\.\d{4} \(\d+ errors\)\s+incomplete/);
    // Accepted explicitly, the cell is judged on its score again.
    const allowed = await compareRuns(baseDir, dir, { ...fast, allowErrors: true });
    expect(allowed.cells.find((c) => c.task === 'toy-acc')!.verdict).not.toBe('incomplete');
    expect(allowed.incomplete).toBe(0);
    // Unparseable answers are the model's own: reported in the parse rate, never incomplete.
    const unparsed = writeRunFromRecords(root, 'unparsed', cellsOf(b1, regress(b2, true), b3));
    const u = await compareRuns(baseDir, unparsed, fast);
    const uacc = u.cells.find((c) => c.task === 'toy-acc')!;
    expect(uacc.errors.candidate).toBe(0);
    expect(uacc.parseRate.candidate).toBeLessThan(1);
    expect(uacc.verdict).toBe('regressed');
  });

  it('mismatched example ids or gold labels are input errors, not silent subsets', async () => {
    const fewer = writeRunFromRecords(root, 'fewer', cellsOf(b1.slice(1), b2, b3));
    await expect(compareRuns(baseDir, fewer, fast)).rejects.toThrow(
      /example 'x0' of the baseline .* is missing/,
    );
    const more = writeRunFromRecords(root, 'more', cellsOf([...b1, { ...b1[0]!, id: 'extra' }], b2, b3));
    await expect(compareRuns(baseDir, more, fast)).rejects.toThrow(/example 'extra' is not in the baseline/);
    const relabel = b1.map((r, i) => (i === 7 ? { ...r, gold: r.gold === 'joy' ? 'anger' : 'joy' } : r));
    const gold = writeRunFromRecords(root, 'gold', cellsOf(relabel, b2, b3));
    await expect(compareRuns(baseDir, gold, fast)).rejects.toThrow(InputError);
    await expect(compareRuns(baseDir, gold, fast)).rejects.toThrow(/example 'x7': gold label/);
  });

  it('bad files name the file (and line)', async () => {
    const dir = writeRunFromRecords(root, 'broken', cellsOf(b1, b2, b3));
    const pred = join(dir, 'predictions', 'meld-7', 'model-a', 'seed-1.jsonl');
    writeFileSync(pred, readFileSync(pred, 'utf8').replace(/\n/, '\n{not json\n'));
    await expect(compareRuns(baseDir, dir, fast)).rejects.toThrow(
      /seed-1\.jsonl:2: expected one JSON object/,
    );
    await expect(compareRuns(baseDir, join(root, 'nowhere'), fast)).rejects.toThrow(
      /summary\.json: file not found/,
    );
    await expect(compareRuns(baseDir, sameDir, { alpha: 2 })).rejects.toThrow(/--alpha/);
    const noRole = writeRunFromRecords(root, 'no-role', cellsOf(b1, b2, b3));
    const mfile = join(noRole, 'metrics', 'dd-7', 'model-a', 'seed-2.json');
    const m = JSON.parse(readFileSync(mfile, 'utf8'));
    delete m.neutral;
    writeFileSync(mfile, JSON.stringify(m));
    await expect(compareRuns(noRole, sameDir, fast)).rejects.toThrow(
      /seed-2\.json: headline micro_f1_excl_neutral needs "neutral"/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------

interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** A tiny well-formedness-checking XML reader (elements, attributes, text; no DTD, no CDATA). */
function parseXml(xml: string): XmlNode {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const rootNode: XmlNode = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [rootNode];
  const re = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  // biome-ignore lint/suspicious/noAssignInExpressions: the usual exec loop
  while ((m = re.exec(body)) !== null) {
    pos = re.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[5] !== undefined) {
      if (/&(?!(lt|gt|amp|quot|apos);)/.test(m[5])) throw new Error(`bad entity in text: ${m[5]}`);
      top.text += unescapeXml(m[5]);
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([\w-]+)="([^"]*)"/g)) {
      if (/&(?!(lt|gt|amp|quot|apos);)/.test(a[2]!)) throw new Error(`bad entity in attribute: ${a[2]}`);
      attrs[a[1]!] = unescapeXml(a[2]!);
    }
    const node: XmlNode = { name: name!, attrs, children: [], text: '' };
    top.children.push(node);
    if (!selfClose) stack.push(node);
  }
  if (pos !== body.length) throw new Error(`unparsed XML at ${pos}: ${body.slice(pos, pos + 40)}`);
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  return rootNode.children[0]!;
}

const all = (n: XmlNode, name: string): XmlNode[] =>
  n.children.flatMap((c) => (c.name === name ? [c, ...all(c, name)] : all(c, name)));

describe('regression report', () => {
  const nasty = `t<&"'>|*x*`;
  const nastyAdapter = `a'b"c & <d>`;
  const cells = (recs: PredictionRecord[]): RunFixtureCell[] => [
    { task: 'meld-7', adapter: 'model-a', protocol: ERC, records: recs },
    { task: nasty, adapter: nastyAdapter, protocol: ACC, records: b2 },
  ];

  it('JUnit XML parses back: one test case per cell, a failure for the regression, escaped names', async () => {
    const base = writeRunFromRecords(root, 'rb', cells(b1));
    const cand = writeRunFromRecords(root, 'rc', cells(regress(b1)));
    const r = await compareRuns(base, cand, fast);
    const doc = parseXml(renderJunit(r));
    expect(doc.name).toBe('testsuites');
    expect(doc.attrs).toMatchObject({ tests: '2', failures: '1' });
    const cases = all(doc, 'testcase');
    expect(cases).toHaveLength(2);
    const failed = cases.filter((c) => c.children.some((x) => x.name === 'failure'));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attrs.classname).toBe('emotion-eval.meld-7');
    expect(failed[0]!.children[0]!.attrs.message).toMatch(/weighted_f1 dropped -0\.\d{4}/);
    const odd = cases.find((c) => c.attrs.classname === `emotion-eval.${nasty}`)!;
    expect(odd.attrs.name).toBe(`${nastyAdapter} / seed 1`);
  });

  it('JUnit escaping survives control characters and marks missing cells', async () => {
    const base = writeRunFromRecords(root, 'ctl-b', [
      { task: 'x\u0001y', adapter: 'm', protocol: ACC, records: b2 },
      { task: 'gone', adapter: 'm', protocol: ACC, records: b2 },
    ]);
    const cand = writeRunFromRecords(root, 'ctl-c', [
      { task: 'x\u0001y', adapter: 'm', protocol: ACC, records: b2 },
    ]);
    const r = await compareRuns(base, cand, fast);
    const xml = renderJunit(r);
    expect(xml.includes('\u0001')).toBe(false);
    const doc = parseXml(xml);
    const gone = all(doc, 'testcase').find((c) => c.attrs.classname === 'emotion-eval.gone')!;
    expect(gone.children[0]!.name).toBe('failure');
    expect(gone.children[0]!.attrs.type).toBe('missing');
  });

  it('Markdown: one overall line, a table row per cell, pipes and HTML escaped', async () => {
    const base = writeRunFromRecords(root, 'mb', cells(b1));
    const cand = writeRunFromRecords(root, 'mc', cells(regress(b1)));
    const r = await compareRuns(base, cand, fast);
    const md = renderCompareMarkdown(r);
    const lines = md.trim().split('\n');
    expect(lines[0]).toMatch(/^\*\*emotion-eval compare: FAIL: 2 cells compared, 1 regressed/);
    const rows = lines.filter((l) => l.startsWith('| ') && !l.startsWith('| Task'));
    expect(rows).toHaveLength(2);
    // Every data row splits into exactly 8 cells on unescaped pipes.
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(9);
    expect(md).not.toContain('<&');
    expect(md).toContain(escapeMarkdownCell(nasty));
    expect(rows.find((l) => l.includes('meld-7'))).toMatch(/❌ regressed/);
    expect(rows.find((l) => l.includes('meld-7'))).toMatch(/\| -0\.\d{4} \[-0\.\d{4}, -0\.\d{4}\] \|/);
    expect(renderCompareTerminal(r)).toMatch(/meld-7\s+model-a\s+1\s+weighted_f1/);
  });

  it('escapeMarkdownCell neutralises table and HTML syntax', () => {
    expect(escapeMarkdownCell('a|b<script>')).toBe('a\\|b&lt;script&gt;');
  });
});
