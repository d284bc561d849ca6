import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { InputError } from './errors.ts';
import { computeMetrics } from './metrics.ts';
import { inferProtocol, type ScoredMetrics, scoreRecords } from './stats.ts';
import type { MetricName, ParseStatus, Protocol } from './types.ts';

export interface ScoreResult extends ScoredMetrics {
  file: string;
  protocol: string | null;
}

interface ScoreRecord {
  id: string;
  gold: string;
  pred: string | null;
  /** Absent in the file: parsed when the answer is one of the labels (metrics.ts parseCounts). */
  parse?: ParseStatus;
  dialogueId?: string;
}

/**
 * Reads a predictions JSONL (`{"id","gold","pred"}` at least; `parse` and `dialogueId` when present),
 * line by line with a one-line error for the first bad line, and scores it.
 */
export async function scorePredictionsFile(
  file: string,
  o: { protocol?: Protocol; resamples?: number; seed?: number; unit?: 'dialogue' | 'utterance' },
): Promise<ScoreResult> {
  if (!existsSync(file)) throw new InputError('file not found', file);
  const records: ScoreRecord[] = [];
  const ids = new Set<string>();
  let line = 0;
  const lines = createInterface({
    input: createReadStream(file, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InputError('expected one JSON object per line', file, line);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InputError('expected a JSON object with "id", "gold" and "pred"', file, line);
    }
    const { id, gold, pred, parse, dialogueId, lenient } = value;
    if (typeof id !== 'string' && typeof id !== 'number')
      throw new InputError('expected "id" (string)', file, line);
    if (typeof gold !== 'string') throw new InputError('expected "gold" (a label string)', file, line);
    if (pred !== null && typeof pred !== 'string')
      throw new InputError('expected "pred" (a label string or null)', file, line);
    if (ids.has(String(id))) throw new InputError(`duplicate id '${id}'`, file, line);
    ids.add(String(id));
    records.push({
      id: String(id),
      gold,
      pred,
      parse: parse === 'ok' || parse === 'unparseable' || parse === 'error' ? parse : undefined,
      dialogueId: typeof dialogueId === 'string' ? dialogueId : undefined,
      // A nearest-label guess (lenient adapters) is counted apart from parsed answers, as in a run.
      ...(lenient === true ? { lenient: true } : {}),
    });
  }
  if (records.length === 0) throw new InputError('no predictions in file', file);
  const protocol = o.protocol ?? inferProtocol(records);
  if (o.protocol) {
    const bad = records.findIndex((r) => !o.protocol!.labels.includes(r.gold));
    if (bad >= 0) {
      throw new InputError(
        `gold label '${records[bad]!.gold}' is not a label of protocol ${o.protocol.id} (${o.protocol.labels.join(', ')})`,
        file,
      );
    }
  }
  const scored =
    o.resamples === 0
      ? { ...computeMetrics(records, protocol, { file }), ci: {} }
      : scoreRecords(records, protocol, { resamples: o.resamples, seed: o.seed, unit: o.unit, file });
  return {
    file,
    protocol: o.protocol?.id ?? null,
    ...scored,
  };
}

/** Plain-text rendering: one metric a line with its interval. */
export function renderScore(r: ScoreResult): string {
  const lines = [
    `${r.file}: n=${r.n}${r.protocol ? ` protocol=${r.protocol}` : ''} (headline ${r.headline})`,
  ];
  for (const [name, value] of Object.entries(r.metrics)) {
    const ci = r.ci[name as MetricName];
    lines.push(
      `  ${name.padEnd(22)} ${value.toFixed(4)}${ci ? `  [${ci.low.toFixed(4)}, ${ci.high.toFixed(4)}]` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
