// What crosses the worker boundary, declared once. The client validates everything before it is sent,
// so the engine receives only well-formed arguments; values are structured-cloned on the way.
import type { CacheEvent } from './cacheEvent';
import type { CachePolicy } from './cachePolicy';
import type { CacheChange, CacheStats, CleanupReport, EmitReport } from './Cache';
import type { ChannelMessage } from './channelMessage';
import type { ValidConfig, ValidPolicyPatch } from './configSchema';
import type { TypeName } from './contentType';

/** One entry to write, as the client normalised it. */
export interface EntryInput {
  key: string;
  value: unknown;
  trackIds?: string[];
  album?: { artist: string; album: string };
  fingerprint?: string;
  ttlSeconds?: number;
  /** When another tab's fetch stored it (see Written.at): its TTL counts from then, or from now for a clock that reads earlier. */
  at?: number;
}

/** A value read, and which write of its key it is (see `discardCorrupt`). */
export interface Found {
  value: unknown;
  revision: number | undefined;
  /** Past its TTL, served within a read-through's stale-while-revalidate window: the milliseconds that window still runs (more than 0). */
  stale?: number;
}

/** A value read that its type's schema refuses (see `discardCorrupt`); `read`: what the read answered, on the page only (not sent: see RemoteEngine.discardCorrupt). */
export interface Corrupt {
  key: string;
  revision: number | undefined;
  read?: Found;
}

/** A read for getOrSet/resolve: how long past its TTL an entry may be served stale (the policy's window by default). */
export interface ReadThrough {
  /** Given (undefined: the policy's window) by a read-through only: a get's read, which may say `written`, serves nothing stale. */
  staleSeconds?: number | undefined;
  /**
   * The read again under the key's fetch lock, of what another tab (or call) may have stored since the
   * first read: never served stale, and not counted (stats count one read per call: its first).
   */
  again?: true;
  /** A `has` of a type with a schema (the page checks the value): not a read of the entry either, no read time. */
  peek?: true;
  /**
   * Those of the read's keys this page wrote after it made the read (see ReadsBeforeWrites): a
   * fingerprint mismatch met there is that write's entry, a miss not removed.
   */
  written?: ReadonlySet<string>;
}

/** An entry as `entries` lists it. */
export interface Listed extends Found {
  key: string;
}

/**
 * Where a store's changes stood at some moment (opaque to the client): the position of the IndexedDB
 * log, or the count of one memory store's changes (a memory store of another worker, started since,
 * cannot tell what changed: it stores nothing under such a mark). A write guarded by it skips what
 * later changes remove.
 */
export type Mark = { log: { epoch: string | null; seq: number }; holds?: Holds } | { journal: number; store: string };

/** What one key held in IndexedDB at a read-through's mark: a write of it since (another tab's set, whose message may never come) is newer than what the fetch brings. */
export interface Holds {
  key: string;
  /** Its entry's revision, or null where there was none. */
  revision: number | null;
  /**
   * The type's count of deleteManys (see Usage.deletes): a key that held an entry then and none at the write,
   * once it moved, may have been deleted by another tab (whose message may never come), not expired or evicted.
   */
  deletes: number;
  /** When it was taken (epoch ms); the page sets when the fetch's fetcher was called, which its write tells (see worker/fetchRevision). */
  at: number;
  /**
   * Set by the page as it writes: another tab's delete of the key was heard since the fetcher was called. Of a key that held
   * none then and none at the write, with deleteManys counted since, it was set and deleted meanwhile (see IdbStore's guard).
   */
  deleted?: boolean;
}

