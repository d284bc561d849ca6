/**
 * The contracts every part of emotion-eval plugs into: loaders produce dialogues, protocols turn
 * them into tasks, adapters turn examples into predictions, the runner writes records, the scorer
 * turns records into metrics, the reports read metrics files. Nothing here knows a dataset or a
 * model by name.
 */

/** The three splits a protocol exposes. Loaders may have other split names (IEMOCAP sessions). */
export type TaskSplit = 'train' | 'dev' | 'test';
export const TASK_SPLITS: readonly TaskSplit[] = ['train', 'dev', 'test'];

/** One turn as the release ships it. `label` is the raw label string, before any protocol mapping. */
export interface Utterance {
  /** Stable id from the release's own ids (never a row position that shifts). */
  id: string;
  text: string;
  speaker?: string;
  /** Raw label as written in the file (e.g. "Neutral", "0", "+", "-0.8"). Undefined when unlabelled. */
  label?: string;
  /** Where the utterance came from, for error messages and auditing: file and 1-based line or JSON path. */
  source?: { file: string; line?: number; path?: string };
  /** Anything else a protocol may need (sentiment column, session, annotator votes...). */
  meta?: Record<string, string | number | boolean | null>;
}

/** A dialogue in release order. Datasets without dialogues yield one-utterance dialogues. */
export interface Dialogue {
  id: string;
  utterances: Utterance[];
}

/** A previous turn shown to context-aware adapters. */
export interface ContextTurn {
  id: string;
  speaker?: string;
  text: string;
}

/** The unit of evaluation: one utterance with its gold label (already mapped by the protocol). */
export interface Example {
  id: string;
  text: string;
  speaker?: string;
  dialogueId?: string;
  /** Previous turns of the same dialogue, oldest first (all of them; adapters choose a window). */
  context: ContextTurn[];
  /** Gold label, one of the protocol's labels. */
  label: string;
}

/** Metric names as they appear in metrics JSON (architecture doc, section 5). */
export type MetricName =
  | 'accuracy'
  | 'macro_f1'
  | 'weighted_f1'
  | 'micro_f1'
  | 'micro_f1_excl_neutral'
  | 'ua'
  | 'wa'
  | 'pos_neg_f1'
  | 'parse_rate';

/**
 * Result of mapping a raw label: a protocol label, `null` when the protocol drops the example by
 * rule (counted and reported under `reason`), or `undefined` when the raw label is unknown (an error).
 */
export type LabelMapping = { label: string } | { drop: string } | undefined;

/** A dataset used one published way (e.g. meld-7, iemocap-6, sst-2). */
export interface Protocol {
  id: string;
  dataset: string;
  description: string;
  /** Protocol labels in canonical order (this order is used in confusion matrices and prompts). */
  labels: readonly string[];
  /** Human-readable label names for prompts, when they differ from `labels` (e.g. "somewhat negative"). */
  labelNames?: Readonly<Record<string, string>>;
  /** Synonyms accepted by free-text parsers, per label (lower-case), e.g. joy: ["happy", "happiness"]. */
  synonyms?: Readonly<Record<string, readonly string[]>>;
  /** Loader split names that make up each task split (e.g. IEMOCAP train = Session1..4). */
  splits: Partial<Record<TaskSplit, readonly string[]>>;
  /** Maps one raw utterance to a label, a rule-defined drop, or undefined (unknown label: an error). */
  mapLabel(utterance: Utterance): LabelMapping;
  /** The raw value mapLabel reads, when it is not `utterance.label` (named in error messages). */
  labelOf?(utterance: Utterance): { field: string; value: string | undefined };
  /** Optional filter applied to loader output before mapping (e.g. a loader-split subset by dialogue). */
  selectDialogue?(dialogue: Dialogue, split: TaskSplit): boolean;
  headline: MetricName;
  /** Metrics reported for this protocol (papers' convention), headline included. */
  metrics: readonly MetricName[];
  /** Label excluded by micro_f1_excl_neutral. */
  neutral?: string;
  /** Labels averaged by pos_neg_f1. */
  positive?: string;
  negative?: string;
  /** Whether examples carry dialogue context. */
  hasContext: boolean;
  /** Short notes on comparability with the literature (shown as table footnotes). */
  notes?: readonly string[];
}

