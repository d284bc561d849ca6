/**
 * Which weights a served model name stands for, as far as the server tells. A name alone is not an
 * identity: a LoRA retrained and served again under the same `--lora-modules name=path` keeps its
 * name, and a cache keyed on the name would hand out the old adapter's answers as the new one's.
 *
 * What the common servers say (read once per run, from the replica that answers first):
 * - vLLM (and SGLang) list each model in `GET /models` with `root`, the path or hub id the weights
 *   were loaded from, and, for a LoRA served by name, `parent`, the base model's served id (whose own
 *   entry carries the base's `root`). `created` is the listing time, new at every restart: not used.
 * - Ollama's `GET /api/tags` (at the server root) gives each model's `digest`, a hash of its content,
 *   which changes when a model is re-created from new weights (`modified_at` is recorded, not keyed:
 *   it changes on a re-pull of identical weights).
 * - llama.cpp server's `GET /props` gives `model_path`, and `GET /lora-adapters` the loaded adapters'
 *   paths and scales (a global scale changes answers of requests that do not set `lora` themselves).
 * Paths identify where weights came from, not what they are: weights retrained in place at the same
 * path look the same, which is what the config's `modelRevision` is for.
 */
import type { OpenAICompatibleClient, ProbeResult } from '../../harness/inference/http.ts';
import type { ServerKindSetting } from './config.ts';
import { listedKind } from './server-kind.ts';

export interface ModelListing {
  data?: { id?: unknown; owned_by?: unknown; root?: unknown; parent?: unknown }[];
}

export interface ModelIdentity {
  /** What goes into cache keys and the fingerprint; empty when the server says nothing. */
  key: Record<string, unknown>;
  /** What the manifest records: the key's fields and informative ones (Ollama's modified_at). */
  facts: Record<string, unknown>;
  /** `content` when a digest names the weights, `path` when only where they were loaded from. */
  strength: 'content' | 'path' | 'none';
}

const PROBE_MS = 10_000;

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The identity of `model` from a `GET {baseUrl}/models` answer (`listing`), plus, for the server kinds
 * that keep it elsewhere, their own routes at the server root. Routes that are missing (404) or fail
 * add nothing: only the listing's reachability matters, and the caller has checked it.
 */
export async function readModelIdentity(
  client: OpenAICompatibleClient,
  baseUrl: string,
  setting: ServerKindSetting,
  model: string,
  listing: ProbeResult<ModelListing>,
): Promise<ModelIdentity> {
  const data = listing.status === 'ok' && Array.isArray(listing.json?.data) ? listing.json.data : [];
  const entry = data.find((m) => m?.id === model);
  const key: Record<string, unknown> = {};
  const facts: Record<string, unknown> = {};
  let strength: ModelIdentity['strength'] = 'none';

  const root = text(entry?.root);
  const parent = text(entry?.parent);
  if (root) key.root = root;
  if (parent) {
    key.parent = parent;
    const baseRoot = text(data.find((m) => m?.id === parent)?.root);
    if (baseRoot) key.parentRoot = baseRoot;
  }
  if (root || parent) strength = 'path';

  const kind = setting !== 'auto' ? setting : listedKind(data, model).kind;
  const origin = new URL(baseUrl).origin;
  // Ollama names user models' owner in owned_by (not "library"), so a generic-looking listing may be
  // Ollama too; elsewhere /api/tags is a 404, which costs one GET per run.
  if (kind === 'ollama' || (kind === 'generic' && !root)) {
    const tags = await client.probeJson<{
      models?: { name?: unknown; model?: unknown; digest?: unknown; modified_at?: unknown }[];
    }>(`${origin}/api/tags`, PROBE_MS);
    const models = tags.status === 'ok' && Array.isArray(tags.json?.models) ? tags.json.models : [];
    // Ollama takes "llama3" for "llama3:latest"; its listing spells the tag out.
    const names = model.includes(':') ? [model] : [model, `${model}:latest`];
    const m = models.find((x) => names.includes(String(x?.name)) || names.includes(String(x?.model)));
    const digest = text(m?.digest);
    if (digest) {
      key.digest = digest;
      strength = 'content';
    }
    const modified = text(m?.modified_at);
    if (modified) facts.modifiedAt = modified;
  }
  if (kind === 'llamacpp') {
    const props = await client.probeJson<{ model_path?: unknown }>(`${origin}/props`, PROBE_MS);
    const modelPath = props.status === 'ok' ? text(props.json?.model_path) : undefined;
    if (modelPath) key.modelPath = modelPath;
    const loras = await client.probeJson<unknown>(`${origin}/lora-adapters`, PROBE_MS);
    if (loras.status === 'ok' && Array.isArray(loras.json) && loras.json.length > 0) {
      key.loraAdapters = (loras.json as { id?: unknown; path?: unknown; scale?: unknown }[]).map((a) => ({
        id: a?.id,
        path: a?.path,
        scale: a?.scale,
      }));
    }
    if ((modelPath || key.loraAdapters) && strength === 'none') strength = 'path';
  }
  return { key, facts: { ...key, ...facts }, strength };
}