export interface SetManyOptions {
  /** With it, progress is reported to the client under this id. */
  batch?: string | undefined;
  /** getOrSet's write: leave out an entry that a change made since this mark (the fetch's start) removes. */
  since?: Mark | undefined;
  /**
   * Marks the write in IndexedDB under this id, in its own transaction: a client whose worker died
   * before answering asks the next one (`committed`) whether it happened.
   */
  commitId?: string | undefined;
  /** Commit marks of the page's earlier changes of the type whose answers it has (see AnsweredMarks): deleted in this write's transaction. */
  answered?: string[] | undefined;
  /**
   * The type's policy as the page's call was made, when the app may patch it (see CacheClientOptions.config): one made before a
   * patch and sent after it (a chunked setMany's commit; a read-through's write made again on a next worker) keeps it.
   */
  policy?: CachePolicy | undefined;
}

/** What a setMany wrote: where, and what its guard left out. */
export interface Written {
  /** The keys left out because a change since the write's mark (`since`) removes them: returned by a read-through, not stored. */
  stale: string[];
  /** Written where every tab reads it (IndexedDB); false for the memory tier, persistent types too while IndexedDB is unusable. */
  shared: boolean;
  /** When it was written, by the engine's clock: a value another tab takes from a read-through keeps its TTL from then. */
  at?: number;
  /** The TTL of an entry written without one, by the policy it was written under: a value another tab takes keeps that one, not its own policy's. */
  ttlSeconds?: number;
}

/**
 * A change the engine applies at most once under `id` (deleteMany, clear, emit): a client whose worker
 * died before answering sends it again to the next one with `retry`, which answers as the first did if
 * that one happened (its commit mark, or the log), and applies it otherwise.
 */
export interface Once {
  id: string;
  retry: boolean;
  /** deleteMany: as SetManyOptions.answered. */
  answered?: string[] | undefined;
  /** deleteMany of a type with a schema: answer with the values removed, which the page checks (see Deleted). */
  values?: true | undefined;
}

/**
 * What a deleteMany answers: how many entries it removed; asked for them (Once.values), the values it
 * removed instead, one per entry, for the page to leave out those the type's schema refuses (no entry for
 * get, has or keys) — but the count where it cannot tell them: a retry answered from the dead worker's mark.
 */
export type Deleted = number | unknown[];

