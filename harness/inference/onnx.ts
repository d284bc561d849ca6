import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InputError, RuntimeFailure } from '../errors.ts';
import type { Logger } from '../types.ts';

export type DeviceRequest = 'auto' | 'cuda' | 'cpu';
export type Device = 'cuda' | 'cpu';

/** An ONNX Runtime session with the device it actually runs on. */
export interface OnnxSession {
  session: ort.InferenceSession;
  device: Device;
  modelPath: string;
  inputNames: readonly string[];
  outputNames: readonly string[];
}

const sessions = new Map<string, Promise<OnnxSession>>();
/** Why CUDA cannot be used in this process, once known (it does not change while the process lives). */
let cudaUnavailable: string | undefined;
/** The fallback notice is said once per run (per logger), not once per model. */
const noticeGiven = new WeakSet<Logger>();

/**
 * Whether onnxruntime-node's CUDA execution provider library is installed next to its binding
 * (ONNXRUNTIME_NODE_INSTALL=cuda12 puts it there). Looking first avoids a failing load per model.
 */
export function cudaProviderInstalled(): boolean {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const bin = join(root, 'bin');
    return readdirSync(bin, { recursive: true, encoding: 'utf8' }).some((f) =>
      /providers_cuda\.(so|dll)$/.test(f),
    );
  } catch {
    return false;
  }
}

/**
 * One session per model file and device request, reused across tasks. `auto` tries CUDA and falls
 * back to CPU with a one-line notice: ORT itself raises when the CUDA provider is missing rather
 * than falling back, so the fallback has to live here. `cuda` asked for explicitly and absent is an error.
 */
export function getSession(
  modelPath: string,
  options: { device: DeviceRequest; log?: Logger; intraOpThreads?: number },
): Promise<OnnxSession> {
  const key = `${options.device}\u0000${modelPath}`;
  let pending = sessions.get(key);
  if (!pending) {
    pending = createSession(modelPath, options);
    sessions.set(key, pending);
    pending.catch(() => sessions.delete(key));
  }
  return pending;
}

async function createSession(
  modelPath: string,
  options: { device: DeviceRequest; log?: Logger; intraOpThreads?: number },
): Promise<OnnxSession> {
  if (!existsSync(modelPath)) throw new InputError('model file not found', modelPath);
  const base: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
  if (options.intraOpThreads) base.intraOpNumThreads = options.intraOpThreads;
  if (options.device !== 'cpu') {
    const unavailable =
      cudaUnavailable ?? (cudaProviderInstalled() ? undefined : 'the CUDA provider is not installed');
    if (unavailable === undefined) {
      try {
        // ORT logs its own error line when CUDA fails to load; keep the console to our one-line notice.
        const session = await ort.InferenceSession.create(modelPath, {
          ...base,
          executionProviders: ['cuda'],
          logSeverityLevel: 4,
        });
        return wrap(session, 'cuda', modelPath);
      } catch (err) {
        cudaUnavailable = firstLine(err);
      }
    } else {
      cudaUnavailable = unavailable;
    }
    if (options.device === 'cuda') {
      throw new RuntimeFailure(
        `CUDA was requested for ${modelPath} but ONNX Runtime could not use it (${cudaUnavailable}); install its CUDA provider with ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install, or use --device cpu`,
      );
    }
    if (options.log && !noticeGiven.has(options.log)) {
      noticeGiven.add(options.log);
      options.log.info(`device auto: CUDA unavailable (${cudaUnavailable}); running on CPU`);
    }
  }
  try {
    const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
    return wrap(session, 'cpu', modelPath);
  } catch (err) {
    throw new InputError(`not a loadable ONNX model: ${firstLine(err)}`, modelPath);
  }
}

function wrap(session: ort.InferenceSession, device: Device, modelPath: string): OnnxSession {
  return { session, device, modelPath, inputNames: session.inputNames, outputNames: session.outputNames };
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err)
    .split('\n')[0]!
    .slice(0, 300);
}

/** Runs one batch. A thin wrapper so every adapter goes through one place (timing, errors). */
export async function runSession(
  handle: OnnxSession,
  feeds: Record<string, ort.Tensor>,
): Promise<ort.InferenceSession.ReturnType> {
  try {
    return await handle.session.run(feeds);
  } catch (err) {
    // An index past an embedding table is no memory or provider fault (retrying smaller batches
    // cannot help): the tokenizer does not belong to the model.
    if (/indices element out of data bounds/.test(firstLine(err)))
      throw new InputError(
        `${handle.modelPath}: a token id is outside the model's embedding table; does tokenizer.json belong to this model? (${firstLine(err)})`,
      );
    throw new RuntimeFailure(`ONNX Runtime failed on ${handle.modelPath}: ${firstLine(err)}`, { cause: err });
  }
}

/**
 * Drops and releases the cached sessions of one model file (every device request). Call it after
 * rewriting the file (a refitted baseline), or the cache would keep serving the old model.
 */
export async function forgetSession(modelPath: string): Promise<void> {
  for (const [key, pending] of [...sessions]) {
    if (key.slice(key.indexOf('\u0000') + 1) !== modelPath) continue;
    sessions.delete(key);
    try {
      await (await pending).session.release();
    } catch {
      // A session that failed to open has nothing to release.
    }
  }
}

/** Releases every cached session (end of a run, or tests). */
export async function releaseSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const p of all) {
    try {
      await (await p).session.release();
    } catch {
      // A session that failed to open has nothing to release.
    }
  }
}

export { ort };
