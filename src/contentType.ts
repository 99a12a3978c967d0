/** The kinds of value Reprise caches out of the box; each has its own policy. The strings are part of the API. */
export const CONTENT_TYPES = [
  'track_metadata',
  'successful_api_metadata',
  'failed_api_lookup',
  'album_year',
  'negative_result',
  'generic',
] as const;

/** One of the six built-in content types. */
export type ContentType = (typeof CONTENT_TYPES)[number];

/**
 * The name of any content type: a built-in one, or one of the app's own (`config.caching.customTypes`).
 * `string & {}` keeps the built-in names in editors' completion; `Cache` narrows to the names its config declares.
 */
export type TypeName = ContentType | (string & {});

/** What a custom type may be called: a built-in name is refused separately. */
export const CUSTOM_TYPE_NAME = /^[a-z][a-z0-9_]*$/;

/** The built-in types kept in IndexedDB (they survive reloads); the others live in one tab's memory. */
const PERSISTENT_TYPES: ReadonlySet<TypeName> = new Set([
  'track_metadata',
  'successful_api_metadata',
  'album_year',
]);

/** Whether a built-in type is persistent (a custom type's config says whether it is). */
export function isPersistentType(type: TypeName): boolean {
  return PERSISTENT_TYPES.has(type);
}

export function isBuiltInType(type: string): type is ContentType {
  return (CONTENT_TYPES as readonly string[]).includes(type);
}
