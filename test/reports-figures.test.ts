/**
 * Figures: chart data worked out by hand from the shared scenario (see reports-leaderboard.test.ts),
 * PNGs decoded and inspected, SVG checked as well-formed XML, PDF structure, determinism.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createCanvas, GlobalFonts, loadImage } from '@napi-rs/canvas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLeaderboard, type LeaderboardModel } from '../reports/aggregate.ts';
import { FIGURE_WIDTH, renderChart } from '../reports/chart-canvas.ts';
import {
  comparisonChart,
  confusionChart,
  headlineChart,
  OKABE_ITO,
  perClassChart,
  renderFigures,
  writeComparisonChart,
} from '../reports/figures.ts';
import { FIGURE_FONT } from '../reports/fonts.ts';
import { loadResults, type ResultSet } from '../reports/load-results.ts';
import { writeScenario } from './support/result-fixture.ts';

let root: string;
let results: ResultSet;
let model: LeaderboardModel;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'reports-fig-'));
  writeScenario(join(root, 'runs'));
  results = await loadResults([join(root, 'runs')]);
  model = buildLeaderboard(results);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function pixels(png: Buffer) {
  const img = await loadImage(png);
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return { width: img.width, height: img.height, data: ctx.getImageData(0, 0, img.width, img.height).data };
}

function lumaVariance(data: Uint8ClampedArray): number {
  let sum = 0;
  let sq = 0;
  const n = data.length / 4;
  for (let i = 0; i < data.length; i += 4) {
    const y = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
    sum += y;
    sq += y * y;
  }
  return sq / n - (sum / n) ** 2;
}

/** Dark pixels (text, axes) inside a rectangle. */
function darkPixels(
  p: { width: number; data: Uint8ClampedArray },
  x0: number,
  y0: number,
  x1: number,
  y1: number,
) {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * p.width + x) * 4;
      if (p.data[i]! < 80 && p.data[i + 1]! < 80 && p.data[i + 2]! < 80) n++;
    }
  }
  return n;
}

/**
 * Minimal XML well-formedness check: one root, tags nest and close, attributes quoted, no stray
 * "<" or "&". Enough to catch broken SVG output (no XML parser is installed).
 */
function checkXml(xml: string): string[] {
  const errors: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const re =
    /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)|(<)/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    if (m[6]) {
      errors.push(`stray '<' at ${m.index}`);
      continue;
    }
    if (m[5] !== undefined) {
      if (/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(m[5]))
        errors.push(`bad entity at ${m.index}`);
      if (stack.length === 0 && m[5].trim()) errors.push(`text outside the root at ${m.index}`);
      continue;
    }
    if (!m[2]) continue; // comment or CDATA
    if (m[1]) {
      const open = stack.pop();
      if (open !== m[2]) errors.push(`</${m[2]}> closes <${open}> at ${m.index}`);
    } else if (!m[4]) {
      if (stack.length === 0) roots++;
      stack.push(m[2]);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length > 0) errors.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) errors.push(`${roots} root elements`);
  return errors;
}

