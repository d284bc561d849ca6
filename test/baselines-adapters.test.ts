import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { predictProba } from '../adapters/baselines/logreg.ts';
import { majorityFactory, majorityLabel } from '../adapters/baselines/majority.ts';
import { termIndex, tfidfMatrix } from '../adapters/baselines/tfidf-features.ts';
import {
  fitTfidfLogreg,
  type TfidfLogregAdapter,
  type TfidfModelMeta,
  tfidfLogregFactory,
} from '../adapters/baselines/tfidf-logreg.ts';
import { builtinAdapters } from '../adapters/index.ts';
import { RuntimeFailure } from '../harness/errors.ts';
import { getSession, releaseSessions } from '../harness/inference/onnx.ts';
import { OnnxGraphBuilder } from '../harness/inference/onnx-graph.ts';
import { Rng } from '../harness/random.ts';
import type { AdapterEnv, Example } from '../harness/types.ts';
import { example, makeCell, makeProtocol } from './support/baseline-cells.ts';

afterAll(releaseSessions);

const LABELS = ['neutral', 'joy', 'anger'] as const;
const protocol = makeProtocol(LABELS, 'weighted_f1', 'toy-3');

/** MELD-like short utterances: label cue words mixed with shared filler, drawn with a fixed seed. */
function corpus(split: string, n: number, seed: number): Example[] {
  const rng = new Rng(seed);
  const cues: Record<string, string[]> = {
    neutral: ['okay', 'sure', 'so', 'well', 'maybe', 'tomorrow'],
    joy: ['great', 'love', 'wonderful', 'yay', 'awesome', 'happy'],
    anger: ['hate', 'stupid', 'shut', 'damn', 'furious', 'ridiculous'],
  };
  const filler = ['i', 'you', 'the', 'it', 'is', 'that', 'we', 'ross', 'rachel', 'oh', 'what', 'coffee'];
  const out: Example[] = [];
  for (let i = 0; i < n; i++) {
    // Skewed like MELD: neutral most frequent.
    const r = rng.next();
    const label = r < 0.5 ? 'neutral' : r < 0.8 ? 'joy' : 'anger';
    const words: string[] = [];
    const len = 3 + rng.int(6);
    for (let w = 0; w < len; w++) {
      // 60% filler, 30% own cue, 10% another label's cue (noise).
      const u = rng.next();
      const pool = u < 0.6 ? filler : u < 0.9 ? cues[label]! : cues[LABELS[rng.int(3)]!]!;
      words.push(pool[rng.int(pool.length)]!);
    }
    out.push(
      example(
        `${split}-${i}`,
        `${words.join(' ')}${rng.next() < 0.3 ? '!' : '.'}`,
        label,
        `${split}-d${i >> 2}`,
      ),
    );
  }
  return out;
}

const data = { train: corpus('train', 240, 1), dev: corpus('dev', 80, 2), test: corpus('test', 80, 3) };

function env(device: AdapterEnv['device'] = 'cpu'): AdapterEnv {
  return { baseDir: '.', log: { info() {}, warn() {} }, device, cacheDir: tmpdir() };
}

function tfidf(
  config: Record<string, unknown> = {},
  device: AdapterEnv['device'] = 'cpu',
): TfidfLogregAdapter {
  const parsed = tfidfLogregFactory.parseConfig(config);
  return tfidfLogregFactory.create({ id: 'tfidf', ...parsed }, env(device)) as TfidfLogregAdapter;
}

const fresh = () => mkdtempSync(join(tmpdir(), 'baseline-'));

/** Whether this onnxruntime-node build can open a session on CUDA (a one-node graph). */
async function cudaAvailable(): Promise<boolean> {
  const b = new OnnxGraphBuilder({ name: 'probe' });
  b.op('Identity', [b.input('x', 'float32', [1])], {}, 'y');
  b.output('y', 'float32', [1]);
  const path = join(fresh(), 'probe.onnx');
  writeFileSync(path, b.toBytes());
  try {
    await getSession(path, { device: 'cuda' });
    return true;
  } catch {
    return false;
  }
}
const cudaWorks = await cudaAvailable();

