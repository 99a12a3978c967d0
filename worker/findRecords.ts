import type { InvalidationTarget } from '../src/invalidationTarget';
import type { EntryRecord } from './databaseSchema';

/** The records a target finds through its index. */
export function findRecords(store: IDBObjectStore, target: Exclude<InvalidationTarget, { by: 'all' }>): IDBRequest<EntryRecord[]> {
  const query = target.by === 'track' ? target.trackId : target.by === 'album' ? target.albumKey : target.fingerprint;
  return store.index(target.by).getAll(query) as IDBRequest<EntryRecord[]>;
}