describe('chart data (hand-worked)', () => {
  it('headline bars: means in percent, whiskers from CI (one seed) or ± sd (two seeds)', () => {
    const c = headlineChart(model);
    expect(c.data.labels).toEqual(['toy-3 (W-F1)', 'toy-bin (Acc)']);
    expect(c.options?.indexAxis).toBe('y');
    const [a, b, cc] = c.data.datasets as unknown as {
      label: string;
      data: number[];
      errorBars: number[][];
    }[];
    expect(a!.label).toBe('A');
    expect(a!.data[0]).toBeCloseTo(77, 9);
    expect(a!.errorBars[0]![0]).toBeCloseTo(77 - 100 * Math.sqrt(0.0018), 9);
    expect(a!.errorBars[0]![1]).toBeCloseTo(77 + 100 * Math.sqrt(0.0018), 9);
    expect(a!.errorBars[1]).toEqual([100, 100]);
    expect(b!.errorBars[0]).toEqual([45, 75]);
    expect(b!.errorBars[1]).toBeNull(); // no CI in B's toy-bin file
    expect(cc!.data[0]).toBeNaN(); // C has no toy-3 cell
    expect(cc!.errorBars[1]).toEqual([50, 100]);
    expect(
      (c.data.datasets as unknown as { backgroundColor: string }[]).map((d) => d.backgroundColor),
    ).toEqual(OKABE_ITO.slice(0, 3));
  });

  it('confusion heatmap: row shares, <none> column only when used', () => {
    const a = confusionChart(model.entries.get('toy-3\u0000A')!);
    const cells = (a.data.datasets[0]!.data as unknown as { x: string; y: string; v: number }[]).map((d) => [
      d.y,
      d.x,
      d.v,
    ]);
    // A on toy-3, seeds 1 and 2 summed: joy 6/8 joy, 2/8 sad; sad 2/6 joy, 4/6 sad; neutral 5/6, 1/6 none.
    expect(cells).toEqual([
      ['joy', 'joy', 0.75],
      ['joy', 'sad', 0.25],
      ['joy', 'neutral', 0],
      ['joy', '<none>', 0],
      ['sad', 'joy', 2 / 6],
      ['sad', 'sad', 4 / 6],
      ['sad', 'neutral', 0],
      ['sad', '<none>', 0],
      ['neutral', 'joy', 0],
      ['neutral', 'sad', 0],
      ['neutral', 'neutral', 5 / 6],
      ['neutral', '<none>', 1 / 6],
    ]);
    const b = confusionChart(model.entries.get('toy-bin\u0000B')!);
    expect(b.data.datasets[0]!.data).toHaveLength(4); // 2 x 2, no <none> column
  });

  it('per-class F1 bars and the comparison chart', () => {
    const p = perClassChart(model, 'toy-bin');
    expect(p.data.labels).toEqual(['positive', 'negative']);
    const c = (p.data.datasets as unknown as { label: string; data: number[] }[]).find(
      (d) => d.label === 'C',
    )!;
    expect(c.data[0]).toBeCloseTo(80, 9);
    expect(c.data[1]).toBeCloseTo(200 / 3, 9);
    const cmp = comparisonChart([
      { task: 'meld-7', adapter: 'x', delta: -0.012, low: -0.03, high: 0.004 },
      { task: 'sst-2', adapter: 'y', delta: 0.031, low: 0.01, high: 0.05, significant: true },
    ]);
    expect(cmp.data.labels).toEqual(['meld-7 / x', 'sst-2 / y *']);
    const ds = cmp.data.datasets[0] as unknown as {
      data: number[];
      errorBars: number[][];
      backgroundColor: string[];
    };
    expect(ds.data[0]).toBeCloseTo(-1.2, 9);
    expect(ds.errorBars[1]![0]).toBeCloseTo(1, 9);
    expect(ds.errorBars[1]![1]).toBeCloseTo(5, 9);
    expect(ds.backgroundColor).toEqual(['#D55E00', '#009E73']);
  });
});