describe('majority', () => {
  it('predicts the most frequent train label, ties to the first label in protocol order', () => {
    // Counts: neutral 1, joy 2, anger 2 -> joy (joy comes before anger in LABELS).
    expect(majorityLabel(Int32Array.of(2, 1, 0, 1, 2), LABELS).label).toBe('joy');
    expect(majorityLabel(Int32Array.of(2, 2, 1), LABELS)).toEqual({ label: 'anger', counts: [0, 1, 2] });
  });

  it('answers it for every test example, with the train distribution as scores; reads only train', async () => {
    const train = [
      example('a', 'x', 'anger'),
      example('b', 'y', 'joy'),
      example('c', 'z', 'anger'),
      example('d', 'w', 'neutral'),
    ];
    const cell = makeCell({ protocol, data: { train, test: data.test.slice(0, 3) }, workDir: fresh() });
    const adapter = await majorityFactory.create({ id: 'maj', ...majorityFactory.parseConfig({}) }, env());
    const facts = await adapter.prepare!(cell.ctx);
    expect(facts).toMatchObject({ label: 'anger', train_examples: 4 });
    const preds = await adapter.predict(data.test.slice(0, 3), cell.ctx);
    expect(preds.map((p) => [p.id, p.label, p.parse])).toEqual([
      ['test-0', 'anger', 'ok'],
      ['test-1', 'anger', 'ok'],
      ['test-2', 'anger', 'ok'],
    ]);
    expect(preds[0]!.scores).toEqual({ neutral: 0.25, joy: 0.25, anger: 0.5 });
    expect(cell.requested).toEqual(['train']);
  });

  it('refuses a train label outside the protocol labels', async () => {
    const cell = makeCell({ protocol, data: { train: [example('a', 'x', 'sarcasm')] }, workDir: fresh() });
    const adapter = await majorityFactory.create({ id: 'maj', ...majorityFactory.parseConfig({}) }, env());
    await expect(adapter.prepare!(cell.ctx)).rejects.toThrow(
      /'sarcasm', which is not one of neutral, joy, anger/,
    );
  });
});

describe('tfidf-logreg config', () => {
  it('has documented defaults and rejects bad values with the key named', () => {
    const c = tfidfLogregFactory.parseConfig({});
    expect(c).toMatchObject({
      ngramRange: [1, 2],
      minDf: 2,
      maxFeatures: 50000,
      sublinearTf: false,
      trainOnDev: false,
    });
    expect(c.cGrid).toEqual([0.1, 0.3, 1, 3, 10, 30]);
    expect(() => tfidfLogregFactory.parseConfig({ ngramRange: [2, 1] })).toThrow(/ngramRange/);
    expect(() => tfidfLogregFactory.parseConfig({ cGrid: [0] })).toThrow();
    expect(() => tfidfLogregFactory.parseConfig({ tokenPattern: '(' })).toThrow(/regular expression/);
    expect(() => tfidfLogregFactory.parseConfig({ minDF: 2 })).toThrow(/minDF/);
  });

  it('both factories are registered as built-ins', () => {
    const types = builtinAdapters.map((f) => f.type);
    expect(types).toContain('majority');
    expect(types).toContain('tfidf-logreg');
  });
});

