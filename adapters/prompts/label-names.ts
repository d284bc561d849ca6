import type { Protocol } from '../../harness/types.ts';

/** The name a prompt shows for `label`: the protocol's human-readable name, else the label itself. */
export function labelName(protocol: Pick<Protocol, 'labelNames'>, label: string): string {
  return protocol.labelNames?.[label] ?? label;
}

/** Prompt names of every label, in the protocol's canonical order. */
export function promptLabelNames(protocol: Pick<Protocol, 'labels' | 'labelNames'>): string[] {
  return protocol.labels.map((l) => labelName(protocol, l));
}

/** "A", "A or B", "A, B or C": Peng et al.'s wording (no comma before "or"). */
export function joinWithOr(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
