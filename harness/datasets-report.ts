import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkVariants, loaderForm } from './plan.ts';
import type { HarnessRegistry } from './registry.ts';
import { labelCounts, TaskBuilder } from './tasks.ts';
import { type DatasetLoader, TASK_SPLITS, type TaskSplit } from './types.ts';

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
  /** Whether the dataset's folder exists at all (when it does not, `missing` names what belongs in it). */
  folder: boolean;
  found: boolean;
  variant?: string;
  present: string[];
  /** Expected files that are not there, relative to `dir` (all of them when the folder is absent or empty). */
  missing: string[];
  /**
   * When nothing was found: the files of the release's other forms, by variant, where they differ
   * from those in `missing` (EmoryNLP's JSON release besides its CSV one), so either can be supplied.
   */
  alternatives?: Record<string, string[]>;
  licence: string;
  citation: string;
  /** Per protocol and split; a split whose files are missing is absent, and listed in `unavailable`. */
  protocols: Record<string, { splits: Partial<Record<TaskSplit, SplitReport>>; unavailable: TaskSplit[] }>;
  /**
   * Lines and files the loader skipped because the release's own rules say they are not data (IEMOCAP
   * `XX` transcription lines...), per loader split read and reason. Kept per loader split, not per
   * protocol split: train and dev are often cut from the same loader splits (IEMOCAP Sessions 1-4),
   * so a per-split figure would count the same lines twice.
   */
  skipped: Record<string, Record<string, number>>;
}

/** A variant's files, each once, in declaration order. */
function filesOf(perSplit: Readonly<Record<string, readonly string[]>>): string[] {
  return [...new Set(Object.values(perSplit).flat())];
}

/**
 * What belongs in a dataset folder when none of it is there: the first variant's files (the
 * preferred form; the one detectVariants names for an empty folder), plus every other form whose
 * files differ, so the report names exact files instead of just "the folder".
 */
function expectedWhenEmpty(
  loader: DatasetLoader,
  reported?: string,
): { missing: string[]; alternatives?: Record<string, string[]> } {
  const variants = Object.entries(loader.expectedFiles);
  const main = variants.find(([v]) => v === reported) ?? variants[0];
  if (!main) return { missing: [] };
  const missing = filesOf(main[1]);
  const key = (files: readonly string[]) => [...files].sort().join('\u0000');
  const seen = new Set([key(missing)]);
  const alternatives: Record<string, string[]> = {};
  for (const [variant, perSplit] of variants) {
    const files = filesOf(perSplit);
    if (seen.has(key(files))) continue;
    seen.add(key(files));
    alternatives[variant] = files;
  }
  return Object.keys(alternatives).length > 0 ? { missing, alternatives } : { missing };
}

/**
 * The same loader, noting what each loader split it reads reports as skipped; the task builder keeps
 * only the dialogues, so the counts are taken on their way through.
 */
function recordingSkips(loader: DatasetLoader, skipped: Map<string, Record<string, number>>): DatasetLoader {
  return {
    ...loader,
    async load(dir, split) {
      const loaded = await loader.load(dir, split);
      if (loaded.skipped && Object.keys(loaded.skipped).length > 0) skipped.set(split, { ...loaded.skipped });
      return loaded;
    },
  };
}

/**
 * What `emotion-eval datasets` shows: for every registered dataset, which files are present or
 * missing (named exactly), per protocol and split the number of examples and each label's count, and
 * what the loader skipped as not data.
 */
export async function describeDatasets(
  registry: HarnessRegistry,
  dataDir?: string,
  variants?: Readonly<Record<string, string>>,
): Promise<DatasetReport[]> {
  checkVariants(registry, variants);
  const builder = new TaskBuilder();
  const out: DatasetReport[] = [];
  for (const registered of registry.loaders.values()) {
    const skips = new Map<string, Record<string, number>>();
    const loader = recordingSkips(loaderForm(registered, variants), skips);
    const dir = dataDir ? join(dataDir, loader.id) : loader.sampleDir;
    const base = {
      id: loader.id,
      title: loader.title,
      licence: loader.licence,
      citation: loader.citation,
      source: dataDir ? ('data-dir' as const) : ('sample' as const),
    };
    if (!dir || !existsSync(dir)) {
      out.push({
        ...base,
        dir: dir ?? '',
        folder: false,
        found: false,
        present: [],
        ...expectedWhenEmpty(loader),
        protocols: {},
        skipped: {},
      });
      continue;
    }
    const detected = await loader.detect(dir);
    const report: DatasetReport = {
      ...base,
      dir,
      folder: true,
      found: detected.found,
      variant: detected.variant,
      present: detected.present,
      missing: detected.missing,
      protocols: {},
      skipped: {},
    };
    if (!detected.found && detected.present.length === 0) {
      // An empty folder: the same names as an absent one (a plugin's detect may list none).
      Object.assign(report, expectedWhenEmpty(loader, detected.variant));
    }
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
    // In the loader's split order, whatever order the protocols read them in.
    for (const split of loader.splits) {
      const counts = skips.get(split);
      if (counts) report.skipped[split] = counts;
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
    if (r.missing.length > 0)
      lines.push(`  missing: ${r.missing.join(', ')}${r.folder ? '' : ' (no such folder)'}`);
    for (const [variant, files] of Object.entries(r.alternatives ?? {}))
      lines.push(`  or, as the ${variant} form: ${files.join(', ')}`);
    for (const [split, counts] of Object.entries(r.skipped)) {
      const what = Object.entries(counts)
        .map(([why, n]) => `${why} ${n}`)
        .join(', ');
      lines.push(`  ${split} skipped, not data by the release's rules: ${what}`);
    }
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