describe('tfidf-logreg', () => {
  for (const sublinearTf of [false, true]) {
    it(`ONNX probabilities equal a TypeScript forward pass of the same weights (sublinearTf=${sublinearTf})`, async () => {
      const cell = makeCell({ protocol, data, workDir: fresh() });
      const adapter = tfidf({ sublinearTf });
      const preds = await adapter.predict(data.test, cell.ctx);
      // Refit with the same (deterministic) procedure and score in float64 TypeScript.
      const fitted = fitTfidfLogreg(
        { train: data.train, fit: data.train, tune: data.dev, tuning: 'dev' },
        LABELS,
        protocol,
        tfidfLogregFactory.parseConfig({ sublinearTf }),
      );
      const options = (await adapter.cell(cell.ctx)).options;
      const X = tfidfMatrix(
        data.test.map((e) => e.text),
        fitted.vocabulary,
        termIndex(fitted.vocabulary),
        options,
      );
      const proba = predictProba(X, fitted.fit.model);
      let maxDiff = 0;
      preds.forEach((p, i) => {
        LABELS.forEach((l, k) => {
          maxDiff = Math.max(maxDiff, Math.abs(p.scores![l]! - proba[i * 3 + k]!));
        });
        // Label is the argmax of the scores; parse is ok.
        const best = LABELS.reduce((a, l) => (p.scores![l]! > p.scores![a]! ? l : a), LABELS[0] as string);
        expect(p.label).toBe(best);
        expect(p.parse).toBe('ok');
      });
      expect(maxDiff).toBeLessThan(1e-5);
      // Texts with no known term are scored from the intercept alone (zero row, no NaN).
      const [empty] = await adapter.predict([example('e', '—', 'neutral')], cell.ctx);
      const bias = Array.from(fitted.fit.model.bias);
      const z = bias.map((b) => Math.exp(b - Math.max(...bias)));
      const sum = z.reduce((a, v) => a + v, 0);
      LABELS.forEach((l, k) => {
        expect(empty!.scores![l]).toBeCloseTo(z[k]! / sum, 5);
      });
    });
  }

  it('learns the toy task far above the majority floor', async () => {
    const cell = makeCell({ protocol, data, workDir: fresh() });
    const preds = await tfidf().predict(data.test, cell.ctx);
    const correct = preds.filter((p, i) => p.label === data.test[i]!.label).length;
    const majority = data.test.filter((e) => e.label === 'neutral').length;
    expect(correct / data.test.length).toBeGreaterThan(majority / data.test.length + 0.2);
  });

  it('tunes C on dev by the headline metric and never reads the test split', async () => {
    const cell = makeCell({ protocol, data, workDir: fresh() });
    const adapter = tfidf({ cGrid: [30, 0.01, 1] });
    const facts = (await adapter.prepare(cell.ctx)) as Record<string, unknown>;
    expect(cell.requested).toEqual(['train', 'dev']);
    const scores = facts.tuning_scores as Record<string, number>;
    expect(Object.keys(scores).sort()).toEqual(['0.01', '1', '30']);
    const best = Math.max(...Object.values(scores));
    // The chosen C has the best dev score; ties go to the smallest such C.
    const tied = Object.entries(scores)
      .filter(([, s]) => s === best)
      .map(([c]) => Number(c));
    expect(facts.chosen_c).toBe(Math.min(...tied));
    expect(facts).toMatchObject({
      tuning_metric: 'weighted_f1',
      tuning_source: 'dev',
      trained_on: 'train',
      device: 'cpu',
    });
    expect(facts.train_examples).toBe(data.train.length);
    expect(facts.model_sha256).toBe(
      (JSON.parse(readFileSync(join(cell.ctx.workDir, 'model.json'), 'utf8')) as TfidfModelMeta).modelSha256,
    );
    await adapter.predict(data.test.slice(0, 5), cell.ctx);
    expect(await adapter.predict([], cell.ctx)).toEqual([]);
    expect(cell.requested).not.toContain('test');
    expect(adapter.facts()).toEqual({ cells: { 'toy-3#1': facts } });
  });

  it('evaluated on dev, it tunes on a seeded train holdout and never reads dev', async () => {
    const cell = makeCell({ protocol, data, workDir: fresh(), split: 'dev', seed: 7 });
    const facts = (await tfidf().prepare(cell.ctx)) as Record<string, unknown>;
    expect(cell.requested).toEqual(['train']);
    expect(facts).toMatchObject({ tuning_source: 'train-holdout', trained_on: 'train', train_examples: 240 });
    // 20% of the 60 training dialogues (4 turns each) held out.
    expect(facts.tune_examples).toBe(48);
    expect(cell.logs.info.some((m) => m.includes('holding out 12 of 60 training dialogues (seed 7)'))).toBe(
      true,
    );
  });

  it('same seed and data give identical model bytes; a resumed cell reuses the file instead of refitting', async () => {
    const a = makeCell({ protocol, data, workDir: fresh() });
    const b = makeCell({ protocol, data, workDir: fresh() });
    await tfidf().prepare(a.ctx);
    await tfidf().prepare(b.ctx);
    const bytesA = readFileSync(join(a.ctx.workDir, 'model.onnx'));
    expect(bytesA.equals(readFileSync(join(b.ctx.workDir, 'model.onnx')))).toBe(true);
    // A new adapter object on the same work folder (a resumed run) loads the model.
    const again = makeCell({ protocol, data, workDir: a.ctx.workDir });
    const facts = (await tfidf().prepare(again.ctx)) as Record<string, unknown>;
    expect(facts.reused).toBe(true);
    expect(again.logs.info.some((m) => m.includes('reusing the fitted model'))).toBe(true);
    // Different training data is a different key: refitted, not reused.
    const before = await tfidf().cell(again.ctx);
    const changed = makeCell({
      protocol,
      data: { ...data, train: data.train.slice(1) },
      workDir: a.ctx.workDir,
    });
    const refit = await tfidf().cell(changed.ctx);
    expect(refit.facts.reused).toBe(false);
    // The refitted file gets a new session, not the one cached for the old file at the same path.
    expect(refit.facts.model_sha256).not.toBe(before.facts.model_sha256);
    expect(refit.handle.session).not.toBe(before.handle.session);
  });

  it('keeps separate models per task in one adapter object', async () => {
    const adapter = tfidf({ cGrid: [1] });
    const other = makeProtocol(['neutral', 'joy', 'anger'], 'accuracy', 'toy-other');
    const first = makeCell({ protocol, data, workDir: fresh() });
    const second = makeCell({
      protocol: other,
      data: { ...data, train: data.train.slice(0, 120) },
      workDir: fresh(),
    });
    await adapter.prepare(first.ctx);
    await adapter.prepare(second.ctx);
    const facts = adapter.facts().cells as Record<string, Record<string, unknown>>;
    expect(Object.keys(facts).sort()).toEqual(['toy-3#1', 'toy-other#1']);
    expect(facts['toy-other#1']!.train_examples).toBe(120);
    expect(facts['toy-other#1']!.tuning_metric).toBe('accuracy');
  });

  it("device 'cpu' runs on CPU", async () => {
    const cell = makeCell({ protocol, data, workDir: fresh() });
    const facts = (await tfidf({ cGrid: [1] }, 'cpu').prepare(cell.ctx)) as Record<string, unknown>;
    expect(facts.device).toBe('cpu');
    expect(cell.logs.info.some((m) => m.includes('CUDA'))).toBe(false);
  });

  // The installed onnxruntime-node is the CPU build; with a CUDA build on a GPU machine, 'auto'
  // picks CUDA and 'cuda' succeeds, so these two checks only hold where CUDA is unavailable.
  it.skipIf(cudaWorks)(
    "device 'auto' falls back to CPU with a notice; 'cuda' asked for explicitly is a RuntimeFailure",
    async () => {
      const auto = makeCell({ protocol, data, workDir: fresh() });
      const facts = (await tfidf({ cGrid: [1] }, 'auto').prepare(auto.ctx)) as Record<string, unknown>;
      expect(facts.device).toBe('cpu');
      expect(auto.logs.info.some((m) => /device auto: CUDA unavailable \(.+\); running on CPU/.test(m))).toBe(
        true,
      );

      const cuda = makeCell({ protocol, data, workDir: fresh() });
      const failure = tfidf({ cGrid: [1] }, 'cuda').prepare(cuda.ctx);
      await expect(failure).rejects.toBeInstanceOf(RuntimeFailure);
      await expect(failure).rejects.toThrow(/CUDA was requested .*model\.onnx.*--device cpu/);
      // The model itself was written (the failure is the device, not the fit).
      expect(existsSync(join(cuda.ctx.workDir, 'model.onnx'))).toBe(true);
    },
  );

  it('refuses to be evaluated on its own training split', async () => {
    const cell = makeCell({ protocol, data, workDir: fresh(), split: 'train' });
    await expect(tfidf().prepare(cell.ctx)).rejects.toThrow(/cannot be evaluated on toy-3.train/);
  });

  it('trainOnDev refits on train + dev with the chosen C', async () => {
    const cell = makeCell({ protocol, data, workDir: fresh() });
    const facts = (await tfidf({ trainOnDev: true, cGrid: [1] }).prepare(cell.ctx)) as Record<
      string,
      unknown
    >;
    expect(facts).toMatchObject({ trained_on: 'train+dev', train_examples: 320, chosen_c: 1 });
  });
});
