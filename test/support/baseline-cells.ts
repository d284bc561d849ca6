/**
 * Small in-test tasks and cell contexts for the trained baselines: no loader, no runner. The
 * context records which splits the adapter asked for, so tests can prove the evaluated split was
 * never read for fitting or tuning.
 */
import { resolve } from 'node:path';
import { readCsv } from '../../dataset-loaders/csv.ts';
import type { CellContext, Example, MetricName, Protocol, Task, TaskSplit } from '../../harness/types.ts';

export function makeProtocol(
  labels: readonly string[],
  headline: MetricName = 'weighted_f1',
  id = 'toy-3',
): Protocol {
  return {
    id,
    dataset: id.split('-')[0]!,
    description: 'in-test protocol',
    labels,
    splits: { train: ['train'], dev: ['dev'], test: ['test'] },
    mapLabel: (u) => (u.label !== undefined ? { label: u.label } : undefined),
    headline,
    metrics: ['accuracy', 'macro_f1', 'weighted_f1'],
    neutral: labels.includes('neutral') ? 'neutral' : undefined,
    hasContext: false,
  };
}

export function example(id: string, text: string, label: string, dialogueId?: string): Example {
  return { id, text, label, context: [], ...(dialogueId ? { dialogueId } : {}) };
}

export interface TestCell {
  ctx: CellContext;
  /** Every split the adapter asked for, in order. */
  requested: TaskSplit[];
  logs: { info: string[]; warn: string[] };
}

/** A cell evaluating `split` (test by default) with the other splits served from `data`. */
export function makeCell(options: {
  protocol: Protocol;
  data: Partial<Record<TaskSplit, Example[]>>;
  workDir: string;
  seed?: number;
  split?: TaskSplit;
}): TestCell {
  const split = options.split ?? 'test';
  const task: Task = {
    id: split === 'test' ? options.protocol.id : `${options.protocol.id}.${split}`,
    protocol: options.protocol,
    split,
    examples: options.data[split] ?? [],
    dropped: {},
    files: [],
    dataDir: '/nonexistent',
  };
  const requested: TaskSplit[] = [];
  const logs = { info: [] as string[], warn: [] as string[] };
  const ctx: CellContext = {
    task,
    protocol: options.protocol,
    labels: options.protocol.labels,
    seed: options.seed ?? 1,
    workDir: options.workDir,
    log: { info: (m) => logs.info.push(m), warn: (m) => logs.warn.push(m) },
    async loadSplit(s: TaskSplit): Promise<Example[]> {
      requested.push(s);
      // The runner refuses this too; here it is recorded first so a test can see the attempt.
      if (s === split) throw new Error(`asked for the evaluated split ${s}`);
      return options.data[s] ?? [];
    },
  };
  return { ctx, requested, logs };
}

export const MELD_LABELS = ['neutral', 'joy', 'surprise', 'anger', 'sadness', 'disgust', 'fear'] as const;

/** MELD examples straight from the official CSV (current UTF-8 release), labels as written. */
export async function readMeldSplit(dir: string, split: 'train' | 'dev' | 'test'): Promise<Example[]> {
  const file = resolve(dir, `${split}_sent_emo.csv`);
  const out: Example[] = [];
  for await (const row of readCsv(file, {
    required: ['Utterance', 'Emotion', 'Dialogue_ID', 'Utterance_ID'],
  })) {
    const v = row.values;
    out.push(
      example(
        `${split}/${v.Dialogue_ID}/${v.Utterance_ID}`,
        v.Utterance!,
        v.Emotion!,
        `${split}/${v.Dialogue_ID}`,
      ),
    );
  }
  return out;
}
