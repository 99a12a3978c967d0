import type { Database } from './Database';
import type { LoggedEvent } from './databaseSchema';
import { requestDone, requestsDone, walkCursor } from './idbRequests';

/** What a tab catching up reads: the events after its last one, and how far the log has been trimmed. */
export interface LogTail {
  events: LoggedEvent[];
  /** Events up to this sequence number are gone; a tab that had not seen them cannot replay them. */
  trimmedThrough: number;
}

/**
 * The events every tab has emitted, in IndexedDB: an event is appended in the same transaction as its
 * invalidation, so it is in the log exactly when it happened, and tabs that missed its message replay it.
 */
export class EventLog {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Adds an event inside the transaction that applies it; its sequence number is the request's result once committed. */
  static append(tx: IDBTransaction, event: Omit<LoggedEvent, 'seq'>): IDBRequest<IDBValidKey> {
    return tx.objectStore('events').add(event);
  }

  /** Events logged after `seq`, oldest first, and how far the log has been trimmed. */
  after(seq: number): Promise<LogTail> {
    return this.#db.transact('reading the event log', ['events', 'meta'], 'readonly', async (tx) => {
      const events = tx.objectStore('events').getAll(IDBKeyRange.lowerBound(seq, true)) as IDBRequest<LoggedEvent[]>;
      const trimmed = tx.objectStore('meta').get('trimmedThrough') as IDBRequest<number | undefined>;
      await requestsDone([events, trimmed]);
      return { events: events.result, trimmedThrough: trimmed.result ?? 0 };
    });
  }

  /** The newest logged event's sequence number, 0 for an empty log. */
  head(): Promise<number> {
    return this.#db.transact('reading the event log', ['events'], 'readonly', async (tx) => {
      const cursor = await requestDone(tx.objectStore('events').openKeyCursor(null, 'prev'));
      return typeof cursor?.key === 'number' ? cursor.key : 0;
    });
  }

  /** Deletes events logged before `before` (epoch ms), but never the newest `keep`; returns how many. */
  trim(before: number, keep: number): Promise<number> {
    return this.#db.transact('trimming the event log', ['events', 'meta'], 'readwrite', async (tx) => {
      const store = tx.objectStore('events');
      // Walk from the newest back: past the `keep` newest, the first event older than `before` marks the cut.
      let seen = 0;
      let cut = 0;
      await walkCursor(store.openCursor(null, 'prev'), (cursor) => {
        const event = cursor.value as LoggedEvent;
        if (++seen > keep && event.at < before) {
          cut = event.seq;
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
