/** The kinds of value Reprise caches; each has its own policy. The strings are part of the API. */
export const CONTENT_TYPES = [
  'track_metadata',
  'successful_api_metadata',
  'failed_api_lookup',
  'album_year',
  'negative_result',
  'generic',
] as const;

export type ContentType = (typeof CONTENT_TYPES)[number];

/** The types kept in IndexedDB (they survive reloads); the others live in one tab's memory. */
const PERSISTENT_TYPES: ReadonlySet<ContentType> = new Set([
  'track_metadata',
  'successful_api_metadata',
  'album_year',
]);

export function isPersistentType(type: ContentType): boolean {
  return PERSISTENT_TYPES.has(type);
}
