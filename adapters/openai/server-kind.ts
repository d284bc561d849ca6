/**
 * Which kind of OpenAI-compatible server is behind a base URL, asked once per adapter. `GET /models`
 * lists served models with an `owned_by` field that the common servers fill with their own name
 * (vLLM "vllm", llama.cpp server "llamacpp", Ollama "library" or "ollama", OpenAI "openai"/"system").
 * For vLLM, `GET /version` at the server root gives the version, which decides between
 * `structured_outputs` (>= 0.11) and the older `guided_choice`. A server that answers but lists no
 * models (404, other JSON) is "generic" (free-text answers). A server that cannot be reached is an error:
 * guessing "generic" then would let a resumed run continue with another label-choice mode than the
 * run it resumes.
 */
import { RuntimeFailure } from '../../harness/errors.ts';
import type { OpenAICompatibleClient, ProbeResult } from '../../harness/inference/http.ts';
import type { ServerKind, ServerKindSetting } from './config.ts';

export interface ServerInfo {
  kind: ServerKind;
  /** How the kind was decided: the config, `owned_by` in GET /models, or no usable listing. */
  source: 'config' | 'probe' | 'no-listing';
  version?: string;
  /** `owned_by` of the configured model (or of the first model) in GET /models. */
  ownedBy?: string;
  /** Model ids the server lists (to warn about a misspelt model or LoRA name). */
  models?: string[];
}

const OWNED_BY: Record<string, ServerKind> = {
  vllm: 'vllm',
  llamacpp: 'llamacpp',
  'llama.cpp': 'llamacpp',
  ollama: 'ollama',
  library: 'ollama',
  openai: 'openai',
  system: 'openai',
  'openai-internal': 'openai',
};

/**
 * What a `GET /models` listing says of the server: the `owned_by` of the configured model's entry
 * (else the first entry's) and the kind it names ('generic' when it names none we know). The one
 * place the kind is read from a listing, for the server-kind probe and the model-identity probe.
 */
export function listedKind(
  data: readonly { id?: unknown; owned_by?: unknown }[] | undefined,
  model: string,
): { ownedBy?: string; kind: ServerKind } {
  const entry = data?.find((m) => m?.id === model) ?? data?.[0];
  const ownedBy = typeof entry?.owned_by === 'string' ? entry.owned_by : undefined;
  return { ownedBy, kind: (ownedBy && OWNED_BY[ownedBy.toLowerCase()]) || 'generic' };
}

/**
 * `prefetched` is this run's answer to `GET {baseUrl}/models` when the caller has it already (the model
 * identity probe): the kind is then told from it rather than by asking again.
 */
export async function detectServer(
  client: OpenAICompatibleClient,
  baseUrl: string,
  setting: ServerKindSetting,
  model: string,
  prefetched?: ProbeResult<{ data?: { id?: unknown; owned_by?: unknown }[] }>,
): Promise<ServerInfo> {
  const base = baseUrl.replace(/\/+$/, '');
  const probe =
    prefetched ??
    (await client.probeJson<{ data?: { id?: unknown; owned_by?: unknown }[] }>(`${base}/models`, 10_000));
  if (probe.status === 'unreachable' && setting === 'auto') {
    throw new RuntimeFailure(
      `cannot reach the server to tell its kind (${probe.message}); is it up? (or set 'server')`,
    );
  }
  const listing = probe.status === 'ok' ? probe.json : undefined;
  const data = Array.isArray(listing?.data) ? listing.data : undefined;
  const models = data?.map((m) => String(m.id));
  const listed = listedKind(data, model);
  const ownedBy = listed.ownedBy;
  let kind: ServerKind;
  let source: ServerInfo['source'];
  if (setting !== 'auto') {
    kind = setting;
    source = 'config';
  } else if (ownedBy !== undefined) {
    kind = listed.kind;
    source = 'probe';
  } else {
    kind = 'generic';
    source = 'no-listing';
  }
  let version: string | undefined;
  if (kind === 'vllm') {
    const v = await client.probeJson<{ version?: unknown }>(`${new URL(base).origin}/version`, 10_000);
    if (v.status === 'unreachable') {
      throw new RuntimeFailure(
        `cannot reach the vLLM server to read its version (${v.message}); or set 'guidedParam'`,
      );
    }
    if (v.status === 'ok' && typeof v.json.version === 'string') version = v.json.version;
  }
  return {
    kind,
    source,
    ...(version ? { version } : {}),
    ...(ownedBy ? { ownedBy } : {}),
    ...(models ? { models } : {}),
  };
}
