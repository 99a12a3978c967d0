// The database's object stores by name, and the layout mark: what the page needs to read entries too (src/DirectReads.ts).
import { isBuiltInType, type ContentType, type TypeName } from '../src/contentType';

export type StoreName = ContentType | 'events' | 'meta' | `custom:${string}` | `layout:${number}`;

/**
 * The layout of the stores and records (see databaseSchema.ts), marked by an empty object store named
 * `layout:N` (1 when there is none: Reprise 0.1, and 0.2 before usage records moved). The database's own version
 * only counts object stores added (one per persistent custom type, the marks), so a tab opens it at
 * whatever version it has; a database marked above LAYOUT (by a newer Reprise) is refused as a
 * VersionError, with no transaction needed to tell.
 *
 * Layout 2: each type's usage record and commit marks live in the type's own store, beside its
 * entries, so that a write touches that store alone and writes of different types never wait for one
 * another (layout 1 kept usage in one `usage` store that every write shared).
 *
 * Layout 3: an entry record may belong to an import not yet committed (`batch`, `prior`), and a type's
 * store may hold that import's batch record and key chunks (importBatch.ts). Code of layout 2 would
 * read such records as committed, so it must not open this database. Its usage counts each record's
 * own entry, never a prior (see importBatch.ts).
 */
export const LAYOUT = 3;

/** The layout a database is marked with (see LAYOUT): the highest `layout:N` store, or 1. */
export function layoutOf(storeNames: DOMStringList): number {
  let layout = 1;
  for (const name of Array.from(storeNames)) {
    const marked = /^layout:(\d+)$/.exec(name);
    if (marked) layout = Math.max(layout, Number(marked[1]));
  }
  return layout;
}

/**
 * The object store of a type's entries: the type's name for a built-in type. A custom type's name is
 * prefixed, so that no custom type can be taken for the `usage`, `events` or `meta` store.
 */
export function entryStore(type: TypeName): StoreName {
  return isBuiltInType(type) ? type : `custom:${type}`;
}
