/**
 * TF-IDF word n-grams + multinomial logistic regression: the classic specialised baseline. It is
 * fitted in TypeScript during `prepare` (train to fit, dev to choose C), exported as an ONNX graph
 * into the cell's work folder, and scored through harness/inference/onnx.ts like any ONNX model.
 * A resumed run finds the model file for the same training data, config and seed and reuses it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { RuntimeFailure } from '../../harness/errors.ts';
import { hashValue, sha256 } from '../../harness/hash.ts';
import {
  type DeviceRequest,
  forgetSession,
  getSession,
  type OnnxSession,
  ort,
  runSession,
} from '../../harness/inference/onnx.ts';
import { builtinMetrics } from '../../harness/metrics.ts';
import type {
  Adapter,
  AdapterEnv,
  AdapterFactory,
  AdapterFacts,
  CellContext,
  Example,
  MetricName,
  Prediction,
  Protocol,
} from '../../harness/types.ts';
import {
  DEFAULT_LOGREG_OPTIONS,
  fitLogReg,
  type LogRegFit,
  type LogRegModel,
  predictProba,
} from './logreg.ts';
import { cellKey } from './majority.ts';
import {
  countMatrix,
  DEFAULT_TFIDF_OPTIONS,
  fitVocabulary,
  type TfidfOptions,
  termIndex,
  tfidfMatrix,
  type Vocabulary,
} from './tfidf-features.ts';
import { INPUT_NAME, OUTPUT_NAME, tfidfLogregGraph } from './tfidf-onnx.ts';
import { encodeLabels, examplesHash, loadTrainingData, type TuningSource } from './training-data.ts';

/** Bumped when the fitting code changes what a given config produces (invalidates cached models). */
export const MODEL_FORMAT = 1;

export const DEFAULT_C_GRID = [0.1, 0.3, 1, 3, 10, 30] as const;

export const tfidfLogregConfigSchema = z
  .strictObject({
    /** Smallest and largest n of word n-grams. */
    ngramRange: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([1, 2]),
    minDf: z.number().int().min(1).default(DEFAULT_TFIDF_OPTIONS.minDf),
    maxFeatures: z.number().int().positive().default(DEFAULT_TFIDF_OPTIONS.maxFeatures),
    sublinearTf: z.boolean().default(false),
    /** One token, as a JavaScript regular expression source (Unicode mode), matched after lower-casing. */
    tokenPattern: z
      .string()
      .default(DEFAULT_TFIDF_OPTIONS.tokenPattern)
      .refine(validPattern, 'not a valid regular expression (Unicode mode)'),
    /** Candidate values of C (inverse L2 strength), chosen by the protocol's headline metric on dev. */
    cGrid: z
      .array(z.number().positive())
      .min(1)
      .default([...DEFAULT_C_GRID]),
    maxIter: z.number().int().positive().default(DEFAULT_LOGREG_OPTIONS.maxIter),
    tol: z.number().positive().default(DEFAULT_LOGREG_OPTIONS.tol),
    /** Refit the final model on train + dev with the chosen C (off: dev is used for choosing C only). */
    trainOnDev: z.boolean().default(false),
    batchSize: z.number().int().positive().default(64),
    /** ONNX Runtime intra-op threads (default: ORT's own choice). */
    threads: z.number().int().positive().optional(),
  })
  .refine((c) => c.ngramRange[0] <= c.ngramRange[1], {
    message: 'ngramRange: the first value must not exceed the second',
    path: ['ngramRange'],
  });

export type TfidfLogregConfig = z.infer<typeof tfidfLogregConfigSchema>;

function validPattern(source: string): boolean {
  try {
    new RegExp(source, 'gu');
    return source.length > 0 && !new RegExp(source, 'u').test('');
  } catch {
    return false;
  }
}

/** What is written beside model.onnx: enough to featurise texts and to check the cache key. */
export interface TfidfModelMeta {
  format: number;
  key: string;
  labels: string[];
  terms: string[];
  features: Omit<TfidfOptions, 'ngramRange'> & { ngramRange: [number, number] };
  modelSha256: string;
  facts: TfidfCellFacts;
}

/** A type alias, not an interface, so it is assignable to AdapterFacts (Record<string, unknown>). */
export type TfidfCellFacts = {
  chosen_c: number;
  /** Headline metric on the tuning set per C (keys are C values as written). */
  tuning_scores: Record<string, number>;
  tuning_metric: MetricName;
  tuning_source: TuningSource;
  trained_on: 'train' | 'train+dev';
  train_examples: number;
  tune_examples: number;
  vocabulary_size: number;
  iterations: number;
  converged: boolean;
  gradient_norm: number;
  training_seconds: number;
  model_sha256: string;
};

