import { DataError, InputError } from './errors.ts';
import { collectGarbageIfLarge } from './gc.ts';
import type {
  ContextTurn,
  DatasetLoader,
  Dialogue,
  Example,
  FileRecord,
  Protocol,
  Task,
  TaskSplit,
  Utterance,
} from './types.ts';

function cacheKey(loader: DatasetLoader, dir: string, split: string): string {
  return `${loader.id}\u0000${dir}\u0000${split}`;
}

/** Task id: the protocol id for the test split (the reported one), `protocol.split` otherwise. */
export function taskId(protocol: string, split: TaskSplit): string {
  return split === 'test' ? protocol : `${protocol}.${split}`;
}

/** Splits a task id into protocol and split. */
export function parseTaskId(id: string): { protocol: string; split: TaskSplit } {
  const m = /^(.*)\.(train|dev|test)$/.exec(id);
  return m ? { protocol: m[1]!, split: m[2] as TaskSplit } : { protocol: id, split: 'test' };
}

interface LoadedLoaderSplit {
  dialogues: Dialogue[];
  files: FileRecord[];
  variant?: string;
}

/**
 * Builds tasks from loaders, caching each loader split so protocols that share a release (meld-7
 * and meld-sentiment-3, sst-2 and sst-5) read its files once.
 */
export class TaskBuilder {
  readonly #cache = new Map<string, Promise<LoadedLoaderSplit>>();

  /** Forgets the loaded releases (the examples built so far keep only what they need). */
  release(): void {
    this.#cache.clear();
  }

  #loadSplit(loader: DatasetLoader, dir: string, split: string): Promise<LoadedLoaderSplit> {
    const key = cacheKey(loader, dir, split);
    let pending = this.#cache.get(key);
    if (!pending) {
      pending = loader.load(dir, split);
      this.#cache.set(key, pending);
    }
    return pending;
  }

  /**
   * Loads every loader split behind `split`, applies the protocol's mapping (drops counted by reason,
   * unknown labels an error naming file and line) and attaches dialogue context.
   */
  async build(
    loader: DatasetLoader,
    protocol: Protocol,
    split: TaskSplit,
    dir: string,
    options: {
      limit?: number;
      /**
       * This is the last use of these loader splits: let go of the loader's objects while the
       * examples are built, so a very large split never holds both at once (memory stays flat).
       */
      consume?: boolean;
      /** false: no dialogue context on the examples (a suite whose protocol classifies utterances alone). */
      context?: false;
    } = {},
  ): Promise<Task> {
    const loaderSplits = protocol.splits[split];
    if (!loaderSplits || loaderSplits.length === 0) {
      throw new InputError(`protocol '${protocol.id}' has no ${split} split`);
    }
    const examples: Example[] = [];
    const dropped: Record<string, number> = {};
    const files: FileRecord[] = [];
    const seen = new Set<string>();
    let variant: string | undefined;
    for (const ls of loaderSplits) {
      const cached = this.#cache.has(cacheKey(loader, dir, ls));
      const loaded = await this.#loadSplit(loader, dir, ls);
      if (options.consume) this.#cache.delete(cacheKey(loader, dir, ls));
      // The parser's garbage goes before the examples are built (only a split parsed just now left
      // any); on a consumed split, the loader's objects go as they are replaced by examples.
      const utterances = loaded.dialogues.reduce((n, d) => n + (d?.utterances.length ?? 0), 0);
      if (!cached) collectGarbageIfLarge(utterances);
      if (!loaded.dialogues.some((d) => d.utterances.length > 0)) {
        // No official release ships an empty split: an emptied or truncated file is bad input.
        throw new DataError(
          loaded.files[0]?.path ?? dir,
          undefined,
          `no utterances in ${loader.id} split '${ls}' (empty file?)`,
        );
      }
      files.push(...loaded.files);
      variant ??= loaded.variant;
      const dialogues = loaded.dialogues as (Dialogue | undefined)[];
      for (let d = 0; d < dialogues.length; d++) {
        const dialogue = dialogues[d]!;
        if (options.consume) dialogues[d] = undefined;
        if (protocol.selectDialogue && !protocol.selectDialogue(dialogue, split)) continue;
        // One small turn list per dialogue, shared by its examples (context is a view of it), so
        // memory stays linear in utterances and the loader's objects can be freed.
        const turns: ContextTurn[] = [];
        for (const u of dialogue.utterances) {
          const example = toExample(protocol, dialogue, u, turns, dropped, options.context !== false);
          turns.push(
            u.speaker === undefined
              ? { id: u.id, text: u.text }
              : { id: u.id, speaker: u.speaker, text: u.text },
          );
          if (!example) continue;
          if (seen.has(example.id)) throw dataError(u, `duplicate example id '${example.id}'`);
          seen.add(example.id);
          examples.push(example);
        }
      }
      if (options.consume) collectGarbageIfLarge(utterances);
    }
    const limited = options.limit !== undefined ? examples.slice(0, options.limit) : examples;
    return {
      id: taskId(protocol.id, split),
      protocol,
      split,
      examples: limited,
      dropped,
      files: dedupeFiles(files),
      variant,
      dataDir: dir,
      ...(options.context === false ? { context: false as const } : {}),
    };
  }
}

