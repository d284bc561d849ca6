/**
 * Length bucketing for in-process inference: examples sorted by token length are cut into batches,
 * so each batch pads to a length close to its members' and padding stays small. And the batch size
 * itself: taken from the config, or found automatically as the largest size that runs without error,
 * remembered per model so later cells start from it.
 */
import { RuntimeFailure } from '../errors.ts';

export interface BucketOptions {
  /** Most items per batch. */
  batchSize: number;
  /** Optional cap on padded tokens per batch (batch rows x longest row); a long batch gets fewer rows. */
  maxTokens?: number;
  /**
   * Optional cap on a batch's padded / real tokens. Sorted lengths still jump in the long tail, so a
   * batch closes early rather than pad short rows far; this bounds the overall ratio by the same number.
   */
  maxPadding?: number;
}

/**
 * Indices of `lengths` grouped into batches of similar length (stable for equal lengths, so runs
 * repeat exactly). Every index appears in exactly one batch.
 */
export function bucketByLength(lengths: readonly number[], options: BucketOptions): number[][] {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
  }
  const order = lengthOrder(lengths);
  const sorted = order.map((i) => lengths[i]!);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; ) {
    const n = nextBucketSize(sorted, start, options);
    batches.push(order.slice(start, start + n));
    start += n;
  }
  return batches;
}

/** How many items from `start` of ascending `sortedLengths` form the next batch (at least one). */
export function nextBucketSize(
  sortedLengths: readonly number[],
  start: number,
  options: BucketOptions,
): number {
  let n = 0;
  let real = 0;
  while (start + n < sortedLengths.length && n < options.batchSize) {
    // Ascending order: the newcomer is the longest row of the batch it would join.
    const len = sortedLengths[start + n]!;
    const padded = (n + 1) * len;
    if (n > 0) {
      if (options.maxTokens !== undefined && padded > options.maxTokens) break;
      if (options.maxPadding !== undefined && padded > options.maxPadding * (real + len)) break;
    }
    real += len;
    n++;
  }
  return Math.max(1, n);
}

/** Indices sorted by length, ties in original order: consecutive chunks of it are length buckets. */
export function lengthOrder(lengths: readonly number[]): number[] {
  return lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
}

export interface PaddingStats {
  realTokens: number;
  paddedTokens: number;
  /** paddedTokens / realTokens (1 = no padding at all). */
  ratio: number;
  batches: number;
}

/** Tokens the model actually processes (rows x longest row) against the real tokens. */
export function paddingStats(
  lengths: readonly number[],
  batches: readonly (readonly number[])[],
): PaddingStats {
  let real = 0;
  let padded = 0;
  for (const batch of batches) {
    let longest = 0;
    for (const i of batch) {
      real += lengths[i]!;
      longest = Math.max(longest, lengths[i]!);
    }
    padded += longest * batch.length;
  }
  return {
    realTokens: real,
    paddedTokens: padded,
    ratio: real === 0 ? 1 : padded / real,
    batches: batches.length,
  };
}

/** Largest working batch size per model key (model path + device), shared by every adapter in the process. */
const learned = new Map<string, number>();

export function learnedBatchSize(modelKey: string): number | undefined {
  return learned.get(modelKey);
}

/** Forgets what was learned (tests). */
export function resetLearnedBatchSizes(): void {
  learned.clear();
}

/**
 * Batch size for one model: fixed when the config gives one; otherwise starts from the largest size
 * already known to work for this model (or `max`) and halves whenever a batch fails, retrying the
 * same rows, down to 1. A failure at size 1 is a real error and propagates. Sizes that worked are
 * remembered per model key.
 */
export class BatchSizer {
  #size: number;
  readonly #auto: boolean;

  constructor(
    readonly modelKey: string,
    config: number | 'auto',
    readonly max = 32,
    /** Padding and token caps applied when lengths are given to runAll. */
    readonly limits: Omit<BucketOptions, 'batchSize'> = {},
  ) {
    this.#auto = config === 'auto';
    this.#size = config === 'auto' ? (learned.get(modelKey) ?? max) : config;
  }

  get size(): number {
    return this.#size;
  }

  get automatic(): boolean {
    return this.#auto;
  }

  /**
   * Runs `run` over `items` in chunks of at most the current size. With `sortedLengths` (ascending,
   * one per item) chunks are length buckets that also respect the padding and token caps. Results
   * come back in item order.
   */
  async runAll<T, R>(
    items: readonly T[],
    run: (chunk: readonly T[]) => Promise<R[]>,
    sortedLengths?: readonly number[],
  ): Promise<R[]> {
    const out: R[] = [];
    let start = 0;
    while (start < items.length) {
      const n = sortedLengths
        ? nextBucketSize(sortedLengths, start, { ...this.limits, batchSize: this.#size })
        : this.#size;
      const chunk = items.slice(start, start + n);
      try {
        out.push(...(await run(chunk)));
        start += chunk.length;
        if (this.#auto && !learned.has(this.modelKey)) learned.set(this.modelKey, this.#size);
      } catch (err) {
        if (!this.#auto || this.#size === 1 || !(err instanceof RuntimeFailure)) throw err;
        // Out of memory or a provider limit: halve and retry the same rows.
        this.#size = Math.max(1, Math.floor(Math.min(this.#size, chunk.length) / 2));
        learned.set(this.modelKey, this.#size);
      }
    }
    return out;
  }
}
