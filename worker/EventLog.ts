import type { LogPlace } from '../src/protocol';
import { randomId } from '../src/randomId';
import type { Database } from './Database';
import type { LoggedChange } from './databaseSchema';
import { requestDone, requestsDone } from './idbRequests';
import { walkCursor } from './walkCursor';

/** How far out of time order log records may be (see EventLog.before). */
const OUT_OF_ORDER_MS = 1000;

/** What a tab catching up reads: the changes after its position, and how far the log has been trimmed. */
export interface LogTail {
  epoch: string | null;
  changes: LoggedChange[];
  /** Changes up to this sequence number are gone; a tab that had not seen them cannot replay them. */
  trimmedThrough: number;
}

/**
 * The changes every tab has made (events, clears), in IndexedDB: each is appended in the transaction
 * that applies it, so it is in the log exactly when it happened, and tabs that missed its message
 * replay it.
 */
export class EventLog {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Adds a change inside the transaction that applies it; its sequence number is the request's result once committed. */
  static append(tx: IDBTransaction, change: Omit<LoggedChange, 'seq'>): IDBRequest<IDBValidKey> {
    return tx.objectStore('events').add(change);
  }

  /** Inside `tx` (events and meta in scope): the epoch, the changes after `seq`, and how far the log was trimmed. */
  static async tail(tx: IDBTransaction, seq: number): Promise<LogTail> {
    const changes = EventLog.readChanges(tx, seq);
    const trimmed = tx.objectStore('meta').get('trimmedThrough') as IDBRequest<number | undefined>;
    const epoch = EventLog.readEpoch(tx);
    await requestsDone([changes, trimmed, epoch]);
    return { epoch: EventLog.epochOf(tx.db, epoch.result), changes: changes.result, trimmedThrough: trimmed.result ?? 0 };
  }

  /** Inside `tx` (meta in scope): the database's epoch. */
  static async epoch(tx: IDBTransaction): Promise<string | null> {
    return EventLog.epochOf(tx.db, await requestDone(EventLog.readEpoch(tx)));
  }

  /**
   * The database's epoch: the name of its `epoch:` store, which its upgrade made (with no write: a database
   * made on a full disk has it), else its `meta` record (`record`, see readEpoch), which a database made before
   * that store has alone, and tabs of builds before it read (see ensureEpoch).
   */
  static epochOf(db: IDBDatabase, record: string | undefined): string | null {
    return Array.from(db.objectStoreNames).find((name) => name.startsWith('epoch:'))?.slice(6) ?? record ?? null;
  }

  /** The request for the `meta` record of the epoch, to issue with a transaction's other reads (see epochOf). */
  static readEpoch(tx: IDBTransaction): IDBRequest<string | undefined> {
    return tx.objectStore('meta').get('epoch') as IDBRequest<string | undefined>;
  }

  /** The request for the changes logged after `seq` (all of them by default), oldest first. */
  static readChanges(tx: IDBTransaction, seq = 0): IDBRequest<LoggedChange[]> {
    return tx.objectStore('events').getAll(IDBKeyRange.lowerBound(seq, true)) as IDBRequest<LoggedChange[]>;
  }

  /** The epoch of the database this tab's connection is to now (see Database.epoch). */
  get epoch(): string | null {
    return this.#db.epoch;
  }

  /** The changes logged after `seq`, oldest first. */
  after(seq: number): Promise<LogTail> {
    return this.#db.transact('reading the event log', ['events', 'meta'], 'readonly', (tx) => EventLog.tail(tx, seq));
  }

  /** The newest change's position (seq 0 for an empty log). */
  head(): Promise<LogPlace> {
    return this.#db.transact('reading the event log', ['events', 'meta'], 'readonly', EventLog.headIn);
  }

  /** Inside `tx` (events and meta in scope): the newest change's position. */
  static async headIn(tx: IDBTransaction): Promise<LogPlace> {
    const [cursor, epoch] = await Promise.all([requestDone(tx.objectStore('events').openKeyCursor(null, 'prev')), EventLog.epoch(tx)]);
    return { epoch, seq: typeof cursor?.key === 'number' ? cursor.key : 0 };
  }

