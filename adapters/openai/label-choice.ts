/**
 * How the adapter makes a served model pick a label, best first as the server allows:
 * - guided: constrained decoding to exactly one label name. vLLM >= 0.11 takes
 *   `structured_outputs: {choice: [...]}`; older vLLM takes `guided_choice: [...]` (removed in 0.12);
 *   llama.cpp server takes a GBNF `grammar`.
 * - logprobs: the server returns the top log-probabilities of the first answer token; each label is
 *   scored by the best token that begins only that label (or one of its synonyms).
 * - text: free text through the label parser.
 * Every mode still keeps the raw text, and guided answers still go through the parser (a server that
 * silently ignores the constraint then yields parsed free text, never a guess).
 */
import type { LabelParser } from '../../harness/label-parser.ts';
import { normaliseAnswer } from '../../harness/label-parser.ts';
import type { GuidedParam, LabelChoiceMode, LabelChoiceSetting, ServerKind } from './config.ts';

/** The label-choice mode `auto` picks for a server kind. */
export function autoLabelChoice(kind: ServerKind): LabelChoiceMode {
  switch (kind) {
    case 'vllm':
    case 'llamacpp':
      return 'guided';
    case 'openai':
      return 'logprobs';
    default:
      // Ollama's and unknown servers' support for constraints and logprobs varies by version: parse text.
      return 'text';
  }
}

/** The constrained-choice parameter for a server kind (and vLLM version), unless configured. */
export function guidedParamFor(kind: ServerKind, version?: string): GuidedParam | undefined {
  if (kind === 'llamacpp') return 'grammar';
  if (kind !== 'vllm') return undefined;
  const m = version?.match(/^(\d+)\.(\d+)/);
  if (!m) return 'structured_outputs';
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 0 || minor >= 11 ? 'structured_outputs' : 'guided_choice';
}

/**
 * Decides the mode for a cell. `param` is the constrained-choice parameter in use (configured, or
 * derived from the server kind); `auto` takes guided when there is one, logprobs on hosted OpenAI,
 * free text otherwise. Returns an error message when `guided` is asked of a server without one.
 */
export function resolveLabelChoice(
  setting: LabelChoiceSetting,
  kind: ServerKind,
  param: GuidedParam | undefined,
): LabelChoiceMode | { error: string } {
  if (setting === 'guided' && !param) {
    return {
      error: `labelChoice 'guided' needs a server with constrained choice (server: vllm or llamacpp) or guidedParam; the server is '${kind}'`,
    };
  }
  if (setting !== 'auto') return setting;
  if (param) return 'guided';
  return autoLabelChoice(kind) === 'logprobs' ? 'logprobs' : 'text';
}

