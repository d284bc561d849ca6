import { TaskBuilder } from '../../harness/tasks.ts';
import type { DatasetLoader, LoadedSplit, Task, TaskSplit, Utterance } from '../../harness/types.ts';

/** Counts of each value (undefined counted as "undefined"). */
export function countValues(values: readonly (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

export function utterancesOf(split: LoadedSplit): Utterance[] {
  return split.dialogues.flatMap((d) => d.utterances);
}

/** Builds one task through the lead's TaskBuilder and summarises it (label counts, drops). */
export async function buildTask(
  loader: DatasetLoader,
  protocolId: string,
  split: TaskSplit,
  dir: string,
  builder = new TaskBuilder(),
): Promise<{ task: Task; counts: Record<string, number>; dropped: Record<string, number> }> {
  const protocol = loader.protocols.find((p) => p.id === protocolId);
  if (!protocol) throw new Error(`no protocol ${protocolId} in ${loader.id}`);
  const task = await builder.build(loader, protocol, split, dir);
  return { task, counts: countValues(task.examples.map((e) => e.label)), dropped: task.dropped };
}

/** The protocol of `loader` with this id (throws when absent, so a renamed protocol fails loudly). */
export function protocolOf(loader: DatasetLoader, id: string) {
  const p = loader.protocols.find((x) => x.id === id);
  if (!p) throw new Error(`no protocol ${id} in ${loader.id}`);
  return p;
}
