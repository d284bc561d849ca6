import { describe, expect, it } from 'vitest';
import { DataError, InputError } from '../harness/errors.ts';
import { parseTaskId, TaskBuilder, taskId } from '../harness/tasks.ts';
import type { DatasetLoader, Dialogue, Protocol } from '../harness/types.ts';

function loaderWith(dialogues: Record<string, Dialogue[]>, protocol: Partial<Protocol> = {}): DatasetLoader {
  const p: Protocol = {
    id: 'p-3',
    dataset: 'synthetic',
    description: 'synthetic',
    labels: ['pos', 'neg', 'neu'],
    splits: { train: ['train'], test: ['test'] },
    mapLabel: (u) =>
      u.label === 'x'
        ? { drop: 'ambiguous' }
        : ['pos', 'neg', 'neu'].includes(u.label!)
          ? { label: u.label! }
          : undefined,
    headline: 'accuracy',
    metrics: ['accuracy'],
    hasContext: true,
    ...protocol,
  };
  let loads = 0;
  const loader: DatasetLoader & { loads: () => number } = {
    id: 'synthetic',
    title: 'synthetic',
    citation: '',
    licence: '',
    splits: ['train', 'test'],
    expectedFiles: {},
    detect: async () => ({ found: true, present: [], missing: [] }),
    load: async (_dir, split) => {
      loads++;
      return { dialogues: dialogues[split] ?? [], files: [] };
    },
    protocols: [p],
    loads: () => loads,
  };
  return loader;
}

const u = (id: string, text: string, label: string | undefined, speaker = 'A', line = 2) => ({
  id,
  text,
  label,
  speaker,
  source: { file: 'f.csv', line },
});

describe('task builder', () => {
  it('maps labels, counts protocol drops, and gives each example the previous turns (dropped ones included)', async () => {
    const loader = loaderWith({
      test: [
        { id: 'd1', utterances: [u('t1', 'hi', 'neu'), u('t2', 'hmm', 'x', 'B'), u('t3', 'great', 'pos')] },
        { id: 'd2', utterances: [u('t4', 'bad', 'neg')] },
      ],
    });
    const task = await new TaskBuilder().build(loader, loader.protocols[0]!, 'test', '/data');
    expect(task.id).toBe('p-3');
    expect(task.examples.map((e) => [e.id, e.label])).toEqual([
      ['t1', 'neu'],
      ['t3', 'pos'],
      ['t4', 'neg'],
    ]);
    expect(task.dropped).toEqual({ ambiguous: 1 });
    expect(task.examples[1]!.context.map((c) => c.text)).toEqual(['hi', 'hmm']);
    expect(task.examples[2]!.context).toEqual([]);
    expect(task.examples[1]!.dialogueId).toBe('d1');
  });

  it('gives no context when the protocol says it has none', async () => {
    const loader = loaderWith(
      { test: [{ id: 'd1', utterances: [u('t1', 'hi', 'neu'), u('t2', 'great', 'pos')] }] },
      { hasContext: false },
    );
    const task = await new TaskBuilder().build(loader, loader.protocols[0]!, 'test', '/data');
    expect(task.examples[1]!.context).toEqual([]);
  });

  it('an unknown label is an error naming file, line and the expected labels', async () => {
    const loader = loaderWith({ test: [{ id: 'd1', utterances: [u('t1', 'hi', 'happy', 'A', 7)] }] });
    const build = new TaskBuilder().build(loader, loader.protocols[0]!, 'test', '/data');
    await expect(build).rejects.toThrow(DataError);
    await expect(new TaskBuilder().build(loader, loader.protocols[0]!, 'test', '/data')).rejects.toThrow(
      "f.csv:7: label 'happy' is outside the mapping of protocol p-3 (expected one of: pos, neg, neu)",
    );
  });

  it('an utterance without text and a duplicate id are errors', async () => {
    const empty = loaderWith({ test: [{ id: 'd1', utterances: [u('t1', '  ', 'pos')] }] });
    await expect(new TaskBuilder().build(empty, empty.protocols[0]!, 'test', '/d')).rejects.toThrow(
      /has no text/,
    );
    const dup = loaderWith({ test: [{ id: 'd1', utterances: [u('t1', 'a', 'pos'), u('t1', 'b', 'neg')] }] });
    await expect(new TaskBuilder().build(dup, dup.protocols[0]!, 'test', '/d')).rejects.toThrow(
      /duplicate example id 't1'/,
    );
  });

  it('a split the protocol lacks is bad input', async () => {
    const loader = loaderWith({});
    await expect(new TaskBuilder().build(loader, loader.protocols[0]!, 'dev', '/d')).rejects.toThrow(
      InputError,
    );
  });

  it('selectDialogue splits one loader split into train and dev, and the loader split is read once', async () => {
    const loader = loaderWith(
      {
        train: [
          { id: 'd1', utterances: [u('a', 'x1', 'pos')] },
          { id: 'd2', utterances: [u('b', 'x2', 'neg')] },
          { id: 'd3', utterances: [u('c', 'x3', 'neu')] },
        ],
      },
      {
        splits: { train: ['train'], dev: ['train'], test: ['test'] },
        selectDialogue: (d, split) => (d.id === 'd2') === (split === 'dev'),
      },
    ) as DatasetLoader & { loads: () => number };
    const builder = new TaskBuilder();
    const train = await builder.build(loader, loader.protocols[0]!, 'train', '/d');
    const dev = await builder.build(loader, loader.protocols[0]!, 'dev', '/d');
    expect(train.examples.map((e) => e.id)).toEqual(['a', 'c']);
    expect(dev.examples.map((e) => e.id)).toEqual(['b']);
    expect(dev.id).toBe('p-3.dev');
    expect(loader.loads()).toBe(1);
  });

  it('task ids round-trip', () => {
    expect(parseTaskId(taskId('meld-7', 'dev'))).toEqual({ protocol: 'meld-7', split: 'dev' });
    expect(parseTaskId(taskId('meld-7', 'test'))).toEqual({ protocol: 'meld-7', split: 'test' });
  });
});