  /**
   * Where a tab stands that has applied every change logged before `time` (epoch ms) and none since: the
   * place before the oldest change logged at or after it (the head when there is none). Times are taken
   * in each change's transaction (see IdbStore's invalidateAndLog), so in log order, but by each tab's clock,
   * which may differ by a little (a clock slewed): the walk goes OUT_OF_ORDER_MS past `time`. A change
   * stamped later than `now` (the clock as the walk begins) was logged before the clock was set back: with
   * `time` behind `now`, before `time` too as far as can be told, so not counted (one logged between `time`
   * and a set back shorter than the time since is then not either: its message alone tells it). With the
   * clock set back behind `time` (ahead of `now`), what was logged since the set back is stamped before
   * `time`, as what was logged before it is: the walk goes on back to a change stamped at or after `time`
   * (logged before the set back), and what follows it counts. Where there is none, and the newest change
   * may have been logged since the set back (it is stamped no later than the clock allows), which changes
   * came after `time` cannot be told: null — for a set back of more than OUT_OF_ORDER_MS only, the tolerance
   * every walk has (a clock a tick behind `time` is no reason to forget).
   */
  before(time: number, now: number): Promise<LogPlace | null> {
    // Set back after `time` (which is then ahead of the clock): changes are told apart by it alone.
    const setBack = time > now;
    const latest = setBack ? Infinity : now + OUT_OF_ORDER_MS;
    return this.#db.transact('reading the event log', ['events', 'meta'], 'readonly', async (tx) => {
      let head = 0;
      let newest = 0;
      let oldest: number | null = null;
      const walked = walkCursor(tx.objectStore('events').openCursor(null, 'prev'), (cursor) => {
        const { at } = cursor.value as LoggedChange;
        if (!head) [head, newest] = [cursor.key as number, at];
        if (at >= time && at <= latest) oldest = cursor.key as number;
        return at >= time - OUT_OF_ORDER_MS || (setBack && oldest === null);
      });
      const [epoch] = await Promise.all([EventLog.epoch(tx), walked]);
      if (time > now + OUT_OF_ORDER_MS && oldest === null && head && newest <= now + OUT_OF_ORDER_MS) return null;
      return { epoch, seq: oldest === null ? head : oldest - 1 };
    });
  }

  /**
   * Gives the database an epoch record where it has none: a database made by Reprise 0.1 (which had no
   * epoch) a new one, which two tabs doing it at once agree on; one made on a full disk that of its
   * `epoch:` store, before a tab of an earlier build (which reads the record alone) makes another. On a
   * full disk it fails: the next open writes it.
   */
  async ensureEpoch(): Promise<void> {
    const epoch = await this.#db.transact('naming the database', ['meta'], 'readwrite', async (tx) => {
      const found = await requestDone(EventLog.readEpoch(tx));
      if (found !== undefined) return EventLog.epochOf(tx.db, found)!;
      const made = EventLog.epochOf(tx.db, undefined) ?? randomId();
      tx.objectStore('meta').put(made, 'epoch');
      return made;
    });
    this.#db.named(epoch);
  }

  /** Deletes changes logged before `before` (epoch ms), but never the newest `keep`; returns how many. */
  trim(before: number, keep: number): Promise<number> {
    return this.#db.transact('trimming the event log', ['events', 'meta'], 'readwrite', async (tx) => {
      const store = tx.objectStore('events');
      // Walk from the newest back: past the `keep` newest, the first change older than `before` marks the cut.
      let seen = 0;
      let cut = 0;
      await walkCursor(store.openCursor(null, 'prev'), (cursor) => {
        const change = cursor.value as LoggedChange;
        if (++seen > keep && change.at < before) {
          cut = change.seq;
          return false;
        }
        return true;
      });
      if (!cut) return 0;
      const count = await requestDone(store.count(IDBKeyRange.upperBound(cut)));
      store.delete(IDBKeyRange.upperBound(cut));
      const meta = tx.objectStore('meta');
      const previous = ((await requestDone(meta.get('trimmedThrough'))) as number | undefined) ?? 0;
      meta.put(Math.max(previous, cut), 'trimmedThrough');
      return count;
    });
  }
}
