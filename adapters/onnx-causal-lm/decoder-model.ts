/**
 * What the causal-LM adapter needs to know about a decoder exported with past key values
 * (Optimum `text-generation-with-past`: inputs input_ids, attention_mask, optional position_ids,
 * past_key_values.N.key/value [batch, kv_heads, past_len, head_dim]; outputs logits,
 * present.N.key/value). Read from the session's own input metadata where the export fixed the
 * sizes, and from config.json otherwise; the two must agree.
 */
import { join } from 'node:path';
import { InputError } from '../../harness/errors.ts';
import type { OnnxSession } from '../../harness/inference/onnx.ts';
import type { ModelFolder } from '../onnx-classifier/model-folder.ts';
import type { FloatType } from '../onnx-classifier/tensor-data.ts';

export interface DecoderModel {
  handle: OnnxSession;
  layers: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number | undefined;
  maxPositions: number | undefined;
  hasPositionIds: boolean;
  /** Older merged Optimum decoders take a boolean switch between the with- and without-past branches. */
  hasUseCacheBranch: boolean;
  kvType: FloatType;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

export function describeDecoder(handle: OnnxSession, folder: ModelFolder): DecoderModel {
  const configFile = join(folder.dir, 'config.json');
  const modelFile = handle.modelPath;
  for (const name of ['input_ids', 'attention_mask']) {
    if (!handle.inputNames.includes(name)) {
      throw new InputError(
        `the decoder has no '${name}' input (inputs: ${handle.inputNames.join(', ')})`,
        modelFile,
      );
    }
  }
  if (!handle.outputNames.includes('logits')) {
    throw new InputError(
      `the decoder has no 'logits' output (outputs: ${handle.outputNames.join(', ')})`,
      modelFile,
    );
  }
  const layerIds = new Set<number>();
  for (const n of handle.inputNames) {
    const m = PAST.exec(n);
    if (m) layerIds.add(Number(m[1]));
  }
  if (layerIds.size === 0) {
    throw new InputError(
      'the decoder has no past_key_values.N.key/value inputs: export it with --task text-generation-with-past',
      modelFile,
    );
  }
  const layers = layerIds.size;
  for (let l = 0; l < layers; l++) {
    for (const kv of ['key', 'value']) {
      if (!handle.inputNames.includes(`past_key_values.${l}.${kv}`)) {
        throw new InputError(`the decoder lacks input past_key_values.${l}.${kv}`, modelFile);
      }
      if (!handle.outputNames.includes(`present.${l}.${kv}`)) {
        throw new InputError(`the decoder lacks output present.${l}.${kv}`, modelFile);
      }
    }
  }
  const cfg = folder.config;
  const num = (k: string) => (typeof cfg[k] === 'number' ? (cfg[k] as number) : undefined);
  const cfgLayers = num('num_hidden_layers') ?? num('n_layer') ?? num('num_layers');
  if (cfgLayers !== undefined && cfgLayers !== layers) {
    throw new InputError(
      `config.json says ${cfgLayers} layers but the ONNX model has ${layers} past_key_values layers`,
      configFile,
    );
  }
  const heads = num('num_attention_heads') ?? num('n_head');
  const cfgKvHeads = num('num_key_value_heads') ?? heads;
  const hidden = num('hidden_size') ?? num('n_embd');
  const cfgHeadDim = num('head_dim') ?? (hidden !== undefined && heads ? hidden / heads : undefined);
  const meta = metadataOf(handle, 'past_key_values.0.key');
  const metaKv = typeof meta?.shape[1] === 'number' ? meta.shape[1] : undefined;
  const metaHd = typeof meta?.shape[3] === 'number' ? meta.shape[3] : undefined;
  const kvHeads = agree('key/value heads', metaKv, cfgKvHeads, modelFile);
  const headDim = agree('head dimension', metaHd, cfgHeadDim, modelFile);
  if (kvHeads === undefined || headDim === undefined) {
    throw new InputError(
      'cannot tell the key/value heads and head size: the model leaves them dynamic and config.json lacks num_attention_heads/hidden_size',
      configFile,
    );
  }
  const logitsMeta = metadataOf(handle, 'logits', true);
  const metaVocab = typeof logitsMeta?.shape[2] === 'number' ? logitsMeta.shape[2] : undefined;
  const vocabSize = agree('vocabulary size', metaVocab, num('vocab_size'), modelFile);
  const kvType = meta?.type === 'float16' ? 'float16' : 'float32';
  return {
    handle,
    layers,
    kvHeads,
    headDim,
    vocabSize,
    maxPositions: num('max_position_embeddings') ?? num('n_positions'),
    hasPositionIds: handle.inputNames.includes('position_ids'),
    hasUseCacheBranch: handle.inputNames.includes('use_cache_branch'),
    kvType,
  };
}

function agree(
  what: string,
  fromModel: number | undefined,
  fromConfig: number | undefined,
  file: string,
): number | undefined {
  if (fromModel !== undefined && fromConfig !== undefined && fromModel !== fromConfig) {
    throw new InputError(`config.json gives ${what} ${fromConfig} but the ONNX model has ${fromModel}`, file);
  }
  return fromModel ?? fromConfig;
}

interface TensorMeta {
  type: string;
  shape: (number | string)[];
}

/** Input (or output) metadata when this onnxruntime-node exposes it. */
function metadataOf(handle: OnnxSession, name: string, output = false): TensorMeta | undefined {
  const list = (output ? handle.session.outputMetadata : handle.session.inputMetadata) as unknown as
    | readonly { name: string; isTensor: boolean; type?: string; shape?: (number | string)[] }[]
    | undefined;
  const m = list?.find((x) => x.name === name);
  if (!m?.isTensor || !m.shape) return undefined;
  return { type: m.type ?? 'float32', shape: m.shape };
}
