import { transferHandlers, type TransferHandler } from 'comlink';
import { CacheError, isCacheError, type CacheErrorCode, type CacheErrorIssue } from './CacheError';

interface SerializedCacheError {
  isCacheError: true;
  code: CacheErrorCode;
  message: string;
  issues: readonly CacheErrorIssue[];
  stack: string | undefined;
  /** Only when it can be copied: a CacheError serialized in turn, or what structured clone takes (an Error, a DOMException). */
  cause?: unknown;
}

let registered = false;

function serialize(error: CacheError): SerializedCacheError {
  const issues = error.issues.map(({ path, message }) => ({ path, message }));
  let { cause } = error;
  if (isCacheError(cause)) cause = serialize(cause);
  else {
    // One postMessage cannot copy is left out, rather than fail the whole answer.
    try {
      structuredClone(cause);
    } catch {
      cause = undefined;
    }
  }
  return { isCacheError: true, code: error.code, message: error.message, issues, stack: error.stack, cause };
}

function deserialize(serialized: unknown): CacheError | undefined {
  const candidate = serialized as Partial<SerializedCacheError> | null;
  if (candidate?.isCacheError !== true || !candidate.code || typeof candidate.message !== 'string') return undefined;
  const error = new CacheError(candidate.code, candidate.message, { issues: candidate.issues ?? [], cause: deserialize(candidate.cause) ?? candidate.cause });
  if (candidate.stack) error.stack = candidate.stack;
  return error;
}

/**
 * Comlink sends a thrown error as name, message and stack only, and structured clone drops a
 * CacheError's name and `code`. This replaces Comlink's 'throw' handler with one that carries code,
 * issues and cause (what can be copied of it) and rebuilds a real CacheError on the other side (other
 * throws go through Comlink's own), and adds one for a CacheError passed as a value (the worker's log
 * reports). Both sides must register it.
 */
export function registerCacheErrorTransfer(): void {
  if (registered) return;
  registered = true;
  const original = transferHandlers.get('throw') as TransferHandler<{ value: unknown }, unknown>;
  const thrown: TransferHandler<{ value: unknown }, unknown> = {
    canHandle: (value): value is { value: unknown } => original.canHandle(value),
    serialize: (wrapper) => (isCacheError(wrapper.value) ? [serialize(wrapper.value), []] : original.serialize(wrapper)),
    deserialize(serialized) {
      const error = deserialize(serialized);
      if (!error) return original.deserialize(serialized);
      throw error;
    },
  };
  transferHandlers.set('throw', thrown);
  const value: TransferHandler<CacheError, SerializedCacheError> = {
    canHandle: (candidate): candidate is CacheError => isCacheError(candidate),
    serialize: (error) => [serialize(error), []],
    deserialize: (serialized) => deserialize(serialized) ?? new CacheError('worker_failed', 'An unreadable error came from the worker'),
  };
  transferHandlers.set('reprise-cache-error', value as TransferHandler<unknown, unknown>);
}