/** A fitted cell ready to score: featuriser state and the ONNX session. */
export interface TfidfCell {
  modelPath: string;
  labels: readonly string[];
  index: Map<string, number>;
  options: TfidfOptions;
  handle: OnnxSession;
  facts: TfidfCellFacts & { device: string; reused: boolean };
}

export class TfidfLogregAdapter implements Adapter {
  readonly type = 'tfidf-logreg';
  readonly batchSize: number;
  readonly #cells = new Map<string, Promise<TfidfCell>>();
  readonly #facts = new Map<string, AdapterFacts>();

  constructor(
    readonly id: string,
    readonly config: TfidfLogregConfig,
    readonly device: DeviceRequest,
  ) {
    this.batchSize = config.batchSize;
  }

  fingerprint(): string {
    const { batchSize: _b, threads: _t, ...outputsDependOn } = this.config;
    return hashValue({ type: this.type, format: MODEL_FORMAT, ...outputsDependOn });
  }

  async prepare(ctx: CellContext): Promise<AdapterFacts> {
    return (await this.cell(ctx)).facts;
  }

  async predict(batch: readonly Example[], ctx: CellContext): Promise<Prediction[]> {
    const cell = await this.cell(ctx);
    // ONNX Runtime rejects some zero-sized inputs; an empty batch needs no model anyway.
    if (batch.length === 0) return [];
    return this.score(
      batch,
      this.featurize(
        batch.map((e) => e.text),
        cell,
      ),
      cell,
    );
  }

  /** Dense term counts for one batch: the graph's only input. */
  featurize(texts: readonly string[], cell: TfidfCell): Record<string, ort.Tensor> {
    const V = cell.index.size;
    return {
      [INPUT_NAME]: new ort.Tensor('float32', countMatrix(texts, cell.index, cell.options, V), [
        texts.length,
        V,
      ]),
    };
  }

  /** Runs the graph on prepared feeds and turns probabilities into predictions (argmax, scores). */
  async score(
    batch: readonly Example[],
    feeds: Record<string, ort.Tensor>,
    cell: TfidfCell,
  ): Promise<Prediction[]> {
    const out = await runSession(cell.handle, feeds);
    const probs = out[OUTPUT_NAME]?.data as Float32Array | undefined;
    const K = cell.labels.length;
    if (!probs || probs.length !== batch.length * K) {
      throw new RuntimeFailure(
        `${cell.modelPath}: expected ${batch.length}x${K} probabilities from '${OUTPUT_NAME}'`,
      );
    }
    return batch.map((e, i) => {
      const base = i * K;
      let best = 0;
      const scores: Record<string, number> = {};
      for (let k = 0; k < K; k++) {
        const p = probs[base + k]!;
        scores[cell.labels[k]!] = p;
        if (p > probs[base + best]!) best = k;
      }
      return { id: e.id, label: cell.labels[best]!, scores, parse: 'ok' };
    });
  }