/** A file the harness read, with its checksum (goes to the manifest). */
export interface FileRecord {
  path: string;
  sha256: string;
  bytes: number;
}

/** What a loader returns for one of its splits. */
export interface LoadedSplit {
  dialogues: Dialogue[];
  files: FileRecord[];
  /** Which release form was read (e.g. EmoryNLP "json" or "csv"; MELD "current" or "legacy-cp1252"). */
  variant?: string;
  /** Lines the release's own rules say are not data (e.g. IEMOCAP `XX` transcription lines), per reason. */
  skipped?: Record<string, number>;
}

/** Which expected files are present in a data folder. */
export interface DetectResult {
  found: boolean;
  variant?: string;
  /** Paths relative to the dataset folder. */
  present: string[];
  missing: string[];
}

export interface DatasetLoader {
  id: string;
  title: string;
  citation: string;
  licence: string;
  homepage?: string;
  /** Loader split names (e.g. ["train", "dev", "test"] or ["Session1", ..., "Session5"]). */
  splits: readonly string[];
  /** Exact files the official release ships, per variant and loader split, relative to DIR/<id>/. */
  expectedFiles: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** Looks at `dir` (the dataset's own folder) and says which variant is there and what is missing. */
  detect(dir: string): Promise<DetectResult>;
  /** Reads one loader split. Throws DataError (file, line, what was expected) on bad input. */
  load(dir: string, split: string): Promise<LoadedSplit>;
  /**
   * This loader restricted to one form of the release (config `variants: {emorynlp: json}`), for
   * releases whose forms can sit side by side; absent where content tells the forms apart.
   */
  withVariant?(variant: string): DatasetLoader;
  protocols: readonly Protocol[];
  /** The bundled sample folder (official format), used by the default suite and the tests. */
  sampleDir?: string;
}

/** A protocol evaluated on one split, with its examples. The unit a leaderboard column shows. */
export interface Task {
  /** `meld-7` for the test split, `meld-7.dev` for another split. */
  id: string;
  protocol: Protocol;
  split: TaskSplit;
  examples: Example[];
  /** Examples dropped by the protocol's own rules, per reason (e.g. "non-neutral": 541). */
  dropped: Record<string, number>;
  files: FileRecord[];
  variant?: string;
  dataDir: string;
  /** false when the examples were built without their dialogue context (a suite's choice). */
  context?: false;
}

export type ParseStatus = 'ok' | 'unparseable' | 'error';

/**
 * Answers of a cell per parse status. `lenient` counts nearest-label guesses (records with parse
 * "ok" and `lenient: true`, made only when an adapter's config asks for guessing); they are not
 * counted under `ok`, so ok + lenient + unparseable + error = n and parse_rate = ok / n whether
 * guessing is on or off. The key is present only when the cell has guesses.
 */
export type ParseCounts = Record<ParseStatus, number> & { lenient?: number };

/** What an adapter returns for one example. */
export interface Prediction {
  id: string;
  /** A protocol label, or null when the answer maps to none (unparseable) or the call failed (error). */
  label: string | null;
  /** Optional score per label (probabilities or log-likelihoods). */
  scores?: Record<string, number>;
  /** Raw model text, kept for auditing and re-parsing. */
  raw?: string;
  parse: ParseStatus;
  /** Error text when parse = "error". */
  error?: string;
  /**
   * True when the label is a nearest-label guess (a lenient parser, on request): the label is scored
   * as the prediction, but the answer counts under parse_counts.lenient, not as parsed.
   */
  lenient?: boolean;
  latencyMs?: number;
  /** Whether the answer came from the response cache (served adapters). */
  cached?: boolean;
}

/** One line of predictions/<task>/<adapter>/seed-<n>.jsonl. `score` needs only id, gold and pred. */
export interface PredictionRecord {
  id: string;
  gold: string;
  pred: string | null;
  parse: ParseStatus;
  dialogueId?: string;
  scores?: Record<string, number>;
  raw?: string;
  error?: string;
  lenient?: boolean;
  latencyMs?: number;
  /** The example's text, written by the runner so reports can show misclassified examples. */
  text?: string;
  /** The example's speaker, when the dataset has one. */
  speaker?: string;
  /** Previous turns of the dialogue, oldest first (for the HTML report's example browser). */
  context?: { speaker?: string; text: string }[];
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
}

/** Everything an adapter sees about the cell it is working on. */
export interface CellContext {
  task: Task;
  protocol: Protocol;
  labels: readonly string[];
  seed: number;
  /** Per-cell scratch folder inside the run (fitted models live here, so a resumed run reuses them). */
  workDir: string;
  log: Logger;
  /** Training and dev examples of the same protocol, loaded on demand (for fit and few-shot draws). */
  loadSplit(split: TaskSplit): Promise<Example[]>;
  /** Aborted when the run is interrupted. */
  signal?: AbortSignal;
}

/** Facts an adapter reports for the manifest (device used, LoRA rank, chosen hyperparameters...). */
export type AdapterFacts = Record<string, unknown>;

export interface Adapter {
  id: string;
  type: string;
  /** Hash of everything that changes outputs: model file hash, endpoint, template hash, decoding. */
  fingerprint(): string;
  /** Called once per cell before predict; trained baselines fit here (train to fit, dev to tune). */
  prepare?(ctx: CellContext): Promise<AdapterFacts | undefined>;
  predict(batch: readonly Example[], ctx: CellContext): Promise<Prediction[]>;
  /** Preferred batch size for the runner. */
  batchSize?: number;
  /** How many batches may be in flight at once (served adapters). */
  concurrency?: number;
  /** Facts for the manifest, collected after the run. */
  facts?(): AdapterFacts;
  /** One line for the end of a run (e.g. requests, retries and errors per endpoint), if there is news. */
  summary?(): string | undefined;
  close?(): Promise<void>;
}

/** Environment handed to adapter factories. */
export interface AdapterEnv {
  /** Folder the config file lives in (relative paths in adapter configs resolve against it). */
  baseDir: string;
  log: Logger;
  /** Requested device for in-process inference. */
  device: 'auto' | 'cuda' | 'cpu';
  /** Folder for the response cache. */
  cacheDir: string;
  /** Prompt templates known to the registry (built-in and plugins); prompt adapters default to the built-ins. */
  prompts?: readonly PromptTemplate[];
}

/** A registered adapter type: validates its config and creates adapters. */
export interface AdapterFactory<C = Record<string, unknown>> {
  type: string;
  description: string;
  /** Validates and normalises the adapter's config (a zod schema's parse, typically). */
  parseConfig(raw: unknown): C;
  create(config: C & { id: string }, env: AdapterEnv): Adapter | Promise<Adapter>;
}

/** Configuration of one adapter in a run config. `type` picks the factory. */
export interface AdapterConfig {
  id: string;
  type: string;
  [key: string]: unknown;
}

export interface Suite {
  id: string;
  description: string;
  /** Protocol ids (test split) or task ids (`protocol.split`). */
  tasks: readonly string[];
  /** Adapters run on every task when the config names none. */
  adapters: readonly AdapterConfig[];
  /** "samples" runs on the bundled samples unless --data-dir is given. */
  data?: 'samples';
  /** false: examples carry no dialogue context (the suite's paper classifies utterances alone). */
  context?: false;
}

/** A confidence interval (percentile bootstrap unless `method` says otherwise). */
export interface Interval {
  low: number;
  high: number;
  level: number;
  method: string;
  resamples?: number;
  unit?: 'dialogue' | 'utterance';
}

export interface PerClass {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Contents of metrics/<task>/<adapter>/seed-<n>.json. */
export interface MetricsFile {
  task: string;
  protocol: string;
  adapter: string;
  seed: number;
  n: number;
  headline: MetricName;
  labels: string[];
  /** Every metric of section 5 that applies (numbers). */
  metrics: Partial<Record<MetricName, number>>;
  per_class: Record<string, PerClass>;
  /** Rows = gold, columns = predicted; the last column `<none>` counts unparseable/error answers. */
  confusion: { labels: string[]; matrix: number[][] };
  ci?: Partial<Record<MetricName, Interval>>;
  parse_counts: ParseCounts;
  /** The protocol's neutral/positive/negative labels, so `compare` can recompute every metric. */
  neutral?: string;
  positive?: string;
  negative?: string;
}

/** One cell in summary.json. */
export interface SummaryCell {
  task: string;
  protocol: string;
  adapter: string;
  seed: number;
  headline: MetricName;
  value: number;
  ci?: Interval;
  n: number;
  parse_rate: number;
  /** Nearest-label guesses among the n answers (parse_counts.lenient); absent when there are none. */
  lenient?: number;
  metrics: Partial<Record<MetricName, number>>;
}

export interface Summary {
  run_id: string;
  created: string;
  cells: SummaryCell[];
}

/** Contents of manifest.json. */
export interface Manifest {
  run_id: string;
  config_hash: string;
  /**
   * Hash of each part of what config_hash covers (tasks, seeds, settings; adapters one by one), so a
   * refused resume can say what changed.
   */
  config_parts?: Record<string, string>;
  config: unknown;
  /** emotion-eval's own checkout: the code that made the numbers (commit null for an installed package). */
  git: { commit: string | null; dirty: boolean | null };
  /** The user's project (config, plugins) when it is another git checkout. */
  project_git?: { commit: string | null; dirty: boolean | null };
  packages: Record<string, string>;
  node: string;
  host: { hostname: string; platform: string; arch: string; cpus: number };
  started: string;
  finished: string | null;
  seeds: number[];
  datasets: Record<string, { dir: string; variant?: string; files: FileRecord[] }>;
  tasks: Record<
    string,
    {
      protocol: string;
      split: TaskSplit;
      /** Examples evaluated by this run (its shard's part when sharded). */
      n: number;
      dropped: Record<string, number>;
      /** Examples of the whole task and the sha256 of their sorted ids: `merge` checks shards cover them exactly. */
      n_total?: number;
      ids_sha256?: string;
      /** false: the examples carried no dialogue context (the suite's choice). */
      context?: false;
    }
  >;
  /** Hash of the config without the shard: equal across the shards of one sharded run. */
  plan_hash?: string;
  /** Run ids of the shards a merged run was made from. */
  merged_from?: string[];
  /** Set when the run is one shard of a sharded run (`run --shard I/N`). */
  shard?: { index: number; count: number } | null;
  adapters: Record<
    string,
    {
      type: string;
      fingerprint: string;
      facts: Record<string, unknown>;
      /**
       * Answers per parse status over the adapter's finished cells, summed from their metrics (so
       * recomputed from the predictions files: a resumed or re-run evaluation keeps earlier answers).
       */
      parse_counts?: ParseCounts;
    }
  >;
  /** Per-cell facts reported by adapters (device used, chosen C, fitted model hash...). */
  cells: Record<string, AdapterFacts>;
}

/** Gold and predicted labels as indices into `labels` (-1 = no label: unparseable or error). */
export interface EncodedOutcomes {
  labels: readonly string[];
  gold: Int32Array;
  pred: Int32Array;
  /** 1 where the answer parsed ('ok'), else 0; absent means "parsed iff pred >= 0" (for parse_rate). */
  parseOk?: Uint8Array;
}

/** A registered metric: computed from encoded outcomes, so bootstrap resamples stay cheap. */
export interface MetricDefinition {
  name: string;
  description: string;
  compute(o: EncodedOutcomes, protocol: Pick<Protocol, 'neutral' | 'positive' | 'negative'>): number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What a prompt template renders for one example. */
export interface RenderedPrompt {
  /** For chat APIs and chat templates. */
  messages: ChatMessage[];
  /** For completion APIs: the same prompt as one string. */
  text: string;
}

export interface PromptInput {
  example: Example;
  protocol: Protocol;
  /** Demonstrations drawn from train (k-shot), already chosen with the run's seed. */
  shots: readonly Example[];
  /** How many previous turns to show (templates that use context). */
  contextTurns: number;
}

export interface PromptTemplate {
  id: string;
  description: string;
  /** sha256 of the template's text/definition: goes into adapter fingerprints and the manifest. */
  hash: string;
  render(input: PromptInput): RenderedPrompt;
}
