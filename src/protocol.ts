// What crosses the worker boundary, declared once. The client validates everything before it is sent,
// so the engine receives only well-formed arguments; values are structured-cloned on the way.
import type { CacheEvent } from './cacheEvent';
import type { CacheStats, CleanupReport, EmitReport } from './Cache';
import type { ContentType } from './contentType';

/** One entry to write, as the client normalised it. */
export interface EntryInput {
  key: string;
  value: unknown;
  trackIds?: string[];
  album?: { artist: string; album: string };
  fingerprint?: string;
  ttlSeconds?: number;
}

export type Progress = (done: number, total: number) => void;

/** The engine's methods, called directly in-process or through Comlink from the main thread. */
export interface EngineApi {
  getMany(type: ContentType, keys: string[], fingerprints?: (string | undefined)[]): Promise<unknown[]>;
  setMany(type: ContentType, entries: EntryInput[], onProgress?: Progress): Promise<void>;
  /** Big batches arrive in chunks and are written in one transaction by `commit`. */
  stage(batch: string, entries: EntryInput[]): Promise<void>;
  commit(batch: string, type: ContentType, onProgress?: Progress): Promise<void>;
  discard(batch: string): Promise<void>;
  delete(type: ContentType, key: string): Promise<boolean>;
  clear(type?: ContentType): Promise<void>;
  emit(event: CacheEvent): Promise<EmitReport>;
  stats(): Promise<CacheStats>;
  cleanup(): Promise<CleanupReport>;
  /** A value that no longer matches its schema: delete it and count it as corrupt (and as a miss). */
  discardCorrupt(type: ContentType, keys: string[]): Promise<void>;
  close(): Promise<void>;
}

/** How the engine tells the client about events emitted in other tabs. */
export type RemoteEventListener = (event: CacheEvent, invalidated: EmitReport['invalidated']) => void;