/** The engine's methods, called directly in-process or through Comlink from the main thread. */
export interface EngineApi {
  /** For a read-through, an entry past its TTL but within its stale window is returned, marked stale. */
  getMany(type: TypeName, keys: string[], fingerprints?: (string | undefined)[], readThrough?: ReadThrough): Promise<(Found | undefined)[]>;
  setMany(type: TypeName, entries: EntryInput[], options?: SetManyOptions): Promise<Written>;
  /** Where the type's store stands now: taken when a fetch starts, given to the write of what it fetched. */
  /** With `key` (a read-through's), what that key holds too (see Holds). */
  mark(type: TypeName, key?: string): Promise<Mark>;
  /**
   * Big batches of `type` arrive in chunks and are written by `commit` (a first one, maybe empty, before any call made
   * after the setMany: where the event log stands then, changes logged since apply to its import).
   */
  stage(type: TypeName, batch: string, entries: EntryInput[]): Promise<void>;
  /**
   * Writes the `count` entries staged under `options.batch`; rejects with `worker_failed`, writing nothing, when
   * this engine holds another number of them (part was staged in a worker that died since).
   */
  commit(type: TypeName, count: number, options: SetManyOptions & { batch: string }): Promise<void>;
  /**
   * Whether a write of `type` marked `commitId` (see SetManyOptions) is in IndexedDB; false where there is
   * none; rejects where there is one this engine cannot open (the type persistent, kept in memory here): it cannot tell.
   * `keys`: what the write set, told to the watchers as set (under `commitId`: heard once, whichever worker
   * tells it), and which the room an import makes once committed spares (its dead worker had not made it yet).
   */
  committed(type: TypeName, commitId: string, keys?: ReadonlySet<string>): Promise<boolean>;
  discard(batch: string): Promise<void>;
  /** Whether a live (unexpired) entry exists; counts no hit or miss. */
  has(type: TypeName, key: string): Promise<boolean>;
  /** Live keys in key order, only those starting with `prefix` when given. */
  keys(type: TypeName, prefix?: string): Promise<string[]>;
  /** Live entries in key order (with their revisions, for `discardCorrupt`), only those whose key starts with `prefix` when given. */
  entries(type: TypeName, prefix?: string): Promise<Listed[]>;
  /** Removes the keys' entries in one transaction; how many there were (or what: see Deleted). */
  deleteMany(type: TypeName, keys: string[], once?: Once): Promise<Deleted>;
  clear(type?: TypeName, once?: Once): Promise<void>;
  emit(event: CacheEvent, once?: Once): Promise<EmitReport>;
  /** Every type of the engine's config. */
  stats(): Promise<CacheStats<string>>;
  cleanup(): Promise<CleanupReport>;
  /**
   * Values that no longer match their schema: delete the entry if it is still the write that was read (another tab
   * may have rewritten it since), counting each found as corrupt (none when the delete fails: the next read that meets
   * it does), and, when the read counted it as a hit, as a miss instead (not for a listing, which counts none). `lost`: how many of those hits a worker
   * that has died since counted, not this engine: a miss here, and no hit taken back from its counts.
   */
  discardCorrupt(type: TypeName, found: Corrupt[], counted?: boolean, lost?: number): Promise<void>;
  /** A deleteMany removed `count` values the type's schema refuses (the page checked them, see Deleted): counted as corrupt, as a read's discard counts one. */
  deletedCorrupt(type: TypeName, count: number): Promise<void>;
  /**
   * The page read these entries itself (see src/DirectReads.ts), each read's keys apart and in the order
   * made: count `hits` of them as hits (a read again is not counted), and each as read for eviction at
   * its time in `at` (when the page read it; now, if later or absent), each read after the one before;
   * and `misses` keys it found no record for.
   */
  touched(type: TypeName, reads: string[][], misses: number, hits: number, at?: number[]): Promise<void>;
  /** The app changed a policy (`SmartCacheConfig.updatePolicy`, checked on the page): follow it. */
  updatePolicy(type: TypeName, patch: ValidPolicyPatch): Promise<void>;
  /** The page is being frozen, or put in the back/forward cache: stop listening to other tabs (and record reads). */
  suspend(): Promise<void>;
  /**
   * The page is being unloaded: record reads while it can still run. Not suspended: what it still changes
   * (an app's own pagehide listener, a call in flight) goes out to the other tabs as it happens.
   */
  unloading(): Promise<void>;
  /** The page is back (resumed, or restored from the back/forward cache): listen again and catch up from the log. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** Every method of EngineApi, for transports that need them listed (a compile error when one is missing). */
export const ENGINE_METHODS = [
  'getMany',
  'setMany',
  'mark',
  'stage',
  'commit',
  'committed',
  'discard',
  'has',
  'keys',
  'entries',
  'deleteMany',
  'clear',
  'emit',
  'stats',
  'cleanup',
  'discardCorrupt',
  'deletedCorrupt',
  'touched',
  'updatePolicy',
  'suspend',
  'unloading',
  'resume',
  'close',
] as const satisfies readonly (keyof EngineApi)[];

/**
 * Entries per message of a big answer (`entries` of a type of 100,000, say), which a worker sends in
 * parts, on a port of its own (see answerParts): the page rebuilds each message's copy in one task, a
 * second or more for the whole answer, a few milliseconds for a part.
 */
export const ANSWER_PART = 2000;

/** A setMany of more entries than this (each key once) is an import, written in steps (short transactions: see worker/Imports.ts). */
export const IMPORT_CHUNK = 1000;

type Missing = Exclude<keyof EngineApi, (typeof ENGINE_METHODS)[number]>;
const allListed: Missing extends never ? true : Missing = true;
void allListed;

/**
 * A place in a database's event log (see worker/EventLog.ts): `seq` names the change, `epoch` the
 * database — one deleted under the tabs (cleared site data) and recreated starts its sequence numbers
 * again, under another epoch.
 */
export interface LogPlace {
  epoch: string | null;
  seq: number;
}

/**
 * A change as the engine tells it. `id`: the call's (see Once) for a change applied at most once: a dead
 * worker may have told it before its retry on the next worker tells it again, in every tab. (A memory
 * tier dies with its worker: a retry's change there is a new one, told without.) A periodic sweep's
 * step's, `swept:` and a random id: a page closing hears it no more (see CacheClient.changed).
 */
export interface ToldChange extends CacheChange {
  id?: string;
}

/** How the engine calls back into the main thread. */
export interface ClientCallbacks {
  /**
   * An event emitted in another tab was applied here; `logged` is where it is in the log (null where
   * there is none), so that a worker replacing a dead one goes on from there. `id`: the change's, by which
   * the page hears each once, whichever of its workers tells it (see PageTab).
   */
  remoteEvent(event: CacheEvent, invalidated: EmitReport['invalidated'], logged?: LogPlace | null, id?: string): void;
  /**
   * The engine has started, and applies the other tabs' changes logged after `from`; or it has applied and
   * told another tab's clear logged at `from`; or it reopened another database (the one before deleted under
   * it), whose changes it applies from its start (seq 0). Null: it is about to tell a change it has no place
   * in the log for (it has no log), so the page's next worker must not replay what was logged since the page listened.
   * `unlogged`: that change, of a tab without IndexedDB, whose relay here failed, and the database the engine logs it in
   * (the one that relay failed in): the page's next worker logs it there too (see KeptMessages.listening).
   */
  listening(from: LogPlace | null, unlogged?: { id: string; epoch: string }): void;
  /** `done` of `total` entries of a batch are written. */
  progress(batch: string, done: number, total: number): void;
  /** A failure the engine could not throw to a caller, for the app's logger. */
  log(message: string, error: unknown): void;
  /** Entries changed, here or in another tab (coalesced per task), for `watch`. */
  changed(changes: ToldChange[]): void;
  /**
   * The tab, which has no log, resumed: it may have missed other tabs' events, and held no entry to forget, so
   * no watcher hears of it; the page's adapters of `on` act on it (see cacheInternals' forgot).
   */
  forgot?(): void;
  /**
   * Where the engine keeps its persistent types: told once it has opened, and again if IndexedDB fails
   * for good. The engine waits for the page's answer before it answers anything from memory, so a page
   * reading IndexedDB itself (src/DirectReads.ts) stops before any write it could miss has resolved.
   * `name`: in IndexedDB, what the database's loss is told under (see goneId), which the next worker knows it by.
   */
  storage?(where: StorageKind, name?: string | null): void;
  /**
   * The epochs of the databases the page read persistent entries from itself (see DirectReads) before any worker said where it
   * keeps them, in the order it opened them: a first worker is sent its open before the page reads anything, and tells the
   * loss of those it does not keep them in (see Engine.create).
   */
  readFrom?(): readonly string[] | Promise<readonly string[]>;
}

/** Where an engine keeps its persistent types. */
export type StorageKind = 'indexeddb' | 'memory';

/** An engine behind a boundary that can die (a Worker), as the main thread holds it. */
export interface EngineConnection {
  engine: EngineApi;
  /** Rejects with `worker_failed` when the engine's thread dies, or is terminated. */
  died: Promise<never>;
  /** Stops the engine's thread; `reason`: what its calls reject with (why it was stopped). */
  terminate(reason?: string): void;
  /**
   * Answers while the thread lives. Given where its death cannot be observed (no Web Locks): a call
   * that takes long makes the caller probe, and a thread that does not answer is taken for dead.
   */
  probe?: () => Promise<void>;
  /**
   * Answers while the thread runs, where its death is observed too: a page closing its cache pings a
   * worker it waits for, which may hang without dying (see RemoteEngine.closing).
   */
  ping?: () => Promise<void>;
  /** Where this engine keeps its persistent types, as it last said (null until it has). */
  storage?: () => StorageKind | null;
  /** Settles when the engine has opened (a connection is handed over as soon as its thread answers): its storage is known then. */
  opened?: Promise<unknown>;
}

/** What the worker posts as its script starts, before any call: it loaded (sooner than the answer to a ping). */
export const WORKER_LOADED = 'reprise:loaded';

/** What the main thread sends to open an engine in a worker. */
export interface WorkerOpenOptions {
  name: string;
  /** Validated by the page: the worker builds its PolicyTable from it without parsing it again. */
  config: ValidConfig;
  /** A Web Lock the worker holds while it lives: the main thread learns of its death when it is released. */
  lock: string | null;
  /**
   * The page's end of the worker's channels to the other tabs, null where the page has no
   * BroadcastChannel: the worker sends a MessagePort over it for each channel it opens, and the page
   * (`channelRelay`) joins that port to a BroadcastChannel whose messages it checks.
   */
  relay: MessagePort | null;
  /**
   * The page, as the other tabs know it (every worker of one page has the same: a change a dead worker
   * made is this tab's own for the next one), and the last change of another tab its workers applied:
   * a worker replacing a dead one replays what was logged after it. `listenedAt`: when the page began
   * listening for its workers (see PageTab). `gone`: the names of the databases (their epochs, or more: see
   * ClientCallbacks.storage) and memory tiers whose loss its workers told (see goneId): the next one does not
   * tell it again. `kept`: the name of what its workers kept the persistent types in when they last said so
   * (see PageTab), a loss the next one tells as a database's. `tier`: the memory tier of the last worker that
   * said where it keeps things, whose memory types the next one tells lost so.
   */
  tab: { id: string; since: LogPlace | null; listenedAt?: number; gone?: string[]; kept?: string | null; tier?: string };
}

/**
 * The id under which a worker tells its page's watchers that the database of `epoch` is gone (a clear of
 * each persistent type, see Engine's lostEntries), and the epoch such an id names: the page hears it once,
 * whichever of its workers tells it, and its next worker knows it told (see PageTab). One format, both sides.
 */
export const goneId = (epoch: string, type: TypeName): string => `gone:${epoch}:${type}`;
/** A type's name has no colon; an epoch might. */
export const goneEpochOf = (id: string | undefined): string | undefined => (id?.startsWith('gone:') ? id.slice(5, id.lastIndexOf(':')) : undefined);

/**
 * The id under which a worker tells its page's watchers of a type that its tab forgot changes it could not
 * replay (see CrossTabChanges' forgetUnseen): `forgetting` names that forgetting (where in the log the tab
 * goes on from, which the page's next worker finds the same), and the page hears it once; and the forgetting
 * such an id names, for the page to act on it once (see cacheInternals' forgot). One format, both sides.
 */
export const forgotId = (forgetting: string, type: TypeName): string => `forgot:${forgetting}:${type}`;
export const forgettingOf = (id: string | undefined): string | undefined => (id?.startsWith('forgot:') ? id.slice(7, id.lastIndexOf(':')) : undefined);

/**
 * The id under which a write's worker tells the room it made (what it expired or evicted to fit the budget):
 * its own, the set's being heard in an earlier batch (a page drops a batch that repeats an id heard), and
 * one the page keeps with the write's while the write is unsettled (see HeardChanges.mine). One format, both sides.
 */
export const roomOf = (commitId: string): string => `${commitId}:room`;

/** On a relayed channel's port, from the page: `'listening'` once its BroadcastChannel is open, then each message of another tab (null: a malformed one, dropped). */
export type RelayedMessage = 'listening' | ChannelMessage | null;

/** On a relayed channel's port, from the worker: a message for the other tabs, or null to close the channel. */
export type RelayRequest = ChannelMessage | null;

/**
 * What the worker entry exposes: one call that opens the engine and returns the port it is exposed on,
 * where a message of null data says one end could not read a message of the other (see exposeEngine).
 */
export interface WorkerHost {
  open(options: WorkerOpenOptions, client: ClientCallbacks): Promise<MessagePort>;
  /** Answers at once: the worker is alive. */
  ping(): Promise<void>;
}