/** A GBNF string literal: quotes and backslashes escaped, control characters as \n \r \t. */
export function gbnfLiteral(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

/** Body fields that constrain the answer to one of `choices`. */
export function guidedFields(param: GuidedParam, choices: readonly string[]): Record<string, unknown> {
  switch (param) {
    case 'structured_outputs':
      return { structured_outputs: { choice: [...choices] } };
    case 'guided_choice':
      return { guided_choice: [...choices] };
    case 'grammar':
      return { grammar: `root ::= ${choices.map(gbnfLiteral).join(' | ')}` };
  }
}

/** Body fields asking for the top log-probabilities of each generated token. */
export function logprobsFields(api: 'chat' | 'completions', top: number): Record<string, unknown> {
  return api === 'chat' ? { logprobs: true, top_logprobs: top } : { logprobs: top };
}

export interface TokenLogprob {
  token: string;
  logprob: number;
}

/** The generated text of the first choice, or undefined when the response carries none. */
export function responseText(api: 'chat' | 'completions', json: unknown): string | null | undefined {
  const choice = firstChoice(json);
  if (!choice) return undefined;
  if (api === 'chat') {
    const message = choice.message as { content?: unknown } | undefined;
    if (!message || typeof message !== 'object') return undefined;
    // null content is a legitimate answer (e.g. a reasoning model that ran out of tokens): unparseable.
    if (message.content === null) return null;
    return typeof message.content === 'string' ? message.content : undefined;
  }
  return typeof choice.text === 'string' ? choice.text : undefined;
}

/** Top log-probabilities per generated position, in the chat or the completions layout. */
export function responseTopLogprobs(api: 'chat' | 'completions', json: unknown): TokenLogprob[][] {
  const lp = firstChoice(json)?.logprobs as Record<string, unknown> | null | undefined;
  if (!lp || typeof lp !== 'object') return [];
  const out: TokenLogprob[][] = [];
  if (api === 'chat' || Array.isArray(lp.content)) {
    for (const pos of (lp.content as unknown[] | undefined) ?? []) {
      const p = pos as { token?: unknown; logprob?: unknown; top_logprobs?: unknown };
      const tops = Array.isArray(p.top_logprobs) ? p.top_logprobs : [];
      const list: TokenLogprob[] = [];
      for (const t of tops as { token?: unknown; logprob?: unknown }[]) {
        if (typeof t.token === 'string' && typeof t.logprob === 'number')
          list.push({ token: t.token, logprob: t.logprob });
      }
      if (list.length === 0 && typeof p.token === 'string' && typeof p.logprob === 'number') {
        list.push({ token: p.token, logprob: p.logprob });
      }
      out.push(list);
    }
    return out;
  }
  for (const pos of (lp.top_logprobs as unknown[] | undefined) ?? []) {
    if (!pos || typeof pos !== 'object') {
      out.push([]);
      continue;
    }
    out.push(
      Object.entries(pos as Record<string, unknown>)
        .filter((e): e is [string, number] => typeof e[1] === 'number')
        .map(([token, logprob]) => ({ token, logprob })),
    );
  }
  return out;
}

function firstChoice(json: unknown): Record<string, unknown> | undefined {
  const choices = (json as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  const c = choices[0];
  return c && typeof c === 'object' ? (c as Record<string, unknown>) : undefined;
}

export type LogprobScore =
  | { status: 'ok'; label: string; scores: Record<string, number> }
  | { status: 'none'; reason: string };

/**
 * Scores labels from the first answer position (skipping positions whose most likely token is only
 * whitespace or punctuation). A token counts for a label when it is a non-empty prefix of that label's
 * accepted answers and of no other label's; a label's score is its best such token's logprob. When
 * the most likely token is shared by several labels ("somewhat" for "somewhat negative" and "somewhat
 * positive") and beats every unshared one, the first token cannot decide: `none`, and the caller falls
 * back to parsing the text.
 */
export function scoreByLogprobs(positions: readonly TokenLogprob[][], parser: LabelParser): LogprobScore {
  const candidates = [...parser.candidates()];
  for (const [index, tops] of positions.slice(0, 4).entries()) {
    if (tops.length === 0) continue;
    const best = tops.reduce((a, b) => (b.logprob > a.logprob ? b : a));
    if (normaliseToken(best.token) === '') continue;
    const scores: Record<string, number> = {};
    let sharedBest = Number.NEGATIVE_INFINITY;
    for (const { token, logprob } of tops) {
      const t = normaliseToken(token);
      if (t === '') continue;
      const labels = new Set(candidates.filter(([cand]) => cand.startsWith(t)).map(([, label]) => label));
      if (labels.size === 1) {
        const label = [...labels][0]!;
        scores[label] = Math.max(scores[label] ?? Number.NEGATIVE_INFINITY, logprob);
      } else if (labels.size > 1) sharedBest = Math.max(sharedBest, logprob);
    }
    const ranked = Object.entries(scores).sort((a, b) => b[1] - a[1]);
    if (ranked.length === 0)
      return { status: 'none', reason: `no top token at position ${index} begins a label` };
    if (sharedBest > ranked[0]![1]) {
      return { status: 'none', reason: `the most likely token at position ${index} begins several labels` };
    }
    if (ranked.length > 1 && ranked[1]![1] === ranked[0]![1]) {
      return { status: 'none', reason: `two labels tie at position ${index}` };
    }
    return { status: 'ok', label: ranked[0]![0], scores };
  }
  return { status: 'none', reason: 'the response has no logprobs' };
}

/** A token as an answer prefix: no leading/trailing space, no quotes or emphasis, lower case. */
function normaliseToken(token: string): string {
  const t = token.replace(/^[\s"'`*_▁Ġ]+/u, '').replace(/[\s"'`*_]+$/u, '');
  return t === '' ? '' : normaliseAnswer(t);
}
