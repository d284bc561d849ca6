/**
 * The public surface of emotion-eval: the contracts a plugin implements and the helpers it may use.
 * Everything else is internal and may change.
 */

export { type CsvOptions, type CsvRow, readCsv } from './dataset-loaders/csv.ts';
export { detectVariants, recordFiles } from './dataset-loaders/detect.ts';
export { repairCp1252, repairLegacyText, stripBom } from './dataset-loaders/text-repair.ts';
export { createRegistry } from './harness/builtins.ts';
export { main } from './harness/cli.ts';
export { ConfigError, DataError, EXIT, InputError, RuntimeFailure } from './harness/errors.ts';
export { fileRecord, hashValue, sha256, stableStringify } from './harness/hash.ts';
export { getSession, type OnnxSession, runSession } from './harness/inference/onnx.ts';
export { definePlugin, type PluginRegister } from './harness/plugins.ts';
export { Rng } from './harness/random.ts';
export { HarnessRegistry, Registry } from './harness/registry.ts';
export { type RunOptions, type RunResult, runEvaluation } from './harness/runner.ts';
export type * from './harness/types.ts';
export { TASK_SPLITS } from './harness/types.ts';
