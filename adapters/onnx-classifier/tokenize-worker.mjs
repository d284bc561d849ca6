// Tokenizes in a worker thread. onnxruntime-node's session.run blocks the main thread while it
// runs, so the next chunk's tokenization can only overlap with inference from another thread.
// Plain JavaScript so that it loads without a TypeScript loader in the worker.
import { parentPort } from 'node:worker_threads';
import { Tokenizer } from '@huggingface/tokenizers';

let tokenizer;
parentPort.on('message', (msg) => {
  if (msg.type === 'init') {
    tokenizer = new Tokenizer(msg.tokenizerJson, msg.tokenizerConfig);
    return;
  }
  try {
    const out = msg.items.map((item) => {
      const e = tokenizer.encode(
        item.text,
        item.pair === undefined
          ? { return_token_type_ids: true }
          : { text_pair: item.pair, return_token_type_ids: true },
      );
      return { ids: e.ids, typeIds: e.token_type_ids ?? e.ids.map(() => 0) };
    });
    parentPort.postMessage({ id: msg.id, out });
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: String(err?.message ?? err) });
  }
});
