/**
 * A model folder as `optimum-cli export onnx` writes it: model.onnx beside tokenizer.json,
 * tokenizer_config.json and config.json, and, for a merged LoRA, the adapter_config.json the user
 * copies next to it. Shared by the classifier and causal-LM adapters. Everything is read from the
 * local folder; the tokenizer never touches the network.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';
import { ConfigError, InputError } from '../../harness/errors.ts';
import { fileRecord, sha256 } from '../../harness/hash.ts';

export type JsonObject = Record<string, unknown>;

export interface LoraFacts {
  peft_type: string;
  r?: number;
  lora_alpha?: number;
  target_modules?: unknown;
  base_model_name_or_path?: string;
}

export interface ModelFolder {
  dir: string;
  modelPath: string;
  tokenizer: Tokenizer;
  tokenizerJson: JsonObject;
  tokenizerConfig: JsonObject;
  config: JsonObject;
  /** sha256 of each file that changes outputs. */
  hashes: { model: string; tokenizer: string; tokenizerConfig: string; config: string };
  /** Highest token id the tokenizer can produce, added tokens included. */
  maxTokenId: number;
  /** Merged-LoRA facts from adapter_config.json, when one sits beside the model. */
  lora?: LoraFacts;
}

/** Model-file hashes are costly (gigabytes): remember them per path, size and mtime. */
const modelHashes = new Map<string, string>();

async function hashModelFile(path: string): Promise<string> {
  const s = await stat(path);
  const key = `${path}\u0000${s.size}\u0000${s.mtimeMs}`;
  let h = modelHashes.get(key);
  if (!h) {
    h = (await fileRecord(path)).sha256;
    modelHashes.set(key, h);
  }
  return h;
}

export async function readJsonFile(path: string, what: string): Promise<{ value: JsonObject; hash: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError(`${what} not found`, path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(
      `${what} is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      path,
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new InputError(`${what} is not a JSON object`, path);
  return { value: value as JsonObject, hash: sha256(text) };
}

export async function loadModelFolder(dir: string, modelFile: string): Promise<ModelFolder> {
  if (!existsSync(dir)) throw new InputError('model folder not found', dir);
  const modelPath = resolve(dir, modelFile);
  if (!existsSync(modelPath)) {
    throw new InputError(
      `model file '${modelFile}' not found in the model folder (export with optimum-cli export onnx)`,
      dir,
    );
  }
  const tok = await readJsonFile(join(dir, 'tokenizer.json'), 'tokenizer.json');
  const tokConfigPath = join(dir, 'tokenizer_config.json');
  const tokConfig = existsSync(tokConfigPath)
    ? await readJsonFile(tokConfigPath, 'tokenizer_config.json')
    : { value: {}, hash: sha256('{}') };
  const config = await readJsonFile(join(dir, 'config.json'), 'config.json');
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tok.value, tokConfig.value);
  } catch (err) {
    throw new InputError(
      `tokenizer.json could not be loaded (${err instanceof Error ? err.message : String(err)})`,
      join(dir, 'tokenizer.json'),
    );
  }
  let maxTokenId = -1;
  for (const id of tokenizer.get_vocab(true).values()) maxTokenId = Math.max(maxTokenId, id);
  const folder: ModelFolder = {
    dir,
    modelPath,
    tokenizer,
    tokenizerJson: tok.value,
    tokenizerConfig: tokConfig.value,
    config: config.value,
    hashes: {
      model: await hashModelFile(modelPath),
      tokenizer: tok.hash,
      tokenizerConfig: tokConfig.hash,
      config: config.hash,
    },
    maxTokenId,
  };
  const lora = await readLoraConfig(dir);
  if (lora) folder.lora = lora;
  return folder;
}

/** adapter_config.json of a LoRA merged before export: rank, alpha and target modules for the manifest. */
export async function readLoraConfig(dir: string): Promise<LoraFacts | undefined> {
  const path = join(dir, 'adapter_config.json');
  if (!existsSync(path)) return undefined;
  const { value } = await readJsonFile(path, 'adapter_config.json');
  const peftType = typeof value.peft_type === 'string' ? value.peft_type : 'unknown';
  const facts: LoraFacts = { peft_type: peftType };
  if (typeof value.r === 'number') facts.r = value.r;
  if (typeof value.lora_alpha === 'number') facts.lora_alpha = value.lora_alpha;
  if (value.target_modules !== undefined) facts.target_modules = value.target_modules;
  if (typeof value.base_model_name_or_path === 'string')
    facts.base_model_name_or_path = value.base_model_name_or_path;
  return facts;
}

/**
 * The tokenizer must not produce ids beyond the model's embedding table: such a pair would index
 * out of range inside the graph (or silently read the wrong rows).
 */
export function checkVocabulary(
  folder: ModelFolder,
  modelVocabSize: number | undefined,
  source: string,
): void {
  if (modelVocabSize === undefined) return;
  if (folder.maxTokenId >= modelVocabSize) {
    throw new InputError(
      `tokenizer.json produces token ids up to ${folder.maxTokenId} but the model's embedding has ${modelVocabSize} rows (${source}); the tokenizer does not belong to this model`,
      join(folder.dir, 'tokenizer.json'),
    );
  }
}

/** A special token's string from tokenizer_config.json (plain string or AddedToken object). */
export function specialToken(config: JsonObject, key: string): string | undefined {
  const v = config[key];
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return undefined;
}

/** The padding id: tokenizer_config pad_token, else config.json pad_token_id, else eos, else 0. */
export function padTokenId(folder: ModelFolder): number {
  const pad = specialToken(folder.tokenizerConfig, 'pad_token');
  const id = pad !== undefined ? folder.tokenizer.token_to_id(pad) : undefined;
  if (id !== undefined) return id;
  if (typeof folder.config.pad_token_id === 'number') return folder.config.pad_token_id;
  if (typeof folder.config.eos_token_id === 'number') return folder.config.eos_token_id;
  return 0;
}

/** Resolves a config path against the config file's folder. */
export function resolvePath(baseDir: string, path: string): string {
  return resolve(baseDir, path);
}

/** zod parse whose failure is one ConfigError naming every bad key path. */
export function parseWith<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.map(
    (i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
  );
  throw new ConfigError(`${what} config: ${issues.join('; ')}`);
}

export const deviceSchema = z.enum(['auto', 'cuda', 'cpu']);
export const batchSizeSchema = z.union([z.number().int().positive(), z.literal('auto')]);
