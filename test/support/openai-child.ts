/**
 * Child process for the SIGKILL test of the served adapter: runs the `openai` adapter over N examples
 * the way the runner does (batches in order, `adapter.concurrency` in flight) and appends each batch's
 * predictions to a JSONL file as it returns. Arguments: baseUrl cacheDir outFile n.
 */
import { appendFileSync } from 'node:fs';
import { openaiAdapterFactory } from '../../adapters/openai/index.ts';
import type { Example } from '../../harness/types.ts';
import { example, testCell, testEnv } from './openai-cell.ts';

const [baseUrl, cacheDir, outFile, nText] = process.argv.slice(2);
const n = Number(nText);
const examples: Example[] = Array.from({ length: n }, (_, i) =>
  example(`k${i}`, `resume utterance ${i}`, 'joy'),
);
const config = openaiAdapterFactory.parseConfig({
  type: 'openai',
  baseUrl,
  model: 'base-model',
  server: 'auto',
  concurrency: 4,
  batchSize: 4,
});
const adapter = await openaiAdapterFactory.create({ ...config, id: 'resume' }, testEnv(cacheDir!));
const ctx = testCell(examples);
await adapter.prepare?.(ctx);
for (let i = 0; i < n; i += adapter.batchSize!) {
  const preds = await adapter.predict(examples.slice(i, i + adapter.batchSize!), ctx);
  appendFileSync(outFile!, preds.map((p) => `${JSON.stringify(p)}\n`).join(''));
}
await adapter.close?.();
