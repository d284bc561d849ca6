/**
 * What trained baselines read in `prepare`: the train split to fit, and a tuning set (the dev split,
 * or a held-out part of train when dev is the split being evaluated or the protocol has none). The
 * split being evaluated is never requested, so the test examples cannot leak into fitting or tuning.
 */
import { InputError, RuntimeFailure } from '../../harness/errors.ts';
import { hashValue } from '../../harness/hash.ts';
import { Rng } from '../../harness/random.ts';
import type { CellContext, Example } from '../../harness/types.ts';

export type TuningSource = 'dev' | 'train-holdout';

export interface TrainingData {
  /** Examples the final model is fitted on. */
  train: Example[];
  /** Examples hyperparameters are fitted on (all of `train`, or train minus the holdout). */
  fit: Example[];
  /** Examples hyperparameters are chosen on. */
  tune: Example[];
  tuning: TuningSource;
}

/** Share of training dialogues held out for tuning when no dev split can be used. */
export const HOLDOUT_SHARE = 0.2;

export async function loadTrainSplit(ctx: CellContext, adapterId: string): Promise<Example[]> {
  if (ctx.task.split === 'train') {
    throw new RuntimeFailure(
      `adapter ${adapterId} is fitted on the train split, so it cannot be evaluated on ${ctx.task.id}`,
    );
  }
  const train = await ctx.loadSplit('train');
  if (train.length === 0)
    throw new RuntimeFailure(`adapter ${adapterId}: the train split of ${ctx.protocol.id} is empty`);
  return train;
}

export async function loadTrainingData(ctx: CellContext, adapterId: string): Promise<TrainingData> {
  const train = await loadTrainSplit(ctx, adapterId);
  const devUsable = ctx.task.split !== 'dev' && ctx.protocol.splits.dev !== undefined;
  if (devUsable) {
    const dev = await ctx.loadSplit('dev');
    if (dev.length > 0) return { train, fit: train, tune: dev, tuning: 'dev' };
  }
  // Hold out whole dialogues (turns of one dialogue are alike), drawn with the cell's seed.
  const groups = [...new Set(train.map((e) => e.dialogueId ?? e.id))];
  new Rng(ctx.seed).shuffle(groups);
  const held = new Set(groups.slice(0, Math.max(1, Math.round(groups.length * HOLDOUT_SHARE))));
  const fit = train.filter((e) => !held.has(e.dialogueId ?? e.id));
  const tune = train.filter((e) => held.has(e.dialogueId ?? e.id));
  if (fit.length === 0)
    throw new RuntimeFailure(`adapter ${adapterId}: too few training dialogues to hold out a tuning set`);
  ctx.log.info(
    `${adapterId} on ${ctx.task.id}: no dev split to tune on; holding out ${held.size} of ${groups.length} training dialogues (seed ${ctx.seed})`,
  );
  return { train, fit, tune, tuning: 'train-holdout' };
}

/** Gold labels as indices into `labels`; an example whose label is not a protocol label is bad input. */
export function encodeLabels(
  examples: readonly Example[],
  labels: readonly string[],
  split: string,
): Int32Array {
  const index = new Map(labels.map((l, i) => [l, i]));
  const out = new Int32Array(examples.length);
  examples.forEach((e, i) => {
    const k = index.get(e.label);
    if (k === undefined) {
      throw new InputError(
        `${split} example '${e.id}' has label '${e.label}', which is not one of ${labels.join(', ')}`,
      );
    }
    out[i] = k;
  });
  return out;
}

/** Hash of what a fit depends on in the examples (ids, texts, labels), in order. */
export function examplesHash(examples: readonly Example[]): string {
  return hashValue(examples.map((e) => [e.id, e.text, e.label]));
}
