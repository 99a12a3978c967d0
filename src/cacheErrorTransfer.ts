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

/** An ordinary Error with a CacheError down its cause chain, which structured clone would copy as a plain Error without its code. */
interface SerializedCarrier {
  isCacheErrorCarrier: true;
  name: string;
  message: string;
  stack: string | undefined;
  cause: unknown;
}

/** Causes followed at most: a chain that loops back on itself is cut there. */
const MAX_CAUSE_DEPTH = 8;

let registered = false;

/** Whether `value` is an ordinary Error with a CacheError in its cause chain (within MAX_CAUSE_DEPTH). */
function carriesCacheError(value: unknown): value is Error {
  if (!(value instanceof Error) || isCacheError(value)) return false;
  let cause: unknown = value.cause;
  for (let depth = 1; depth < MAX_CAUSE_DEPTH && cause instanceof Error; depth++, cause = cause.cause) if (isCacheError(cause)) return true;
  return false;
}

function serialize(error: CacheError, depth = 0): SerializedCacheError {
  const issues = error.issues.map(({ path, message }) => ({ path, message }));
  return { isCacheError: true, code: error.code, message: error.message, issues, stack: error.stack, cause: serializeCause(error.cause, depth + 1) };
}

function serializeCause(cause: unknown, depth: number): unknown {
  if (depth >= MAX_CAUSE_DEPTH) return undefined;
  if (isCacheError(cause)) return serialize(cause, depth);
  if (carriesCacheError(cause)) {
    const { name, message, stack } = cause;
    return { isCacheErrorCarrier: true, name, message, stack, cause: serializeCause(cause.cause, depth + 1) } satisfies SerializedCarrier;
  }
  // One postMessage cannot copy is left out, rather than fail the whole answer.
  try {
    structuredClone(cause);
    return cause;
  } catch {
    return undefined;
  }
}

function deserialize(serialized: unknown): Error | undefined {
  const candidate = serialized as (Partial<SerializedCacheError> & Partial<SerializedCarrier>) | null;
  if (candidate?.isCacheErrorCarrier === true && typeof candidate.message === 'string') {
    const error = new Error(candidate.message, { cause: deserialize(candidate.cause) ?? candidate.cause });
    error.name = candidate.name ?? 'Error';
    if (candidate.stack) error.stack = candidate.stack;
    return error;
  }
  if (candidate?.isCacheError !== true || !candidate.code || typeof candidate.message !== 'string') return undefined;
  const error = new CacheError(candidate.code, candidate.message, { issues: candidate.issues ?? [], cause: deserialize(candidate.cause) ?? candidate.cause });
  if (candidate.stack) error.stack = candidate.stack;
  return error;
}

/**
 * Comlink sends a thrown error as name, message and stack only, and structured clone drops a
 * CacheError's name and `code`. This replaces Comlink's 'throw' handler with one that carries code,
 * issues and cause (what can be copied of it; a CacheError down an ordinary Error's cause chain too) and rebuilds a real CacheError on the other side (other
 * throws go through Comlink's own), and adds one for a CacheError passed as a value (the worker's log
 * reports). Both sides must register it.
 */
export function registerCacheErrorTransfer(): void {
  if (registered) return;
  registered = true;
  const original = transferHandlers.get('throw') as TransferHandler<{ value: unknown }, unknown>;
  const thrown: TransferHandler<{ value: unknown }, unknown> = {
    canHandle: (value): value is { value: unknown } => original.canHandle(value),
    serialize: (wrapper) => (isCacheError(wrapper.value) || carriesCacheError(wrapper.value) ? [serializeCause(wrapper.value, 0), []] : original.serialize(wrapper)),
    deserialize(serialized) {
      const error = deserialize(serialized);
      if (!error) return original.deserialize(serialized);
      throw error;
    },
  };
  transferHandlers.set('throw', thrown);
  const value: TransferHandler<Error, unknown> = {
    canHandle: (candidate): candidate is Error => isCacheError(candidate) || carriesCacheError(candidate),
    serialize: (error) => [serializeCause(error, 0), []],
    deserialize: (serialized) => deserialize(serialized) ?? new CacheError('worker_failed', 'An unreadable error came from the worker'),
  };
  transferHandlers.set('reprise-cache-error', value as TransferHandler<unknown, unknown>);
}
