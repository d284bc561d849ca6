/**
 * A PEFT prefix-tuning (P-tuning v2) checkpoint: adapter_config.json (peft_type PREFIX_TUNING,
 * num_virtual_tokens, num_layers, num_attention_heads, token_dim) and adapter_model.safetensors
 * holding `prompt_embeddings` of shape [num_virtual_tokens, num_layers * 2 * token_dim] (PEFT saves
 * the projected prefix when prefix_projection is on, so the shape is the same either way).
 *
 * PEFT views each row as [num_layers * 2, heads, head_dim] and takes, for layer l, slot 2l as the key
 * and 2l + 1 as the value (permute [2, 0, 3, 1, 4] then split in pairs). For grouped-query models PEFT
 * stores num_attention_heads = key/value heads and token_dim = kv_heads * head_dim, which is what the
 * ONNX past inputs expect, so the checkpoint is checked against the model's key/value heads.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../harness/errors.ts';
import { fileRecord } from '../../harness/hash.ts';
import { readSafetensors } from '../../harness/safetensors.ts';
import { readJsonFile } from '../onnx-classifier/model-folder.ts';

export interface PrefixShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

export interface PrefixCheckpoint {
  virtualTokens: number;
  /** Per layer: key and value as [kvHeads, virtualTokens, headDim], fp32. */
  keys: Float32Array[];
  values: Float32Array[];
  sha256: string;
  facts: Record<string, unknown>;
}

const WEIGHT_FILES = ['adapter_model.safetensors'];

export async function loadPrefixCheckpoint(dir: string, model: PrefixShape): Promise<PrefixCheckpoint> {
  if (!existsSync(dir)) throw new InputError('prefix checkpoint folder not found', dir);
  const configPath = join(dir, 'adapter_config.json');
  const { value: cfg, hash: configHash } = await readJsonFile(configPath, 'adapter_config.json');
  const peftType = String(cfg.peft_type ?? '');
  if (peftType !== 'PREFIX_TUNING') {
    const hint =
      peftType === 'LORA'
        ? 'a LoRA adapter must be merged into the model before export (merge_and_unload), not given as a prefix'
        : peftType === 'P_TUNING' || peftType === 'PROMPT_TUNING'
          ? `${peftType} learns input embeddings, not per-layer keys and values; only PREFIX_TUNING (P-tuning v2) checkpoints are supported`
          : 'expected PREFIX_TUNING (PEFT prefix tuning / P-tuning v2)';
    throw new InputError(`peft_type is '${peftType}': ${hint}`, configPath);
  }
  const int = (key: string): number => {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new InputError(`${key} must be a positive integer, found ${JSON.stringify(v)}`, configPath);
    }
    return v;
  };
  const virtualTokens = int('num_virtual_tokens');
  const layers = int('num_layers');
  const heads = int('num_attention_heads');
  const tokenDim = int('token_dim');
  if (layers !== model.layers) {
    throw new InputError(`num_layers is ${layers} but the model has ${model.layers} layers`, configPath);
  }
  if (heads !== model.kvHeads) {
    throw new InputError(
      `num_attention_heads is ${heads} but the model has ${model.kvHeads} key/value heads`,
      configPath,
    );
  }
  if (tokenDim !== model.kvHeads * model.headDim) {
    throw new InputError(
      `token_dim is ${tokenDim} but the model's key/value width is ${model.kvHeads * model.headDim} (${model.kvHeads} heads x ${model.headDim})`,
      configPath,
    );
  }
  const weightsPath = WEIGHT_FILES.map((f) => join(dir, f)).find(existsSync);
  if (!weightsPath) {
    throw new InputError(
      'no adapter_model.safetensors in the prefix checkpoint (save it with save_pretrained(..., safe_serialization=True))',
      dir,
    );
  }
  const file = await readSafetensors(weightsPath);
  const key = [...file.tensors.keys()].find(
    (k) => k === 'prompt_embeddings' || k.endsWith('prefix_encoder.embedding.weight'),
  );
  if (!key) {
    throw new InputError(
      `no 'prompt_embeddings' tensor (found: ${[...file.tensors.keys()].join(', ') || 'none'})`,
      weightsPath,
    );
  }
  const tensor = file.tensors.get(key)!;
  const expected = [virtualTokens, layers * 2 * tokenDim];
  if (tensor.shape.length !== 2 || tensor.shape[0] !== expected[0] || tensor.shape[1] !== expected[1]) {
    throw new InputError(
      `tensor '${key}' has shape [${tensor.shape.join(', ')}], expected [${expected.join(', ')}] (num_virtual_tokens, num_layers * 2 * token_dim)`,
      weightsPath,
    );
  }
  const { kvHeads, headDim } = model;
  const keys: Float32Array[] = [];
  const values: Float32Array[] = [];
  for (let l = 0; l < layers; l++) {
    const k = new Float32Array(kvHeads * virtualTokens * headDim);
    const v = new Float32Array(kvHeads * virtualTokens * headDim);
    for (let t = 0; t < virtualTokens; t++) {
      const row = t * layers * 2 * tokenDim;
      for (let h = 0; h < kvHeads; h++) {
        const dst = (h * virtualTokens + t) * headDim;
        const kSrc = row + (2 * l * kvHeads + h) * headDim;
        const vSrc = row + ((2 * l + 1) * kvHeads + h) * headDim;
        k.set(tensor.data.subarray(kSrc, kSrc + headDim), dst);
        v.set(tensor.data.subarray(vSrc, vSrc + headDim), dst);
      }
    }
    keys.push(k);
    values.push(v);
  }
  const record = await fileRecord(weightsPath);
  return {
    virtualTokens,
    keys,
    values,
    sha256: record.sha256,
    facts: {
      peft_type: peftType,
      num_virtual_tokens: virtualTokens,
      num_layers: layers,
      num_attention_heads: heads,
      token_dim: tokenDim,
      prefix_projection: cfg.prefix_projection ?? false,
      dtype: tensor.dtype,
      adapter_config_sha256: configHash,
      weights_sha256: record.sha256,
    },
  };
}
