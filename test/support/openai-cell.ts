/** A protocol, task and cell context for tests of served adapters (no dataset needed). */
import type { AdapterEnv, CellContext, Example, Protocol, Task } from '../../harness/types.ts';

export function testProtocol(overrides: Partial<Protocol> = {}): Protocol {
  return {
    id: 'emo-3',
    dataset: 'test',
    description: 'three emotions',
    labels: ['neutral', 'joy', 'sadness'],
    synonyms: { joy: ['happy', 'happiness'], sadness: ['sad'] },
    splits: {},
    mapLabel: () => undefined,
    headline: 'accuracy',
    metrics: ['accuracy'],
    hasContext: true,
    ...overrides,
  };
}

export function example(id: string, text: string, label: string, extra: Partial<Example> = {}): Example {
  return { id, text, label, context: [], ...extra };
}

export interface TestLog {
  infos: string[];
  warns: string[];
  info(msg: string): void;
  warn(msg: string): void;
}

export function testLog(): TestLog {
  const log: TestLog = {
    infos: [],
    warns: [],
    info: (m) => log.infos.push(m),
    warn: (m) => log.warns.push(m),
  };
  return log;
}

export function testCell(
  examples: Example[],
  options: {
    protocol?: Protocol;
    seed?: number;
    train?: Example[];
    signal?: AbortSignal;
    taskId?: string;
  } = {},
): CellContext {
  const protocol = options.protocol ?? testProtocol();
  const task: Task = {
    id: options.taskId ?? protocol.id,
    protocol,
    split: 'test',
    examples,
    dropped: {},
    files: [],
    dataDir: '/nonexistent',
  };
  return {
    task,
    protocol,
    labels: protocol.labels,
    seed: options.seed ?? 1,
    workDir: '/nonexistent',
    log: testLog(),
    loadSplit: async () => options.train ?? [],
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

export function testEnv(cacheDir: string, baseDir = cacheDir): AdapterEnv & { log: TestLog } {
  return { baseDir, cacheDir, device: 'cpu', log: testLog() };
}
