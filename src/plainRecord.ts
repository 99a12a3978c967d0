import * as z from 'zod/mini';
import { CUSTOM_TYPE_NAME } from './contentType';
import { describeValue } from './describeValue';
import { namesEachKey } from './TabChannel';

// Records without zod's record schema, the largest piece of zod/mini an app would ship for Reprise:
// object schemas (there anyway), for plain objects only, as a record takes (not a Date, a Map or a
// class instance, which an object schema would read as {}).

// Not zod's `z.core.util.isPlainObject`: reached through the namespace, it made Parcel 2 keep the whole
// of `z.core` (its locales and JSON Schema, ~270 kB minified) in an app's bundle. Plain: made by a
// literal or Object.create(null) — its prototype is a realm's Object.prototype (this one's or an
// iframe's: one with no prototype of its own) or none; not an array, a Date, a Map or a class instance.
const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
};

/** Any plain object, its values unchecked: `z.record(z.string(), z.unknown())`. */
export const plainRecord = () =>
  z.custom<Record<string, unknown>>(isPlainObject, { error: (issue) => `expected a plain object, got ${describeValue(issue.input)}` });

/**
 * A record per content type, as other tabs send them: a plain object whose keys are well-formed type
 * names (another tab may know types this one does not; none is a name every object has, which no config
 * admits and which a lookup of an absent type would find) and whose values pass `valid`. Valid or not,
 * no more: a malformed message is dropped whole.
 */
const byType = <T>(valid: (value: unknown) => boolean) =>
  z.custom<Record<string, T>>(
    (value) => isPlainObject(value) && Object.entries(value).every(([type, entry]) => CUSTOM_TYPE_NAME.test(type) && !(type in Object.prototype) && valid(entry)),
  );

/** Counts per content type (what a change removed). */
export const countsByType = () => byType<number>((count) => Number.isSafeInteger(count) && (count as number) >= 0);

/** Keys per content type (which entries a change removed): at most MAX_CHANGE_KEYS strings each. */
export const keysByType = () =>
  byType<string[]>((keys) => Array.isArray(keys) && namesEachKey(keys) && keys.every((key) => typeof key === 'string'));
