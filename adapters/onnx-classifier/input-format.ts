/**
 * Turns an example into classifier input ids: the target utterance alone, or with its k previous
 * turns and speakers (EmoBERTa style: "Speaker: text" turns, the target as its own segment or marked
 * inline). When the result is longer than maxLength, the oldest context turn goes first; the target
 * is never dropped, and is cut (keeping the closing special tokens) only when it alone is too long.
 */
import type { Tokenizer } from '@huggingface/tokenizers';
import type { Example } from '../../harness/types.ts';

export interface InputFormat {
  /** Previous turns shown (0 = target alone). */
  contextTurns: number;
  /** Prefix each turn (the target included) with "Speaker: " when context turns are shown. */
  speakers: boolean;
  /** pair: context as the first segment and the target as the second; inline: one text, target marked. */
  mode: 'pair' | 'inline';
  /** Joins turns. */
  separator: string;
  /** Put before the target in inline mode (so the model can tell it from the context). */
  targetMarker: string;
  maxLength: number;
}

export interface EncodedInput {
  ids: number[];
  typeIds: number[];
  /** Context turns dropped to fit maxLength. */
  droppedTurns: number;
  /** True when the target itself was cut. */
  truncated: boolean;
}

function turnText(speaker: string | undefined, text: string, speakers: boolean): string {
  return speakers && speaker ? `${speaker}: ${text}` : text;
}

export function encodeExample(
  example: Example,
  tokenizer: Tokenizer,
  format: InputFormat,
  specialIds: ReadonlySet<number>,
): EncodedInput {
  // "Target alone" means the bare text; speakers are shown only alongside context turns.
  const target = turnText(example.speaker, example.text, format.speakers && format.contextTurns > 0);
  const available = format.contextTurns > 0 ? example.context.slice(-format.contextTurns) : [];
  const turns = available.map((t) => turnText(t.speaker, t.text, format.speakers));
  let dropped = 0;
  for (;;) {
    const kept = turns.slice(dropped);
    const enc = encodeTurns(tokenizer, kept, target, format);
    if (enc.ids.length <= format.maxLength) return { ...enc, droppedTurns: dropped, truncated: false };
    if (kept.length === 0) {
      // The target alone is too long: cut its end but keep the closing special tokens ([SEP], </s>).
      let tail = 0;
      while (tail < enc.ids.length && specialIds.has(enc.ids[enc.ids.length - 1 - tail]!)) tail++;
      tail = Math.min(tail, format.maxLength - 1);
      const head = format.maxLength - tail;
      const cut = (xs: number[]) => [...xs.slice(0, head), ...xs.slice(xs.length - tail)];
      return { ids: cut(enc.ids), typeIds: cut(enc.typeIds), droppedTurns: dropped, truncated: true };
    }
    dropped++;
  }
}

/** What the first encoding attempt of an example tokenizes (all its context turns kept). */
export function firstAttempt(example: Example, format: InputFormat): { text: string; pair?: string } {
  const target = turnText(example.speaker, example.text, format.speakers && format.contextTurns > 0);
  const turns = (format.contextTurns > 0 ? example.context.slice(-format.contextTurns) : []).map((t) =>
    turnText(t.speaker, t.text, format.speakers),
  );
  if (turns.length === 0) return { text: target };
  if (format.mode === 'pair') return { text: turns.join(format.separator), pair: target };
  return { text: [...turns, `${format.targetMarker}${target}`].join(format.separator) };
}

function encodeTurns(
  tokenizer: Tokenizer,
  turns: readonly string[],
  target: string,
  format: InputFormat,
): { ids: number[]; typeIds: number[] } {
  if (turns.length === 0) {
    const e = tokenizer.encode(target, { return_token_type_ids: true });
    return { ids: e.ids, typeIds: e.token_type_ids ?? e.ids.map(() => 0) };
  }
  if (format.mode === 'pair') {
    const e = tokenizer.encode(turns.join(format.separator), {
      text_pair: target,
      return_token_type_ids: true,
    });
    return { ids: e.ids, typeIds: e.token_type_ids ?? e.ids.map(() => 0) };
  }
  const e = tokenizer.encode([...turns, `${format.targetMarker}${target}`].join(format.separator), {
    return_token_type_ids: true,
  });
  return { ids: e.ids, typeIds: e.token_type_ids ?? e.ids.map(() => 0) };
}

/** Ids of the tokenizer's special added tokens ([CLS], [SEP], <s>, </s>...). */
export function specialTokenIds(tokenizer: Tokenizer): Set<number> {
  const out = new Set<number>();
  for (const [id, token] of tokenizer.get_added_tokens_decoder()) if (token.special) out.add(id);
  return out;
}
