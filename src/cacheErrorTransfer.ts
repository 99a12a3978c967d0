import { transferHandlers, type TransferHandler } from 'comlink';
import { CacheError, isCacheError, type CacheErrorCode, type CacheErrorIssue } from './CacheError';

interface SerializedCacheError {
  isCacheError: true;
  code: CacheErrorCode;
  message: string;
  issues: readonly CacheErrorIssue[];
  stack: string | undefined;
}

let registered = false;

/**
 * Comlink sends a thrown error as name, message and stack only, so a CacheError's `code` would be lost.
 * This replaces its 'throw' handler with one that carries code and issues and rebuilds a real CacheError
 * on the other side; other throws go through Comlink's own handler. Both sides must register it.
 */
export function registerCacheErrorTransfer(): void {
  if (registered) return;
  registered = true;
  const original = transferHandlers.get('throw') as TransferHandler<{ value: unknown }, unknown>;
  const handler: TransferHandler<{ value: unknown }, unknown> = {
    canHandle: (value): value is { value: unknown } => original.canHandle(value),
    serialize(thrown) {
      const { value } = thrown;
      if (!isCacheError(value)) return original.serialize(thrown);
      const serialized: SerializedCacheError = {
        isCacheError: true,
        code: value.code,
        message: value.message,
        issues: value.issues.map(({ path, message }) => ({ path, message })),
        stack: value.stack,
      };
      return [serialized, []];
    },
    deserialize(serialized) {
      const candidate = serialized as Partial<SerializedCacheError> | null;
      if (candidate?.isCacheError !== true || !candidate.code || typeof candidate.message !== 'string') return original.deserialize(serialized);
      const error = new CacheError(candidate.code, candidate.message, { issues: candidate.issues ?? [] });
      if (candidate.stack) error.stack = candidate.stack;
      throw error;
    },
  };
  transferHandlers.set('throw', handler);
}
