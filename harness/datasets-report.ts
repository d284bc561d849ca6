import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HarnessRegistry } from './registry.ts';
import { labelCounts, TaskBuilder } from './tasks.ts';
import { TASK_SPLITS, type TaskSplit } from './types.ts';

export interface SplitReport {
  n: number;
  labels: Record<string, number>;
  dropped: Record<string, number>;
}

export interface DatasetReport {
  id: string;
  title: string;
  dir: string;
  /** "data-dir" when read from --data-dir, "sample" for the bundled sample. */
  source: 'data-dir' | 'sample';
  found: boolean;
  variant?: string;
  present: string[];
  missing: string[];
  licence: string;
  citation: string;
  /** Per protocol and split; a split whose files are missing is absent, and listed in `unavailable`. */
  protocols: Record<string, { splits: Partial<Record<TaskSplit, SplitReport>>; unavailable: TaskSplit[] }>;
}

/**
 * What `emotion-eval datasets` shows: for every registered dataset, which files are present or
 * missing (named exactly), and per protocol and split the number of examples and each label's count.
 */
export async function describeDatasets(
  registry: HarnessRegistry,
  dataDir?: string,
): Promise<DatasetReport[]> {
  const builder = new TaskBuilder();
  const out: DatasetReport[] = [];
  for (const loader of registry.loaders.values()) {
    const dir = dataDir ? join(dataDir, loader.id) : loader.sampleDir;
    const base = {
      id: loader.id,
      title: loader.title,
      licence: loader.licence,
      citation: loader.citation,
      source: dataDir ? ('data-dir' as const) : ('sample' as const),
    };
    if (!dir || !existsSync(dir)) {
      out.push({ ...base, dir: dir ?? '', found: false, present: [], missing: ['(folder)'], protocols: {} });
      continue;
    }
    const detected = await loader.detect(dir);
    const report: DatasetReport = {
      ...base,
      dir,
      found: detected.found,
      variant: detected.variant,
      present: detected.present,
      missing: detected.missing,
      protocols: {},
    };
    const variantFiles = detected.variant ? loader.expectedFiles[detected.variant] : undefined;
    const splitPresent = (loaderSplit: string) =>
      (variantFiles?.[loaderSplit] ?? []).every((f) => detected.present.includes(f));
    for (const protocol of loader.protocols) {
      const entry: DatasetReport['protocols'][string] = { splits: {}, unavailable: [] };
      for (const split of TASK_SPLITS) {
        const loaderSplits = protocol.splits[split];
        if (!loaderSplits) continue;
        if (!loaderSplits.every(splitPresent)) {
          entry.unavailable.push(split);
          continue;
        }
        const task = await builder.build(loader, protocol, split, dir);
        entry.splits[split] = { n: task.examples.length, labels: labelCounts(task), dropped: task.dropped };
      }
      report.protocols[protocol.id] = entry;
    }
    out.push(report);
  }
  return out;
}

/** Plain-text rendering for the terminal. */
export function renderDatasets(reports: readonly DatasetReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    const status = r.found
      ? `found (${r.variant ?? 'release'})`
      : r.present.length > 0
        ? 'incomplete'
        : 'not found';
    lines.push(`${r.id} — ${r.title}: ${status} [${r.source}: ${r.dir}]`);
    if (r.missing.length > 0 && r.present.length > 0) lines.push(`  missing: ${r.missing.join(', ')}`);
    for (const [pid, p] of Object.entries(r.protocols)) {
      for (const [split, s] of Object.entries(p.splits)) {
        const labels = Object.entries(s.labels)
          .map(([l, n]) => `${l} ${n}`)
          .join(', ');
        const dropped = Object.entries(s.dropped)
          .map(([why, n]) => `${why} ${n}`)
          .join(', ');
        lines.push(`  ${pid} ${split}: ${s.n} (${labels})${dropped ? `; dropped: ${dropped}` : ''}`);
      }
      if (p.unavailable.length > 0)
        lines.push(`  ${pid}: ${p.unavailable.join(', ')} unavailable (files missing)`);
    }
  }
  return `${lines.join('\n')}\n`;
}
