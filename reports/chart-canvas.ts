/**
 * chart.js rendered headless on @napi-rs/canvas: PNG (raster), SVG (vector, text as paths) and PDF
 * (vector, Skia's PDF backend). Same input, same bytes: no animation, a fixed pixel ratio, no
 * timestamps in PDF metadata, and the bundled font.
 */
import { Canvas, PDFDocument, SvgExportFlag } from '@napi-rs/canvas';
import { BasicPlatform, Chart, type ChartConfiguration, type Plugin, registerables } from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';
import { RuntimeFailure } from '../harness/errors.ts';
import { ensureFigureFont } from './fonts.ts';

export type FigureFormat = 'png' | 'svg' | 'pdf';
export const FIGURE_FORMATS: readonly FigureFormat[] = ['png', 'svg', 'pdf'];

/** 3.3 in (one column of a two-column paper) at 300 dpi. */
export const FIGURE_WIDTH = 990;
export const FIGURE_DPI = 300;

let chartRegistered = false;

function setup(): string {
  const family = ensureFigureFont();
  if (!chartRegistered) {
    Chart.register(...registerables, MatrixController, MatrixElement);
    chartRegistered = true;
  }
  Chart.defaults.font.family = family;
  Chart.defaults.color = '#1b1b1b';
  return family;
}

type AnyConfig = ChartConfiguration<'bar' | 'matrix'>;

/** Options every figure shares: static, no DOM, fixed ratio. */
function freeze(config: AnyConfig, ratio: number): AnyConfig {
  const options = (config.options ?? {}) as Record<string, unknown>;
  return {
    ...config,
    platform: BasicPlatform,
    options: {
      ...options,
      animation: false,
      responsive: false,
      maintainAspectRatio: false,
      devicePixelRatio: ratio,
      events: [],
    },
  } as AnyConfig;
}

/** White background under the chart (chart.js leaves the canvas transparent). */
const whiteBackground = {
  id: 'whiteBackground',
  beforeDraw(chart: Chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

/**
 * Draws synchronously (animation off) and returns the chart; destroy it only after the output is
 * taken, since destroy() clears the canvas.
 */
function draw(config: AnyConfig, canvasLike: unknown, ratio: number): Chart {
  const c = freeze(config, ratio);
  c.plugins = [...(c.plugins ?? []), whiteBackground as Plugin<'bar' | 'matrix'>];
  // chart.js reads width/height from the canvas and logs (not throws) when it gets no context.
  const chart = new Chart(canvasLike as never, c as ChartConfiguration);
  if (!chart.ctx) throw new RuntimeFailure('chart.js could not draw on the canvas');
  return chart;
}

/** PNG pHYs chunk so viewers and LaTeX read the intended 300 dpi. */
function withDpi(png: Buffer, dpi: number): Buffer {
  const ppm = Math.round(dpi / 0.0254);
  const data = Buffer.alloc(9);
  data.writeUInt32BE(ppm, 0);
  data.writeUInt32BE(ppm, 4);
  data.writeUInt8(1, 8); // unit: metre
  const type = Buffer.from('pHYs', 'ascii');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(9, 0);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([type, data])), 0);
  // IHDR is always first: 8-byte signature + 4 length + 4 type + 13 data + 4 crc = 33 bytes.
  return Buffer.concat([png.subarray(0, 33), len, type, data, crc, png.subarray(33)]);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Skia numbers clip paths (cl_N) with a process-wide counter, so the second figure of a run would
 * differ from the same figure drawn first. Renumbering by first appearance makes it stable.
 */
function renumberSvgIds(svg: Buffer): Buffer {
  const ids = new Map<string, string>();
  const text = svg.toString('utf8').replace(/\bcl_([0-9A-Za-z]+)\b/g, (_, n: string) => {
    if (!ids.has(n)) ids.set(n, String(ids.size));
    return `cl_${ids.get(n)}`;
  });
  return Buffer.from(text, 'utf8');
}

/** `990` px at 300 dpi -> `3.3in`: at most 4 decimals, no trailing zeros. */
function inches(px: number): string {
  return `${Number((px / FIGURE_DPI).toFixed(4))}in`;
}

/**
 * Skia writes the root as `<svg ... width="990" height="H">`: unitless lengths are CSS pixels (96
 * per inch), so the figure would open about 10 in wide. The drawing stays in its pixel coordinates
 * through a viewBox; width and height become inches, the size PNG (pHYs) and PDF (points) give.
 */
function withPhysicalSize(svg: Buffer, width: number, height: number): Buffer {
  const text = svg.toString('utf8');
  const root = /<svg\b[^>]*>/.exec(text);
  if (!root) throw new RuntimeFailure('the SVG backend wrote no <svg> element');
  const sized = root[0]
    .replace(/\s(?:width|height|viewBox)="[^"]*"/g, '')
    .replace(
      /\/?>$/,
      (end) => ` width="${inches(width)}" height="${inches(height)}" viewBox="0 0 ${width} ${height}"${end}`,
    );
  return Buffer.from(text.slice(0, root.index) + sized + text.slice(root.index + root[0].length), 'utf8');
}

/**
 * Renders one chart.js configuration. `width` and `height` are pixels at 300 dpi. SVG keeps them
 * as user units under a viewBox with the physical size in inches; PDF pages are sized in points.
 * Either way the figure is the physical size (3.3 in wide by default), as the PNG's 300 dpi says.
 */
export function renderChart(config: AnyConfig, width: number, height: number, format: FigureFormat): Buffer {
  setup();
  if (format === 'png') {
    const canvas = new Canvas(width, height);
    const chart = draw(config, canvas, 1);
    const png = canvas.encodeSync('png');
    chart.destroy();
    return withDpi(png, FIGURE_DPI);
  }
  if (format === 'svg') {
    // Text as paths: the SVG then needs no font wherever it is opened.
    const canvas = new Canvas(width, height, SvgExportFlag.ConvertTextToPaths);
    const chart = draw(config, canvas, 1);
    const svg = (canvas as unknown as { getContent(): Buffer }).getContent();
    chart.destroy();
    return withPhysicalSize(renumberSvgIds(svg), width, height);
  }
  const scale = 72 / FIGURE_DPI;
  const doc = new PDFDocument({
    title: 'emotion-eval figure',
    creator: 'emotion-eval',
    producer: 'emotion-eval',
  });
  const ctx = doc.beginPage(width * scale, height * scale);
  // chart.js lays out in pixels from this stand-in and maps them to points through devicePixelRatio.
  const stand = {
    width,
    height,
    style: {},
    getContext: () => ctx,
  };
  // chart.js wants context.canvas; Skia's PDF context has none of its own.
  Object.defineProperty(ctx, 'canvas', { value: stand, configurable: true });
  const chart = draw(config, stand, scale);
  doc.endPage();
  chart.destroy();
  return doc.close();
}
