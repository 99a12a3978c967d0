import * as Comlink from 'comlink';
import type { CacheStats, CleanupReport, EmitReport } from './Cache';
import type { CacheEvent } from './cacheEvent';
import { CacheError, isCacheError } from './CacheError';
import { registerCacheErrorTransfer } from './cacheErrorTransfer';
import type { ContentType } from './contentType';
import type { Logger } from './Logger';
import type { ClientCallbacks, EngineApi, EntryInput, WorkerHost, WorkerOpenOptions } from './protocol';

export interface WorkerEngineOptions {
  createWorker: () => Worker;
  open: Omit<WorkerOpenOptions, 'lock'>;
  client: ClientCallbacks;
  logger: Logger;
}

interface Session {
  worker: Worker;
  engine: Comlink.Remote<EngineApi>;
  /** Rejects with `worker_failed` when the worker dies. */
  died: Promise<never>;
}

/**
 * The engine behind a module Worker. Every call races the worker's death: a worker that crashes or is
 * terminated fails its pending calls with `worker_failed`, and the next call starts a new one.
 */
export class WorkerEngine implements EngineApi {
  readonly #options: WorkerEngineOptions;
  #session: Promise<Session> | null = null;
  #closed = false;

  private constructor(options: WorkerEngineOptions) {
    this.#options = options;
  }

  /** Starts the worker and opens the engine in it; rejects with `worker_failed` if it cannot start. */
  static async start(options: WorkerEngineOptions): Promise<WorkerEngine> {
    registerCacheErrorTransfer();
    const engine = new WorkerEngine(options);
    await engine.#current();
    return engine;
  }

  getMany(type: ContentType, keys: string[], fingerprints?: (string | undefined)[]): Promise<unknown[]> {
    return this.#call((engine) => engine.getMany(type, keys, fingerprints));
  }

  setMany(type: ContentType, entries: EntryInput[], batch?: string): Promise<void> {
    return this.#call((engine) => engine.setMany(type, entries, batch));
  }

  stage(batch: string, entries: EntryInput[]): Promise<void> {
    return this.#call((engine) => engine.stage(batch, entries));
  }

  commit(batch: string, type: ContentType): Promise<void> {
    return this.#call((engine) => engine.commit(batch, type));
  }

  discard(batch: string): Promise<void> {
    return this.#call((engine) => engine.discard(batch));
  }

  delete(type: ContentType, key: string): Promise<boolean> {
    return this.#call((engine) => engine.delete(type, key));
  }

  clear(type?: ContentType): Promise<void> {
    return this.#call((engine) => engine.clear(type));
  }

  emit(event: CacheEvent): Promise<EmitReport> {
    return this.#call((engine) => engine.emit(event));
  }

  stats(): Promise<CacheStats> {
    return this.#call((engine) => engine.stats());
  }

  cleanup(): Promise<CleanupReport> {
    return this.#call((engine) => engine.cleanup());
  }

  discardCorrupt(type: ContentType, keys: string[]): Promise<void> {
    return this.#call((engine) => engine.discardCorrupt(type, keys));
  }

  suspend(): Promise<void> {
    return this.#call((engine) => engine.suspend());
  }

  resume(): Promise<void> {
    return this.#call((engine) => engine.resume());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const session = await this.#session?.catch(() => null);
    if (!session) return;
    try {
      await Promise.race([session.engine.close(), session.died]);
    } catch {
      // A dead worker has nothing left to close.
    } finally {
      session.worker.terminate();
      this.#session = null;
    }
  }

  async #call<T>(run: (engine: Comlink.Remote<EngineApi>) => Promise<T>): Promise<T> {
    if (this.#closed) throw new CacheError('closed', 'This cache is closed');
    const session = await this.#current();
    try {
      return await Promise.race([run(session.engine), session.died]);
    } catch (error) {
      throw toClientError(error);
    }
  }

  #current(): Promise<Session> {
    if (!this.#session) {
      const starting = this.#start();
      this.#session = starting;
      starting.catch(() => {
        if (this.#session === starting) this.#session = null;
      });
    }
    return this.#session;
  }

  async #start(): Promise<Session> {
    const { createWorker, open, client, logger } = this.#options;
    let worker: Worker;
    try {
      worker = createWorker();
    } catch (error) {
      throw new CacheError('worker_failed', `The cache worker could not be created (${String(error)})`, { cause: error });
    }
    let fail!: (error: CacheError) => void;
    const died = new Promise<never>((_, reject) => (fail = reject));
    const session = { worker, engine: Comlink.wrap<EngineApi>(worker), died };
    died.catch((error: unknown) => {
      // Forget the dead worker at once, so the next call starts a new one.
      void this.#session?.then((current) => {
        if (current === session) this.#session = null;
      });
      worker.terminate();
      if (!this.#closed) logger.error('Reprise: the cache worker died; the next call starts a new one', error);
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      fail(new CacheError('worker_failed', `The cache worker failed: ${event.message || 'it could not start'}`));
    });
    worker.addEventListener('messageerror', () => fail(new CacheError('worker_failed', 'The cache worker sent a message that could not be read')));
    const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
    const lock = locks ? `reprise:${open.name}:worker:${crypto.randomUUID()}` : null;
    const host = Comlink.wrap<WorkerHost>(worker);
    // The engine comes back as a proxy of its own; the host's wrapper is only needed for this call.
    session.engine = (await Promise.race([host.open({ ...open, lock }, Comlink.proxy(client)), died])) as unknown as Comlink.Remote<EngineApi>;
    // The worker holds this lock while it lives, so the request is granted exactly when it dies (terminate included).
    if (locks && lock) {
      void locks.request(lock, () => {
        if (!this.#closed) fail(new CacheError('worker_failed', 'The cache worker stopped'));
      });
    }
    return session;
  }
}

/** Errors as the caller should see them: a value postMessage could not clone is `not_cloneable`. */
function toClientError(error: unknown): unknown {
  if (isCacheError(error)) return error;
  if (error instanceof Error && error.name === 'DataCloneError') {
    return new CacheError('not_cloneable', `Value cannot be sent to the cache worker: it is not structured-cloneable (${error.message})`, {
      cause: error,
    });
  }
  return error;
}