describe('rendered files', () => {
  it('registers the bundled font', () => {
    renderChart(headlineChart(model) as never, 200, 100, 'png');
    expect(GlobalFonts.has(FIGURE_FONT)).toBe(true);
  });

  it('PNG: 3.3 in at 300 dpi, not blank, text drawn, error bars drawn, same bytes twice', async () => {
    const files = await renderFigures(results, { outDir: join(root, 'png'), format: 'png' });
    expect(files.map((f) => basename(f))).toEqual([
      'headline.png',
      'per-class-f1-toy-3.png',
      'confusion-toy-3-A.png',
      'confusion-toy-3-B.png',
      'per-class-f1-toy-bin.png',
      'confusion-toy-bin-A.png',
      'confusion-toy-bin-B.png',
      'confusion-toy-bin-C.png',
    ]);
    const png = readFileSync(files[0]!);
    // pHYs chunk right after IHDR: 11811 px/m both ways = 300 dpi.
    expect(png.subarray(37, 41).toString('ascii')).toBe('pHYs');
    expect(png.readUInt32BE(41)).toBe(11811);
    const p = await pixels(png);
    // Height: max(500, 230 + tasks·(adapters·34 + 26)) = max(500, 230 + 2·128) = 500.
    expect([p.width, p.height]).toEqual([FIGURE_WIDTH, 500]);
    expect(lumaVariance(p.data)).toBeGreaterThan(500);
    // The title band (top 60 px, middle) holds dark text pixels; a blank band would have none.
    expect(darkPixels(p, 200, 5, 790, 60)).toBeGreaterThan(300);
    // Error bars are drawn: the same chart without them differs.
    const plain = headlineChart(model);
    for (const d of plain.data.datasets) delete (d as { errorBars?: unknown }).errorBars;
    expect(renderChart(plain as never, FIGURE_WIDTH, 500, 'png').equals(png)).toBe(false);
    // Deterministic.
    const again = await renderFigures(results, { outDir: join(root, 'png2'), format: 'png' });
    for (let i = 0; i < files.length; i++)
      expect(readFileSync(again[i]!).equals(readFileSync(files[i]!))).toBe(true);
  });

  it('SVG: well-formed XML, text converted to paths, same bytes twice', async () => {
    const files = await renderFigures(results, {
      outDir: join(root, 'svg'),
      format: 'svg',
      include: ['headline', 'confusion'],
    });
    expect(files).toHaveLength(6);
    for (const f of files) {
      const xml = readFileSync(f, 'utf8');
      expect(checkXml(xml), f).toEqual([]);
      // Physical size like the PNG (300 dpi) and PDF (237.6 pt): 990 px at 300 dpi = 3.3 in; the
      // viewBox keeps the drawing's pixel coordinates, so it scales into that box unchanged.
      const root = /<svg\b[^>]*>/.exec(xml)![0];
      const attr = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(root)?.[1];
      expect(attr('width')).toBe('3.3in');
      const viewBox = attr('viewBox')!.split(' ').map(Number);
      expect(viewBox.slice(0, 3)).toEqual([0, 0, FIGURE_WIDTH]);
      // Height in inches = viewBox height / 300, so the aspect ratio is the drawing's own.
      expect(attr('height')).toMatch(/^\d+(\.\d{1,4})?in$/);
      expect(Number.parseFloat(attr('height')!)).toBeCloseTo(viewBox[3]! / 300, 4);
      expect(root.match(/\swidth=/g)).toHaveLength(1); // the old unitless width is gone
      // The first drawn element still covers the whole viewBox (nothing was rescaled inside).
      expect(xml).toContain(`<rect fill="white" width="${FIGURE_WIDTH}" height="${viewBox[3]}"/>`);
      expect(xml).not.toContain('<text'); // text is outlined: no font needed to view it
      expect(xml.match(/<path /g)?.length ?? 0).toBeGreaterThan(20);
    }
    // The checker itself rejects broken XML.
    expect(checkXml('<svg><g></svg>')).not.toEqual([]);
    expect(checkXml('<svg><path d="a<b"/></svg>')).not.toEqual([]);
    const again = await renderFigures(results, {
      outDir: join(root, 'svg2'),
      format: 'svg',
      include: ['headline'],
    });
    expect(readFileSync(again[0]!).equals(readFileSync(files[0]!))).toBe(true);
  });

  it('PDF: one page 3.3 in wide, fonts embedded, no timestamps, same bytes twice', async () => {
    const files = await renderFigures(results, {
      outDir: join(root, 'pdf'),
      format: 'pdf',
      include: ['headline'],
    });
    const pdf = readFileSync(files[0]!);
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-')).toBe(true);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
    // 990 px at 300 dpi = 3.3 in = 237.6 pt; 500 px = 120 pt.
    expect(text).toMatch(/\/MediaBox \[0 0 23[78](?:\.\d+)? 120\]/);
    expect(text.match(/\/Type \/Page\b/g)).toHaveLength(1);
    expect(text).toContain('/FontFile2');
    expect(text).toContain('DejaVuSans');
    expect(text).not.toMatch(/CreationDate|ModDate/);
    const again = renderChart(headlineChart(model) as never, FIGURE_WIDTH, 500, 'pdf');
    expect(again.equals(pdf)).toBe(true);
  });

  it('comparison chart file and bad input', async () => {
    const file = await writeComparisonChart(
      [{ task: 'meld-7', adapter: 'x', delta: -0.012, low: -0.03, high: 0.004 }],
      join(root, 'compare.png'),
      'png',
    );
    const p = await pixels(readFileSync(file));
    expect(p.width).toBe(FIGURE_WIDTH);
    expect(lumaVariance(p.data)).toBeGreaterThan(300);
    await expect(writeComparisonChart([], join(root, 'x.png'), 'png')).rejects.toThrow(/no comparison rows/);
    await expect(renderFigures(results, { outDir: root, format: 'gif' as 'png' })).rejects.toThrow(
      /unknown figure format 'gif'/,
    );
  });
});
