// The reference model: what each read may return, from the history of every call made so far.
//
// Time is logical: `tick()` numbers each call's start and end, each fault and each settle. A call's
// effect happens somewhere between its start and its end; the model never guesses where. It keeps,
// per storage location ('idb', shared by the tabs that have IndexedDB, or one tab's memory tier), the
// writes of each key, and globally the things that remove entries (deletes, events, clears, wipes,
// eviction windows). A read may return a value some write may still hold at that time, and may miss
// only if something may have removed it; where a removal is certain the model says when it becomes so.
// The clock (ms) moves forward and back at logical times: the model keeps what it read from each on.
import { albumKey } from '../../src/albumKey';
import type { CacheEvent } from '../../src/cacheEvent';
import { isBuiltInType, type TypeName } from '../../src/contentType';
import { shouldInvalidateForEvent } from '../../src/shouldInvalidateForEvent';
import type { SmartCacheConfig } from '../../src/SmartCacheConfig';
import { tableOf } from '../support/tableOf';

export type Outcome = 'pending' | 'ok' | 'fail' | 'maybe';

export interface Tags {
  trackIds: readonly string[];
  album?: { artist: string; album: string };
  fingerprint?: string;
}

export interface WriteRecord {
  id: number;
  loc: string;
  type: TypeName;
  key: string;
  /** A unique token: reads are matched to writes by it. */
  value: { w: number };
  tags: Tags;
  /** Bounds of the entry's expiry (clock ms): the engine reads its clock somewhere in the call. */
  expiresMin: number;
  expiresMax: number;
  start: number;
  end: number | null;
  outcome: Outcome;
  /** getOrSet's write: when its fetch started; it may be skipped (no stale write-back), so it never must be present. */
  fetchStart?: number;
  /** Fresh keys written by this setMany and nothing else: checked for all-or-nothing at settles. */
  batch?: string;
}

/**
 * Whether a removal may reach a write in a location: 'no'; 'maybe' (within the removal's own time);
 * 'later' (at any time from its start until a settle delivers it: a message to another tab); or the
 * logical time from which it certainly has (a settle's, for a change carried by messages).
 */
export type Reach = (loc: string, write: WriteRecord) => 'no' | 'maybe' | 'later' | { maybeUntil: number } | number;

export interface Remover {
  what: string;
  start: number;
  end: number | null;
  outcome: Outcome;
  reach: Reach;
  /** An event's removal is certain for a getOrSet whose fetch started before the event did. */
  event?: boolean;
  /** A window (end null) that lasts until every tab has caught up: closed at the end of a settle only. */
  untilSettled?: boolean;
}

/** What makes a write definitely not the current value (a later write of the key, a certain removal). */
function isAfter(later: { start: number; event?: boolean }, write: WriteRecord): boolean {
  if (write.end !== null && later.start > write.end) return true;
  return later.event === true && write.fetchStart !== undefined && later.start > write.fetchStart;
}

/** README, "A clock that was wrong": an entry that can expire used more than a minute after the clock now reads counts as expired. */
const AHEAD_MS = 60_000;
/** README, eviction: "a clock set back by more than a second is followed": by less, uses go on from the time before it. */
const SET_BACK_MS = 1000;

export interface ReadContext {
  loc: string;
  type: TypeName;
  key: string;
  start: number;
  end: number;
  fingerprint?: string | undefined;
  /** Types whose lost writes are not checked: their budget is small enough that eviction is everywhere. */
  evictionProne: boolean;
}

export class Model {
  readonly #config: SmartCacheConfig;
  #time = 0;
  #writes = 0;
  readonly #history = new Map<string, WriteRecord[]>();
  readonly removers: Remover[] = [];
  /** The clock's reading from each logical time `at` on. */
  readonly #clocks: { at: number; ms: number }[];

  constructor(config: SmartCacheConfig, clock = 0) {
    this.#config = config;
    this.#clocks = [{ at: 0, ms: clock }];
  }

  /** The clock now reads `ms` (moved forward or back): returns the logical time of the move. */
  clockMoved(ms: number): number {
    const at = this.tick();
    this.#clocks.push({ at, ms });
    return at;
  }

  /** The lowest and highest the clock read at any time from `from` to `to`, and the most it fell behind what it read before (then). */
  clockSpan(from: number, to: number): { low: number; high: number; drop: number } {
    let [low, high, drop] = [Infinity, -Infinity, 0];
    this.#clocks.forEach(({ at, ms }, index) => {
      if (at > to || (this.#clocks[index + 1]?.at ?? Infinity) <= from) return;
      [low, high, drop] = [Math.min(low, ms), Math.max(high, ms), Math.max(drop, high - ms)];
    });
    return { low, high, drop };
  }

  tick(): number {
    return ++this.#time;
  }

  get time(): number {
    return this.#time;
  }

