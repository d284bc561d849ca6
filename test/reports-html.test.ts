/**
 * The HTML page: static checks in Node, then the page opened in real headless Chromium (skipped,
 * visibly, where /usr/bin/chromium is absent).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, jsonForScript } from '../reports/html-page.ts';
import { renderLeaderboard } from '../reports/leaderboard.ts';
import { loadResults, type ResultSet } from '../reports/load-results.ts';
import { writeScenario, XSS } from './support/result-fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

let root: string;
let results: ResultSet;
let html: string;
let file: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'reports-html-'));
  writeScenario(root);
  results = await loadResults([root], { predictions: true });
  html = renderLeaderboard(results, { format: 'html', reference: 'A', title: 'Toy <results>' });
  file = join(root, 'page.html');
  writeFileSync(file, html);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('html page (static)', () => {
  it('escapes markup and keeps JSON from closing its script element', () => {
    expect(escapeHtml(XSS)).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(jsonForScript({ t: '</script><script>alert(1)</script>' })).toBe(
      '{"t":"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"}',
    );
    // The only image is the inline chart (a data URI); the utterance's <img> is escaped.
    expect(html.match(/<img /g)).toHaveLength(1);
    expect(html).toMatch(/<img alt="Headline metric[^"]*" width="520" src="data:image\/svg\+xml;base64,/);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('alert("ctx")</script>');
    expect(html).toContain('<title>Toy &lt;results&gt;</title>');
  });

  it('is self-contained: no external URL, and a CSP that forbids fetching anything', () => {
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?(?:https?:|\/\/)/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toMatch(/Content-Security-Policy" content="default-src 'none';/);
  });
});

describe.skipIf(!hasChromium)(
  `html page in headless Chromium${hasChromium ? '' : ` (skipped: ${CHROMIUM} not installed)`}`,
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('renders, sorts, shows hostile text as text, runs nothing and fetches nothing', async () => {
      const page = await browser.newPage();
      const requests: string[] = [];
      const dialogs: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('dialog', async (d) => {
        dialogs.push(d.message());
        await d.dismiss();
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      const url = pathToFileURL(file).href;
      await page.goto(url);
      await page.waitForSelector('#browser[data-ready="true"]');

      // The leaderboard renders with the hand-worked cells.
      const lb = page.locator('table[data-table="leaderboard"]');
      const adapters = () => lb.locator('tbody tr td:nth-child(2)').allTextContents();
      expect(await adapters()).toEqual(['A', 'B', 'C']);
      expect(await lb.locator('tbody tr:nth-child(2) td:nth-child(4)').textContent()).toBe('50.00†');

      // Sorting by toy-bin Acc: descending first (A 100, C 75, B 50), then ascending.
      const th = lb.locator('thead th', { hasText: 'toy-bin Acc' });
      await th.click();
      expect(await adapters()).toEqual(['A', 'C', 'B']);
      expect(await th.getAttribute('aria-sort')).toBe('descending');
      await th.click();
      expect(await adapters()).toEqual(['B', 'C', 'A']);
      // Sorting by the toy-3 column puts C (no value) last either way.
      await lb.locator('thead th', { hasText: 'toy-3 W-F1' }).click();
      expect(await adapters()).toEqual(['A', 'B', 'C']);
      // Text column sorts too.
      await lb.locator('thead th', { hasText: 'Adapter' }).click();
      expect(await adapters()).toEqual(['C', 'B', 'A']);

      // The example browser: B on toy-3 got examples 3, 4, 6 and 9 wrong.
      await page.selectOption('#b-cell', { label: 'toy-3 / B / seed 1 (4 of 10 wrong)' });
      const ids = await page
        .locator('#b-list article')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
      expect(ids).toEqual(['toy-3-3', 'toy-3-4', 'toy-3-6', 'toy-3-9']);
      const hostile = page.locator('article[data-id="toy-3-3"]');
      expect(await hostile.locator('.utt').textContent()).toBe(`Ann: ${XSS}`);
      expect(await hostile.locator('.ctx p').allTextContents()).toEqual([
        'Ann: utterance 1',
        'Bob: <script>alert("ctx")</script>',
      ]);
      // Filters: gold = sad leaves example 6 only.
      await page.selectOption('#b-gold', 'sad');
      expect(await page.locator('#b-list article').count()).toBe(1);

      // Confusion matrices: B on toy-3, neutral row = 1 joy, 0 sad, 2 neutral, 0 none -> 33.3, 0.0, 66.7, 0.0.
      const matrix = page.locator('#task-toy-3 figure.confusion').nth(1);
      expect(await matrix.locator('figcaption').textContent()).toContain('B');
      const neutralRow = await matrix.locator('tbody tr:nth-child(3) td').allTextContents();
      expect(neutralRow).toEqual(['33.3 (1)', '0.0 (0)', '66.7 (2)', '0.0 (0)']);

      expect(await page.locator('img').count()).toBe(1);
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      // The inline chart decoded (a broken data URI would leave naturalWidth at 0), at its physical
      // size: the SVG says 3.3in, which a browser lays out at 96 CSS px per inch (316.8 -> 317).
      expect(
        await page
          .locator('figure.chart img')
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      ).toBe(317);
      expect(await page.locator('#b-list script').count()).toBe(0);
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      expect(requests.every((u) => u === url || u.startsWith('data:'))).toBe(true);
      await page.close();
    });
  },
);
