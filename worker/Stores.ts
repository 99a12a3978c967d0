import type { TypeName } from '../src/contentType';
import type { CacheEvent } from '../src/cacheEvent';
import { invalidationTargets } from '../src/invalidationTargets';
import type { Logger } from '../src/Logger';
import type { PolicyTable } from '../src/PolicyTable';
import type { ClientCallbacks, StorageKind } from '../src/protocol';
import { reasonOf } from '../src/describeValue';
import { isOpenFailure } from './Database';
import { unknownIfLanded } from './storageError';
import type { IdbStore } from './IdbStore';
import type { MemoryStore } from './MemoryStore';
import { nothingRemoved } from './RemovedKeyList';
import type { Invalidated, Store } from './Store';

export interface StoresOptions {
  config: PolicyTable;
  memory: MemoryStore;
  /** IndexedDB, opened; null where it could not be: `degraded` says why. */
  idb: IdbStore | null;
  degraded: string | null;
  /** The factory IndexedDB was opened with, if any (see cannotTell). */
  indexedDB: IDBFactory | undefined;
  client: ClientCallbacks | undefined;
  logger: Logger;
  /** IndexedDB was lost, and its log with it. */
  lost: () => void;
}

/**
 * The engine's two stores and which of them keeps each type: IndexedDB for persistent types while it
 * can be opened, the memory tier for the others — and for every type once IndexedDB is lost, which the
 * page is told (ClientCallbacks.storage) before anything is answered from memory.
 */
export class Stores {
  readonly #options: StoresOptions;
  readonly #config: PolicyTable;
  readonly memory: MemoryStore;
  #idb: IdbStore | null;
  #degraded: string | null;
  /** Settles once the page has heard where persistent types are kept (see ClientCallbacks.storage). */
  #told: Promise<void> = Promise.resolve();

  constructor(options: StoresOptions) {
    this.#options = options;
    this.#config = options.config;
    this.memory = options.memory;
    this.#idb = options.idb;
    this.#degraded = options.degraded;
  }

  get idb(): IdbStore | null {
    return this.#idb;
  }

  /** Why persistent types are kept in memory; null while IndexedDB is used. */
  get degraded(): string | null {
    return this.#degraded;
  }

  /** The store that keeps `type`. */
  of(type: TypeName): Store {
    // A type this config does not have (another tab's custom type, named by its message) is in no store of this tab.
    return this.#idb && this.#config.has(type) && this.#config.isPersistent(type) ? this.#idb : this.memory;
  }

  /** The types this tab keeps in IndexedDB, `first`'s first (a full disk's room is made from the types a call changes before the others'). */
  persistentTypes(first: readonly TypeName[] = []): TypeName[] {
    return [...first, ...this.#config.types.filter((type) => !first.includes(type))].filter((type) => this.of(type) === this.#idb);
  }

  /** Applies an event to the memory tier (every type there, persistent ones too while degraded); `targets`: those it was emitted under, if it was here. */
  async invalidateMemory(event: CacheEvent, targets = invalidationTargets(this.#config, event)): Promise<Invalidated> {
    const mine = targets.filter((target) => this.of(target.type) === this.memory);
    return mine.length ? this.memory.invalidate(mine) : nothingRemoved();
  }

  /** Runs `operation` on the type's store; if IndexedDB can no longer be opened, degrades to memory and runs it there. */
  async withStore<T>(type: TypeName, operation: (store: Store) => Promise<T>): Promise<T> {
    const store = this.of(type);
    if (store === this.memory) await this.toldMemory();
    try {
      return await operation(store);
    } catch (error) {
      await this.degradeOrThrow(store, error);
      return operation(this.memory);
    }
  }

  /** Groups types by store and runs `operation` once per store with its types. */
  async byStore(types: readonly TypeName[], operation: (store: Store, types: TypeName[]) => Promise<void>): Promise<void> {
    const unique = [...new Set(types)];
    const groups = new Map<Store, TypeName[]>();
    for (const type of unique) {
      const store = this.of(type);
      groups.set(store, [...(groups.get(store) ?? []), type]);
    }
    for (const [store, mine] of groups) {
      if (store === this.memory) await this.toldMemory();
      try {
        await operation(store, mine);
      } catch (error) {
        await this.degradeOrThrow(store, error);
        await operation(this.memory, mine);
      }
    }
  }

  /** After a failure in `store`: rethrows, unless it is IndexedDB that can no longer be opened — then degrades to memory. */
  async degradeOrThrow(store: Store | null, error: unknown): Promise<void> {
    if (store === null || store === this.memory || !isOpenFailure(error)) throw error;
    // Calls in flight together meet the same failed open: the first degrades, and every one goes on in memory.
    if (store === this.#idb) this.#degrade(error);
    await this.#told;
  }

  /**
   * Before answering from memory: once IndexedDB is lost, a page that reads it itself must have heard
   * so (its answer may travel on another port than this call's, in no set order).
   */
  async toldMemory(): Promise<void> {
    if (this.#idb === null) await this.#told;
  }

  /**
   * A dead worker's change of these types may have reached IndexedDB, which this worker cannot read: it
   * cannot tell whether it happened (false, or nothing removed, would say it did not).
   */
  cannotTell(types: readonly TypeName[], what: string): void {
    if (!this.#idb && this.#options.indexedDB && types.some((type) => this.#config.isPersistent(type))) {
      throw unknownIfLanded(what, this.#degraded!);
    }
  }

  /** Tells the page where persistent types are kept (and the database's name, see IdbStore.name); settles once it has heard (or cannot hear). */
  tell(where: StorageKind): Promise<void> {
    const { client } = this.#options;
    if (!client?.storage) return this.#told;
    const telling = Promise.resolve()
      .then(() => client.storage!(where, this.#idb?.name))
      .catch((error: unknown) => this.#options.logger.error('Reprise: a client callback failed', error));
    return (this.#told = telling);
  }

  #degrade(error: unknown): void {
    const reason = reasonOf(error);
    this.#options.logger.error(`Reprise: IndexedDB is unusable, keeping persistent types in memory (${reason})`, error);
    const idb = this.#idb;
    this.#idb = null;
    this.#degraded = reason;
    // Said before the close tells the loss of its entries, which waits for the page to have heard it (see the engine's gone).
    void this.tell('memory');
    // Calls between two of their transactions meet the same failure when they go on, and go on in memory.
    idb?.close(error);
    if (idb) this.#options.lost();
  }
}
