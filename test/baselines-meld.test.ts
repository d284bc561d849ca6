import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { majorityFactory } from '../adapters/baselines/majority.ts';
import { type TfidfLogregAdapter, tfidfLogregFactory } from '../adapters/baselines/tfidf-logreg.ts';
import { releaseSessions } from '../harness/inference/onnx.ts';
import { computeMetrics } from '../harness/metrics.ts';
import type { Adapter, AdapterEnv, CellContext, Example } from '../harness/types.ts';
import { MELD_LABELS, makeCell, makeProtocol, readMeldSplit } from './support/baseline-cells.ts';
import { hasSharedData, sharedData } from './support/paths.ts';

afterAll(releaseSessions);

const env: AdapterEnv = { baseDir: '.', log: { info() {}, warn() {} }, device: 'cpu', cacheDir: tmpdir() };

async function score(adapter: Adapter, test: Example[], ctx: CellContext) {
  await adapter.prepare?.(ctx);
  const started = performance.now();
  const records = [];
  for (let i = 0; i < test.length; i += adapter.batchSize ?? 64) {
    const batch = test.slice(i, i + (adapter.batchSize ?? 64));
    const preds = await adapter.predict(batch, ctx);
    records.push(
      ...preds.map((p, j) => ({ id: p.id, gold: batch[j]!.label, pred: p.label, parse: p.parse })),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    metrics: computeMetrics(records, makeProtocol(MELD_LABELS, 'weighted_f1', 'meld-7')).metrics,
    seconds,
  };
}

describe.skipIf(!hasSharedData('meld'))('baselines on the real MELD release (meld-7 test)', () => {
  it('tfidf-logreg beats the majority floor on weighted F1 by a wide margin', {
    timeout: 300_000,
  }, async () => {
    const dir = join(sharedData, 'meld');
    const [train, dev, test] = await Promise.all([
      readMeldSplit(dir, 'train'),
      readMeldSplit(dir, 'dev'),
      readMeldSplit(dir, 'test'),
    ]);
    expect([train.length, dev.length, test.length]).toEqual([9989, 1109, 2610]);
    const protocol = makeProtocol(MELD_LABELS, 'weighted_f1', 'meld-7');
    const cell = () =>
      makeCell({ protocol, data: { train, dev, test }, workDir: mkdtempSync(join(tmpdir(), 'meld-')) });

    const majorityCell = cell();
    const majority = await score(
      await majorityFactory.create({ id: 'majority', ...majorityFactory.parseConfig({}) }, env),
      test,
      majorityCell.ctx,
    );
    const tfidfCell = cell();
    const adapter = tfidfLogregFactory.create(
      { id: 'tfidf-logreg', ...tfidfLogregFactory.parseConfig({}) },
      env,
    ) as TfidfLogregAdapter;
    const fitStarted = performance.now();
    const facts = (await adapter.prepare(tfidfCell.ctx)) as Record<string, unknown>;
    const fitSeconds = (performance.now() - fitStarted) / 1000;
    const tfidf = await score(adapter, test, tfidfCell.ctx);

    console.info(
      `meld-7 test: majority weighted F1 ${majority.metrics.weighted_f1!.toFixed(4)}, ` +
        `tfidf-logreg weighted F1 ${tfidf.metrics.weighted_f1!.toFixed(4)} (accuracy ${tfidf.metrics.accuracy!.toFixed(4)}, ` +
        `macro F1 ${tfidf.metrics.macro_f1!.toFixed(4)}); C=${facts.chosen_c}, V=${facts.vocabulary_size}, ` +
        `prepare ${fitSeconds.toFixed(1)} s, scoring 2610 utterances ${tfidf.seconds.toFixed(2)} s`,
    );
    expect(majorityCell.requested).toEqual(['train']);
    expect(tfidfCell.requested).toEqual(['train', 'dev']);
    expect(facts.converged).toBe(true);
    // Majority always says "neutral" (4710 of 9989 train turns): weighted F1 is about 0.31.
    expect(majority.metrics.weighted_f1!).toBeGreaterThan(0.3);
    expect(majority.metrics.weighted_f1!).toBeLessThan(0.33);
    expect(tfidf.metrics.weighted_f1!).toBeGreaterThan(majority.metrics.weighted_f1! + 0.1);
    expect(tfidf.metrics.macro_f1!).toBeGreaterThan(majority.metrics.macro_f1! + 0.1);
  });
});
