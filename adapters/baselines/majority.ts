/**
 * The floor every model must clear: always answer the most frequent training label. Ties go to the
 * label that comes first in the protocol's label order, so the choice never depends on data order.
 */
import { z } from 'zod';
import { hashValue } from '../../harness/hash.ts';
import type {
  Adapter,
  AdapterFactory,
  AdapterFacts,
  CellContext,
  Example,
  Prediction,
} from '../../harness/types.ts';
import { encodeLabels, loadTrainSplit } from './training-data.ts';

export const majorityConfigSchema = z.strictObject({
  /** Attach the training label distribution as `scores` (a prior, for calibration-style reports). */
  scores: z.boolean().default(true),
  batchSize: z.number().int().positive().default(256),
});

export type MajorityConfig = z.infer<typeof majorityConfigSchema>;

/** The label with the highest count; ties to the earliest label in `labels`. */
export function majorityLabel(
  gold: Int32Array,
  labels: readonly string[],
): { label: string; counts: number[] } {
  const counts = labels.map(() => 0);
  for (const k of gold) counts[k]!++;
  let best = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k]! > counts[best]!) best = k;
  return { label: labels[best]!, counts };
}

interface MajorityCell {
  label: string;
  scores: Record<string, number>;
  facts: AdapterFacts;
}

export class MajorityAdapter implements Adapter {
  readonly type = 'majority';
  readonly batchSize: number;
  readonly #cells = new Map<string, Promise<MajorityCell>>();
  readonly #facts = new Map<string, AdapterFacts>();

  constructor(
    readonly id: string,
    readonly config: MajorityConfig,
  ) {
    this.batchSize = config.batchSize;
  }

  fingerprint(): string {
    return hashValue({ type: this.type, scores: this.config.scores });
  }

  async prepare(ctx: CellContext): Promise<AdapterFacts> {
    return (await this.#cell(ctx)).facts;
  }

  async predict(batch: readonly Example[], ctx: CellContext): Promise<Prediction[]> {
    const cell = await this.#cell(ctx);
    return batch.map((e) => {
      const p: Prediction = { id: e.id, label: cell.label, parse: 'ok' };
      if (this.config.scores) p.scores = { ...cell.scores };
      return p;
    });
  }

  facts(): AdapterFacts {
    return { cells: Object.fromEntries(this.#facts) };
  }

  /** The cell's state, computed once even when batches of one cell arrive concurrently. */
  #cell(ctx: CellContext): Promise<MajorityCell> {
    const key = cellKey(ctx);
    let pending = this.#cells.get(key);
    if (!pending) {
      pending = this.#fit(ctx);
      this.#cells.set(key, pending);
      pending.then(
        (c) => this.#facts.set(key, c.facts),
        () => this.#cells.delete(key),
      );
    }
    return pending;
  }

  async #fit(ctx: CellContext): Promise<MajorityCell> {
    const train = await loadTrainSplit(ctx, this.id);
    const { label, counts } = majorityLabel(encodeLabels(train, ctx.labels, 'train'), ctx.labels);
    const scores = Object.fromEntries(ctx.labels.map((l, k) => [l, counts[k]! / train.length]));
    return {
      label,
      scores,
      facts: {
        label,
        train_examples: train.length,
        train_counts: Object.fromEntries(ctx.labels.map((l, k) => [l, counts[k]!])),
      },
    };
  }
}

/** One adapter serves several cells: state is kept per task and seed. */
export function cellKey(ctx: CellContext): string {
  return `${ctx.task.id}#${ctx.seed}`;
}

export const majorityFactory: AdapterFactory<MajorityConfig> = {
  type: 'majority',
  description:
    'Predicts the most frequent training label (ties: first in protocol label order); the floor of every table.',
  parseConfig: (raw) => majorityConfigSchema.parse(raw ?? {}),
  create: (config) => new MajorityAdapter(config.id, config),
};
