import { Worker } from 'node:worker_threads';
import type { Tokenizer } from '@huggingface/tokenizers';
import type { Example } from '../../harness/types.ts';
import { type EncodedInput, encodeExample, firstAttempt, type InputFormat } from './input-format.ts';

type Encoded = { ids: number[]; typeIds: number[] };

/**
 * Encodes examples in a worker thread so that, with two runner batches in flight, one batch is
 * tokenized while the other runs in ONNX Runtime (whose session.run holds the main thread). The
 * worker does each example's first attempt (all context turns); the rare example that is too long
 * is redone on the main thread by encodeExample, so results are identical to encoding in-thread.
 */
export class TokenizerWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: Encoded[]) => void; reject: (e: Error) => void }>();
  #next = 0;
  #failed: Error | undefined;
  #warned = false;
  #closing = false;
  readonly #warn: (msg: string) => void;

  /** `warn` gets one line the first time the worker fails and encoding falls back to this thread. */
  constructor(tokenizerJson: unknown, tokenizerConfig: unknown, warn: (msg: string) => void = () => {}) {
    this.#warn = warn;
    this.#worker = new Worker(new URL('./tokenize-worker.mjs', import.meta.url));
    this.#worker.on('message', (msg: { id: number; out?: Encoded[]; error?: string }) => {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.out!);
    });
    this.#worker.on('error', (err) => this.#fail(err));
    // A worker that exits (crashed, killed) answers nothing more: what it was asked is redone here.
    this.#worker.on('exit', (code) => {
      if (!this.#closing) this.#fail(new Error(`tokenizer worker exited with code ${code}`));
    });
    // Referenced only while a request is pending: an idle tokenizer must not keep the process
    // alive when an adapter is never closed, and a pending one must (attaching the 'message'
    // listener above refs it, so this comes after).
    this.#worker.unref();
    this.#worker.postMessage({ type: 'init', tokenizerJson, tokenizerConfig });
  }

  #fail(err: Error): void {
    this.#failed = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#worker.unref();
  }

  /** Encodes like encodeExample, off the main thread; falls back to in-thread encoding on a worker failure. */
  async encode(
    examples: readonly Example[],
    tokenizer: Tokenizer,
    format: InputFormat,
    specialIds: ReadonlySet<number>,
  ): Promise<EncodedInput[]> {
    const local = () => examples.map((e) => encodeExample(e, tokenizer, format, specialIds));
    if (this.#failed) {
      this.#warnOnce(this.#failed);
      return local();
    }
    let out: Encoded[];
    try {
      out = await new Promise<Encoded[]>((resolve, reject) => {
        const id = this.#next++;
        if (this.#pending.size === 0) this.#worker.ref();
        this.#pending.set(id, { resolve, reject });
        this.#worker.postMessage({ type: 'encode', id, items: examples.map((e) => firstAttempt(e, format)) });
      });
    } catch (err) {
      this.#warnOnce(err);
      return local();
    }
    return out.map((enc, i) =>
      enc.ids.length <= format.maxLength
        ? { ids: enc.ids, typeIds: enc.typeIds, droppedTurns: 0, truncated: false }
        : encodeExample(examples[i]!, tokenizer, format, specialIds),
    );
  }

  #warnOnce(err: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#warn(
      `onnx-classifier: the tokenizer worker failed (${err instanceof Error ? err.message : String(err)}); tokenizing on the main thread`,
    );
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#worker.terminate();
  }
}
