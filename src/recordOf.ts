import * as z from 'zod/mini';
import { issueMessages } from './parse';

// zod's record, `z.record(z.string(), values)`, as a check of Reprise's own: its schema class would be the
// largest piece of zod/mini on the page, for one field (a config's customTypes). It does what zod's does
// under parse (whose messages it words its values' issues with, as parse words the rest): a plain object
// only, its own enumerable keys but __proto__, a symbol key refused as no string, each value's issues
// under its key, the values as parsed.

/** zod's test of a record (`z.core.util.isPlainObject`, not reached through the namespace: see plainRecord.ts). */
function isPlainObject(value: unknown): value is Record<PropertyKey, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { constructor } = value as { constructor?: unknown };
  if (constructor === undefined || typeof constructor !== 'function') return true;
  const { prototype } = constructor as { prototype: unknown };
  return typeof prototype === 'object' && prototype !== null && !Array.isArray(prototype) && Object.prototype.hasOwnProperty.call(prototype, 'isPrototypeOf');
}

type RecordSchema<T extends z.ZodMiniType> = z.ZodMiniType<Record<string, z.output<T>>, Record<string, z.input<T>>>;

/** `z.record(z.string(), values)`, for schemas read by parse. */
export function recordOf<T extends z.ZodMiniType>(values: T): RecordSchema<T> {
  const check = z.check<unknown>((payload) => {
    const input = payload.value;
    if (!isPlainObject(input)) {
      payload.issues.push({ expected: 'record', code: 'invalid_type', input, inst: check });
      return;
    }
    const output: Record<string, unknown> = {};
    for (const key of Reflect.ownKeys(input)) {
      if (key === '__proto__' || !Object.prototype.propertyIsEnumerable.call(input, key)) continue;
      if (typeof key === 'symbol') {
        const { issues } = z.safeParse(z.string(), key, { error: issueMessages }).error!;
        payload.issues.push({ code: 'invalid_key', origin: 'record', issues, input: key, path: [key], inst: check });
        continue;
      }
      const result = z.safeParse(values, input[key], { error: issueMessages });
      if (result.success) output[key] = result.data;
      // Worded already, as parse words the rest: its message stays.
      else payload.issues.push(...result.error.issues.map((issue) => ({ ...issue, path: [key, ...issue.path] }) as z.core.$ZodRawIssue));
    }
    payload.value = output;
  });
  return z.unknown().check(check) as RecordSchema<T>;
}
