import { isAbsolute, join, resolve } from 'node:path';
import type { RunConfigFile } from './config.ts';
import { parseAdapterConfig } from './config.ts';
import { ConfigError, InputError, unknownName } from './errors.ts';
import type { HarnessRegistry } from './registry.ts';
import { parseTaskId } from './tasks.ts';
import type { AdapterConfig, DatasetLoader, Protocol, TaskSplit } from './types.ts';

/** One task to evaluate: which loader, protocol, split and data folder. */
export interface PlannedTask {
  loader: DatasetLoader;
  protocol: Protocol;
  split: TaskSplit;
  /** The dataset's own folder (DATA/<id>/ or the bundled sample). */
  dir: string;
  /** Whether `dir` is the bundled sample. */
  sample: boolean;
  /** false: build the examples without dialogue context (the suite's protocol uses none). */
  context?: false;
}

export interface PlannedAdapter {
  config: AdapterConfig;
  /** The factory-validated config. */
  parsed: unknown;
}

export interface Plan {
  label: string;
  tasks: PlannedTask[];
  adapters: PlannedAdapter[];
  dataDir?: string;
}

/**
 * Checks `variants` (dataset id -> form of its release) against the registry: an unknown dataset,
 * or one whose forms cannot be chosen (one form, or forms told apart by content), is bad input.
 */
export function checkVariants(registry: HarnessRegistry, variants?: Readonly<Record<string, string>>): void {
  for (const id of Object.keys(variants ?? {})) {
    if (!registry.loaders.has(id))
      throw new InputError(`variants: ${unknownName('dataset', id, registry.loaders.ids())}`);
    loaderForm(registry.loaders.get(id), variants);
  }
}

/** The loader for the form `variants` names for it (its own when none is named). */
export function loaderForm(
  loader: DatasetLoader,
  variants?: Readonly<Record<string, string>>,
): DatasetLoader {
  const form = variants?.[loader.id];
  if (form === undefined) return loader;
  if (!loader.withVariant)
    throw new InputError(
      `variants.${loader.id}: dataset '${loader.id}' has no forms to choose from (one form, or forms told apart by their content)`,
    );
  return loader.withVariant(form);
}

/**
 * The error for a name that is no dataset and no task id. A name with a split (`meld-7.tset`) can
 * only be a protocol's task, since datasets take no split: it is matched against protocols only.
 */
function unknownTask(registry: HarnessRegistry, name: string): string {
  const protocols = registry.protocols.ids();
  return unknownName(
    'dataset or protocol',
    name,
    name.includes('.') ? protocols : [...registry.loaders.ids(), ...protocols],
  );
}

/**
 * Resolves a config into tasks and adapters. Selection rules: a suite gives its tasks, filtered by
 * `datasets` when both are given; `datasets` alone may name dataset ids (their primary protocol, the
 * first they declare), protocol ids, or `protocol.split` task ids. Nothing selected means the default suite.
 */
export function planRun(
  registry: HarnessRegistry,
  config: RunConfigFile,
  baseDir: string,
  file?: string,
  adapterIds?: readonly string[],
): Plan {
  checkVariants(registry, config.variants);
  const suiteId = config.suite ?? (config.datasets ? undefined : 'default');
  const suite = suiteId ? registry.suites.get(suiteId) : undefined;
  const split: TaskSplit = config.split ?? 'test';

  let taskIds: string[];
  if (suite) {
    taskIds = [...suite.tasks];
    if (config.datasets) {
      const wanted = config.datasets;
      for (const d of wanted) {
        if (!registry.loaders.has(d) && !registry.protocols.has(parseTaskId(d).protocol)) {
          throw new InputError(unknownTask(registry, d));
        }
      }
      taskIds = taskIds.filter((t) => {
        const p = registry.protocols.has(parseTaskId(t).protocol)
          ? registry.protocols.get(parseTaskId(t).protocol)
          : undefined;
        return (
          wanted.includes(t) || wanted.includes(parseTaskId(t).protocol) || (p && wanted.includes(p.dataset))
        );
      });
      if (taskIds.length === 0) {
        throw new InputError(
          `suite '${suite.id}' has no task of ${wanted.join(', ')}; its tasks: ${suite.tasks.join(', ')}`,
        );
      }
    }
  } else {
    taskIds = (config.datasets ?? []).map((d) => {
      if (registry.loaders.has(d)) {
        const first = registry.loaders.get(d).protocols[0];
        if (!first) throw new InputError(`dataset '${d}' declares no protocol`);
        return first.id;
      }
      if (registry.protocols.has(parseTaskId(d).protocol)) return d;
      throw new InputError(unknownTask(registry, d));
    });
  }

  const dataDir = config.dataDir ?? process.env.EMOTION_EVAL_DATA;
  const absData = dataDir ? (isAbsolute(dataDir) ? dataDir : resolve(baseDir, dataDir)) : undefined;
  const tasks: PlannedTask[] = [];
  const seen = new Set<string>();
  for (const id of taskIds) {
    const parsed = parseTaskId(id);
    const protocolId = registry.protocols.has(id) ? id : parsed.protocol;
    const taskSplit = registry.protocols.has(id) ? split : parsed.split;
    const protocol = registry.protocols.get(protocolId);
    const loader = loaderForm(registry.loaders.get(protocol.dataset), config.variants);
    const key = `${protocol.id}.${taskSplit}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!absData && !loader.sampleDir) {
      throw new InputError(
        `dataset '${loader.id}' has no bundled sample; give --data-dir DIR with DIR/${loader.id}/`,
      );
    }
    tasks.push({
      loader,
      protocol,
      split: taskSplit,
      dir: absData ? join(absData, loader.id) : loader.sampleDir!,
      sample: !absData,
      ...(suite?.context === false ? { context: false as const } : {}),
    });
  }

  let adapterConfigs = config.adapters ?? suite?.adapters ?? registry.suites.get('default').adapters;
  if (adapterIds) {
    const known = adapterConfigs.map((a) => a.id);
    for (const id of adapterIds)
      if (!known.includes(id)) throw new InputError(unknownName('adapter', id, known));
    adapterConfigs = adapterConfigs.filter((a) => adapterIds.includes(a.id));
  }
  const adapters = adapterConfigs.map((a, i) => {
    if (!registry.adapters.has(a.type)) {
      throw new ConfigError(
        `adapters[${i}].type: ${unknownName('adapter type', a.type, registry.adapters.ids())}`,
        file,
      );
    }
    const factory = registry.adapters.get(a.type);
    return { config: a, parsed: parseAdapterConfig((raw) => factory.parseConfig(raw), a, i, file) };
  });

  const label = suite ? suite.id : (config.datasets ?? []).join('+').replace(/[^A-Za-z0-9_.+-]/g, '_');
  return { label, tasks, adapters, dataDir: absData };
}