  nextValue(): { w: number } {
    return { w: ++this.#writes };
  }

  write(record: Omit<WriteRecord, 'id'>): WriteRecord {
    const full = { ...record, id: record.value.w };
    const key = slot(record.loc, record.type, record.key);
    const list = this.#history.get(key);
    if (list) list.push(full);
    else this.#history.set(key, [full]);
    return full;
  }

  remove(remover: Remover): Remover {
    this.removers.push(remover);
    return remover;
  }

  writesOf(loc: string, type: TypeName, key: string): readonly WriteRecord[] {
    return this.#history.get(slot(loc, type, key)) ?? [];
  }

  /** Whether the event removes an entry with these tags from `type` (the rules of SPEC §3, written apart from the engine's). */
  eventRemoves(event: CacheEvent, type: TypeName, tags: Tags): boolean {
    if (!shouldInvalidateForEvent(tableOf(this.#config), type, event.eventType)) return false;
    const tagged = event.trackId !== undefined && tags.trackIds.includes(event.trackId);
    switch (event.eventType) {
      case 'track_added':
        return false;
      case 'track_removed':
      case 'track_modified': {
        const artist = event.metadata?.['artist'];
        const album = event.metadata?.['album'];
        // SPEC §3 and §3b: albums tag successful_api_metadata entries, and a custom type's alike.
        const sameAlbum =
          (type === 'successful_api_metadata' || !isBuiltInType(type)) &&
          typeof artist === 'string' &&
          typeof album === 'string' &&
          tags.album !== undefined &&
          albumKey(tags.album.artist, tags.album.album) === albumKey(artist, album);
        return tagged || sameAlbum;
      }
      case 'fingerprint_changed':
        return tags.fingerprint === event.fingerprint && (event.trackId === undefined || tagged);
      case 'manual_invalidation':
        return event.trackId === undefined || tagged;
      case 'library_sync':
        return true;
    }
  }

  /**
   * The writes whose value a read may return (never: one certainly replaced, removed or expired before it started);
   * `pending` are writes of calls still running that the model records only when they settle.
   */
  visible(read: ReadContext, pending: readonly WriteRecord[] = []): WriteRecord[] {
    const writes = [...this.writesOf(read.loc, read.type, read.key), ...pending];
    const { low } = this.clockSpan(read.start, read.end);
    return writes.filter((write) => {
      if (write.outcome === 'fail' || write.start >= read.end) return false;
      if (write.expiresMax <= low) return false;
      if (read.fingerprint !== undefined && this.#config.shouldUseFingerprintValidation(read.type) && write.tags.fingerprint !== read.fingerprint) {
        return false;
      }
      const replaced = writes.some(
        (other) => other !== write && other.outcome === 'ok' && other.fetchStart === undefined && other.end !== null && other.end < read.start && isAfter(other, write),
      );
      if (replaced) return false;
      return !this.removers.some((remover) => {
        if (remover.outcome !== 'ok' || !isAfter(remover, write)) return false;
        const reach = remover.reach(read.loc, write);
        return typeof reach === 'number' && reach < read.start;
      });
    });
  }

  /**
   * A write the read must find: it certainly ended before the read, is unexpired throughout it, and
   * nothing (another write of the key, a removal that may reach it) overlaps the time from its start to
   * the read's end. Null when a miss is explainable.
   */
  mustFind(read: ReadContext): WriteRecord | null {
    if (read.evictionProne) return null;
    const writes = this.writesOf(read.loc, read.type, read.key);
    for (const write of writes) {
      if (write.outcome !== 'ok' || write.fetchStart !== undefined || write.end === null || write.end >= read.start) continue;
      // Expired at some time since it was written (a sweep may have removed it then, the clock set back since).
      const { high, drop } = this.clockSpan(write.start, read.end);
      if (write.expiresMin <= high) continue;
      // README, "A clock that was wrong": one that can expire, used (written, read) more than a minute after the clock
      // reads, counts as expired (at any time since the write: a sweep, a read may remove it then); a use made up to a
      // second after a set back goes on from the time before it (README, eviction). Only an entry that can expire, and
      // only a miss: an eternal entry stays, and what removed or replaced a value still wins (visible).
      if (write.expiresMin !== Infinity && drop >= AHEAD_MS - SET_BACK_MS) continue;
      if (read.fingerprint !== undefined && this.#config.shouldUseFingerprintValidation(read.type) && write.tags.fingerprint !== read.fingerprint) {
        continue;
      }
      const overlaps = (start: number, end: number | null) => start < read.end && (end === null || end > write.start);
      if (writes.some((other) => other !== write && other.outcome !== 'fail' && overlaps(other.start, other.end))) continue;
      const removable = this.mayRemove(read.loc, write, write.start, read.end);
      if (!removable) return write;
    }
    return null;
  }

  /** Whether some removal may have taken effect on the write, in that location, between `from` and `to`. */
  mayRemove(loc: string, write: WriteRecord, from: number, to: number): boolean {
    return this.removers.some((remover) => {
      if (remover.outcome === 'fail' || remover.start >= to) return false;
      const reach = remover.reach(loc, write);
      if (reach === 'no') return false;
      // A change carried by messages may take effect in another tab until the settle that delivers it.
      const end =
        reach === 'later'
          ? null
          : typeof reach === 'object'
            ? reach.maybeUntil
            : typeof reach === 'number' && remover.end !== null
              ? Math.max(remover.end, reach)
              : remover.end;
      return end === null || end > from;
    });
  }

  /** Closes the removal windows still open (eviction under a quota fault, say) once what they stood for is over. */
  closeWindows(at: number, settled: boolean): void {
    for (const remover of this.removers) {
      if (remover.end === null && remover.outcome === 'maybe' && (settled || !remover.untilSettled)) remover.end = at;
    }
  }
}

function slot(loc: string, type: TypeName, key: string): string {
  return `${loc}\u0000${type}\u0000${key}`;
}