/**
 * An example whose `context` is the first `index` turns of its dialogue, sliced when read: adapters
 * that never look at context cost nothing, and a million examples do not hold a million arrays.
 */
class TaskExample implements Example {
  readonly #turns: readonly ContextTurn[];
  readonly #index: number;
  readonly id: string;
  readonly text: string;
  readonly speaker?: string;
  readonly dialogueId?: string;
  readonly label: string;

  constructor(u: Utterance, dialogueId: string, label: string, turns: readonly ContextTurn[], index: number) {
    this.id = u.id;
    this.text = u.text;
    if (u.speaker !== undefined) this.speaker = u.speaker;
    this.dialogueId = dialogueId;
    this.label = label;
    this.#turns = turns;
    this.#index = index;
  }

  get context(): ContextTurn[] {
    return this.#turns.slice(0, this.#index);
  }

  toJSON(): Example {
    return {
      id: this.id,
      text: this.text,
      speaker: this.speaker,
      dialogueId: this.dialogueId,
      context: this.context,
      label: this.label,
    };
  }
}

const NO_TURNS: readonly ContextTurn[] = [];

function toExample(
  protocol: Protocol,
  dialogue: Dialogue,
  u: Utterance,
  context: readonly ContextTurn[],
  dropped: Record<string, number>,
  withContext: boolean,
): Example | undefined {
  if (u.label === undefined) {
    dropped['unlabelled'] = (dropped['unlabelled'] ?? 0) + 1;
    return undefined;
  }
  const mapped = protocol.mapLabel(u);
  if (mapped === undefined) {
    const raw = protocol.labelOf?.(u) ?? { field: 'label', value: u.label };
    throw dataError(
      u,
      `${raw.field} '${raw.value}' is outside the mapping of protocol ${protocol.id} (expected one of: ${protocol.labels.join(', ')})`,
    );
  }
  if ('drop' in mapped) {
    dropped[mapped.drop] = (dropped[mapped.drop] ?? 0) + 1;
    return undefined;
  }
  if (!protocol.labels.includes(mapped.label)) {
    throw dataError(
      u,
      `protocol ${protocol.id} mapped '${u.label}' to '${mapped.label}', which is not one of its labels`,
    );
  }
  if (u.text.trim() === '') throw dataError(u, `utterance '${u.id}' has no text`);
  return protocol.hasContext && withContext
    ? new TaskExample(u, dialogue.id, mapped.label, context, context.length)
    : new TaskExample(u, dialogue.id, mapped.label, NO_TURNS, 0);
}

function dataError(u: Utterance, message: string): DataError {
  const where = u.source?.path ? ` at ${u.source.path}` : '';
  return new DataError(u.source?.file ?? '(unknown file)', u.source?.line, `${message}${where}`);
}

function dedupeFiles(files: FileRecord[]): FileRecord[] {
  const byPath = new Map<string, FileRecord>();
  for (const f of files) byPath.set(f.path, f);
  return [...byPath.values()];
}

/** Label counts of a task, in protocol order (for `datasets --json`). */
export function labelCounts(task: Task): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(task.protocol.labels.map((l) => [l, 0]));
  for (const e of task.examples) counts[e.label] = (counts[e.label] ?? 0) + 1;
  return counts;
}
