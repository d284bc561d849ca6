/**
 * Free-text answer -> protocol label. Conservative by design: an answer maps to a label only when,
 * after stripping wrapping that carries no meaning (whitespace, quotes, markdown emphasis, trailing
 * punctuation, an "Answer:"-style prefix), it equals a label, its prompt name or a declared synonym,
 * ignoring case. Anything else is `unparseable` (kept raw, counted wrong). Guessing the nearest label
 * happens only when the caller asks for it (`lenient`), and the result then says so.
 */
import type { Protocol } from './types.ts';

export interface LabelParserSpec {
  /** Protocol labels, in canonical order. */
  labels: readonly string[];
  /** Names shown in prompts, per label (accepted as answers too). */
  labelNames?: Readonly<Record<string, string>>;
  /** Extra accepted answers per label (lower-case), e.g. joy: ["happy", "happiness"]. */
  synonyms?: Readonly<Record<string, readonly string[]>>;
}

export type ParsedLabel =
  | { status: 'ok'; label: string; lenient?: true; matched: string }
  | { status: 'unparseable'; label: null; reason: string };

export interface LabelParseOptions {
  /**
   * Nearest-label guessing: a unique label mentioned as a whole word anywhere in the answer, else the
   * label within a small edit distance. Off unless a config asks for it; results carry `lenient: true`.
   */
  lenient?: boolean;
}

/** Prefixes models put before their answer; removed only at the very start of the answer. */
const ANSWER_PREFIX =
  /^(?:(?:the\s+)?(?:final\s+)?(?:answer|label|emotion|sentiment|classification|output|prediction|response)(?:\s+is)?\s*[:=-]?\s+|(?:answer|label|emotion|sentiment|output)\s*:\s*)/i;
/** Quotes, brackets and markdown emphasis that may wrap the whole answer. */
const WRAPPERS = /^[\s"'`*_<[({“”‘’«»]+|[\s"'`*_>\])}“”‘’«»]+$/g;
/** Sentence punctuation after the answer. A leading "-" or "+" is kept: labels like "-3" need it. */
const TRAILING_PUNCT = /[\s.,;:!?。！？，]+$/;

/** Lower-cased, whitespace-collapsed, unwrapped form of an answer or a candidate. */
export function normaliseAnswer(text: string): string {
  let s = text.normalize('NFKC').trim();
  // Two passes: `**Answer:** "Joy".` needs the wrapper removed, then the prefix, then the wrapper again.
  for (let pass = 0; pass < 2; pass++) {
    s = s.replace(WRAPPERS, '');
    s = s.replace(ANSWER_PREFIX, '');
    s = s.replace(TRAILING_PUNCT, '');
    s = s.replace(WRAPPERS, '');
  }
  return s.replace(/\s+/g, ' ').toLowerCase();
}

/** Builds a parser over one label set; reuse it for every answer of a cell. */
export class LabelParser {
  /** Normalised candidate text -> label. */
  readonly #candidates = new Map<string, string>();
  readonly #labels: readonly string[];

  constructor(spec: LabelParserSpec) {
    this.#labels = spec.labels;
    // Order matters only for clashes: a label's own name wins over a synonym declared for another label.
    for (const label of spec.labels) this.#add(normaliseAnswer(label), label);
    for (const label of spec.labels) {
      const name = spec.labelNames?.[label];
      if (name !== undefined) this.#add(normaliseAnswer(name), label);
    }
    for (const label of spec.labels) {
      for (const syn of spec.synonyms?.[label] ?? []) this.#add(normaliseAnswer(syn), label);
    }
  }

  static forProtocol(protocol: Pick<Protocol, 'labels' | 'labelNames' | 'synonyms'>): LabelParser {
    return new LabelParser(protocol);
  }

  #add(key: string, label: string): void {
    if (key !== '' && !this.#candidates.has(key)) this.#candidates.set(key, label);
  }

  /** Every accepted answer text (normalised) and its label, for prompts, grammars and docs. */
  candidates(): ReadonlyMap<string, string> {
    return this.#candidates;
  }

  parse(raw: string | null | undefined, options: LabelParseOptions = {}): ParsedLabel {
    if (raw === null || raw === undefined || raw.trim() === '') {
      return { status: 'unparseable', label: null, reason: 'empty answer' };
    }
    const whole = normaliseAnswer(raw);
    const exact = this.#candidates.get(whole);
    if (exact !== undefined) return { status: 'ok', label: exact, matched: whole };
    // Models often put the label on the first line and an explanation after it.
    const firstLine = raw.trim().split(/\r?\n/, 1)[0] ?? '';
    const first = normaliseAnswer(firstLine);
    const byLine = this.#candidates.get(first);
    if (byLine !== undefined) return { status: 'ok', label: byLine, matched: first };
    if (options.lenient) {
      const guess = this.#nearest(whole);
      if (guess) return { status: 'ok', label: guess.label, matched: guess.matched, lenient: true };
    }
    return {
      status: 'unparseable',
      label: null,
      reason: `answer matches none of: ${this.#labels.join(', ')}`,
    };
  }

  /** Lenient guess: one label mentioned as a whole word, else one candidate within edit distance 2. */
  #nearest(answer: string): { label: string; matched: string } | undefined {
    const mentioned = new Map<string, string>();
    for (const [cand, label] of this.#candidates) {
      const re = new RegExp(`(?:^|[^\\p{L}\\p{N}])${escapeRegExp(cand)}(?:$|[^\\p{L}\\p{N}])`, 'u');
      if (re.test(answer) && !mentioned.has(label)) mentioned.set(label, cand);
    }
    if (mentioned.size === 1) {
      const [label, matched] = [...mentioned][0]!;
      return { label, matched };
    }
    if (mentioned.size > 1) return undefined;
    let best: { label: string; matched: string; d: number } | undefined;
    let tie = false;
    for (const [cand, label] of this.#candidates) {
      const d = editDistance(answer, cand);
      if (d > Math.min(2, Math.floor(cand.length / 3))) continue;
      if (!best || d < best.d) {
        best = { label, matched: cand, d };
        tie = false;
      } else if (d === best.d && label !== best.label) tie = true;
    }
    return best && !tie ? { label: best.label, matched: best.matched } : undefined;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}