  facts(): AdapterFacts {
    return { cells: Object.fromEntries(this.#facts) };
  }

  async close(): Promise<void> {
    this.#cells.clear();
  }

  /** The cell's fitted model and session, fitted (or loaded from the work folder) once per cell. */
  cell(ctx: CellContext): Promise<TfidfCell> {
    const key = cellKey(ctx);
    let pending = this.#cells.get(key);
    if (!pending) {
      pending = this.#prepareCell(ctx);
      this.#cells.set(key, pending);
      pending.then(
        (c) => this.#facts.set(key, c.facts),
        () => this.#cells.delete(key),
      );
    }
    return pending;
  }

  async #prepareCell(ctx: CellContext): Promise<TfidfCell> {
    const data = await loadTrainingData(ctx, this.id);
    const options = featureOptions(this.config);
    const labels = [...ctx.labels];
    const key = hashValue({
      format: MODEL_FORMAT,
      train: examplesHash(data.train),
      tune: examplesHash(data.tune),
      tuning: data.tuning,
      labels,
      headline: ctx.protocol.headline,
      options,
      cGrid: this.config.cGrid,
      maxIter: this.config.maxIter,
      tol: this.config.tol,
      trainOnDev: this.config.trainOnDev,
      seed: ctx.seed,
    });
    mkdirSync(ctx.workDir, { recursive: true });
    const modelPath = join(ctx.workDir, 'model.onnx');
    const metaPath = join(ctx.workDir, 'model.json');
    let meta = readCachedMeta(metaPath, modelPath, key);
    const reused = meta !== undefined;
    if (meta) {
      ctx.log.info(`${this.id} on ${ctx.task.id}: reusing the fitted model in ${modelPath}`);
    } else {
      const fitted = fitTfidfLogreg(data, labels, ctx.protocol, this.config);
      const bytes = tfidfLogregGraph({
        idf: fitted.vocabulary.idf,
        sublinearTf: options.sublinearTf,
        model: fitted.fit.model,
        labels,
      });
      const modelSha256 = sha256(bytes);
      meta = {
        format: MODEL_FORMAT,
        key,
        labels,
        terms: fitted.vocabulary.terms,
        features: options,
        modelSha256,
        facts: { ...fitted.facts, model_sha256: modelSha256 },
      };
      // Model first, then the metadata that vouches for it: a crash in between leaves no valid cache.
      writeAtomic(modelPath, bytes);
      writeAtomic(metaPath, `${JSON.stringify(meta)}\n`);
      // A session opened on an earlier model at this path (same process) must not be reused.
      await forgetSession(modelPath);
      const f = meta.facts;
      if (!f.converged) {
        ctx.log.warn(
          `${this.id} on ${ctx.task.id}: L-BFGS stopped after ${f.iterations} iterations with gradient ${f.gradient_norm.toExponential(2)} > tol ${this.config.tol}`,
        );
      }
      ctx.log.info(
        `${this.id} on ${ctx.task.id}: V=${f.vocabulary_size}, C=${f.chosen_c} (${f.tuning_metric} ${f.tuning_scores[String(f.chosen_c)]?.toFixed(4)} on ${f.tuning_source}), fitted in ${f.training_seconds.toFixed(2)} s`,
      );
    }
    const handle = await getSession(modelPath, {
      device: this.device,
      log: ctx.log,
      ...(this.config.threads ? { intraOpThreads: this.config.threads } : {}),
    });
    return {
      modelPath,
      labels,
      index: new Map(meta.terms.map((t, i) => [t, i])),
      options: { ...meta.features },
      handle,
      facts: { ...meta.facts, device: handle.device, reused },
    };
  }
}

function featureOptions(config: TfidfOptionsLike): TfidfModelMeta['features'] {
  return {
    ngramRange: [config.ngramRange[0], config.ngramRange[1]],
    minDf: config.minDf,
    maxFeatures: config.maxFeatures,
    sublinearTf: config.sublinearTf,
    tokenPattern: config.tokenPattern,
  };
}

function readCachedMeta(metaPath: string, modelPath: string, key: string): TfidfModelMeta | undefined {
  if (!existsSync(metaPath) || !existsSync(modelPath)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as TfidfModelMeta;
    if (meta.format !== MODEL_FORMAT || meta.key !== key) return undefined;
    if (sha256(readFileSync(modelPath)) !== meta.modelSha256) return undefined;
    return meta;
  } catch {
    // An unreadable cache is refitted, not trusted.
    return undefined;
  }
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export interface FittedTfidfLogreg {
  vocabulary: Vocabulary;
  fit: LogRegFit;
  facts: Omit<TfidfCellFacts, 'model_sha256'>;
}

/**
 * Chooses C on the tuning set by the protocol's headline metric (ties: the smaller C, the stronger
 * regularisation), then returns the model fitted on train with that C (refitted on train + dev when
 * `trainOnDev`, or on the full train when C was tuned on a train holdout).
 */
export function fitTfidfLogreg(
  data: { train: Example[]; fit: Example[]; tune: Example[]; tuning: TuningSource },
  labels: readonly string[],
  protocol: Pick<Protocol, 'headline' | 'neutral' | 'positive' | 'negative'>,
  config: Pick<TfidfLogregConfig, 'cGrid' | 'maxIter' | 'tol' | 'trainOnDev'> & TfidfOptionsLike,
): FittedTfidfLogreg {
  const started = performance.now();
  const options = featureOptions(config);
  const K = labels.length;
  const metric = builtinMetrics.find((m) => m.name === protocol.headline);
  if (!metric) throw new RuntimeFailure(`no built-in metric '${protocol.headline}' to tune C with`);

  const fitOn = (examples: readonly Example[]) => {
    const vocabulary = fitVocabulary(
      examples.map((e) => e.text),
      options,
    );
    if (vocabulary.terms.length === 0) {
      throw new RuntimeFailure(
        `tfidf-logreg: no n-gram occurs in at least ${options.minDf} of the ${examples.length} training texts; lower minDf`,
      );
    }
    return { vocabulary, index: termIndex(vocabulary) };
  };
  const lr = { maxIter: config.maxIter, tol: config.tol };

  // Tuning: fit on `fit`, score on `tune`, for every C in ascending order.
  const tuneSpace = fitOn(data.fit);
  const Xfit = tfidfMatrix(
    data.fit.map((e) => e.text),
    tuneSpace.vocabulary,
    tuneSpace.index,
    options,
  );
  const yfit = encodeLabels(data.fit, labels, 'train');
  const Xtune = tfidfMatrix(
    data.tune.map((e) => e.text),
    tuneSpace.vocabulary,
    tuneSpace.index,
    options,
  );
  const gold = encodeLabels(data.tune, labels, data.tuning === 'dev' ? 'dev' : 'train');
  const grid = [...new Set(config.cGrid)].sort((a, b) => a - b);
  const scores: Record<string, number> = {};
  let bestC = grid[0]!;
  let bestScore = Number.NEGATIVE_INFINITY;
  let bestFit: LogRegFit | undefined;
  let previous: LogRegFit | undefined;
  for (const C of grid) {
    // Warm start from the previous (smaller) C: the path is smooth, so this saves most iterations.
    const fit = fitLogReg(Xfit, yfit, K, {
      C,
      ...lr,
      ...(previous ? { init: packParams(previous.model) } : {}),
    });
    previous = fit;
    const probs = predictProba(Xtune, fit.model);
    const pred = new Int32Array(data.tune.length);
    for (let i = 0; i < pred.length; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (probs[i * K + k]! > probs[i * K + best]!) best = k;
      pred[i] = best;
    }
    const score = metric.compute({ labels, gold, pred }, protocol);
    scores[String(C)] = score;
    if (score > bestScore) {
      bestScore = score;
      bestC = C;
      bestFit = fit;
    }
  }

  let vocabulary = tuneSpace.vocabulary;
  let fit = bestFit!;
  let trainedOn: 'train' | 'train+dev' = 'train';
  let trainCount = data.fit.length;
  const refitOn = config.trainOnDev && data.tuning === 'dev' ? [...data.train, ...data.tune] : data.train;
  if (refitOn !== data.fit) {
    // The final model sees every example it is allowed to (the holdout, or dev when asked to).
    const space = fitOn(refitOn);
    vocabulary = space.vocabulary;
    const X = tfidfMatrix(
      refitOn.map((e) => e.text),
      space.vocabulary,
      space.index,
      options,
    );
    fit = fitLogReg(X, encodeLabels(refitOn, labels, 'train'), K, { C: bestC, ...lr });
    trainedOn = refitOn.length > data.train.length ? 'train+dev' : 'train';
    trainCount = refitOn.length;
  }
  return {
    vocabulary,
    fit,
    facts: {
      chosen_c: bestC,
      tuning_scores: scores,
      tuning_metric: protocol.headline,
      tuning_source: data.tuning,
      trained_on: trainedOn,
      train_examples: trainCount,
      tune_examples: data.tune.length,
      vocabulary_size: vocabulary.terms.length,
      iterations: fit.iterations,
      converged: fit.converged,
      gradient_norm: fit.gradientNorm,
      training_seconds: (performance.now() - started) / 1000,
    },
  };
}

/** [W (feature-major), b], the layout fitLogReg optimises over. */
function packParams(model: LogRegModel): Float64Array {
  const out = new Float64Array(model.weights.length + model.bias.length);
  out.set(model.weights);
  out.set(model.bias, model.weights.length);
  return out;
}

type TfidfOptionsLike = Pick<
  TfidfLogregConfig,
  'ngramRange' | 'minDf' | 'maxFeatures' | 'sublinearTf' | 'tokenPattern'
>;

export const tfidfLogregFactory: AdapterFactory<TfidfLogregConfig> = {
  type: 'tfidf-logreg',
  description:
    'Word n-gram TF-IDF + multinomial L2 logistic regression fitted on train (C chosen on dev by the headline metric), exported to ONNX and scored by ONNX Runtime.',
  parseConfig: (raw) => tfidfLogregConfigSchema.parse(raw ?? {}),
  create: (config, env: AdapterEnv) => new TfidfLogregAdapter(config.id, config, env.device),
};
