import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { CacheError, type CacheErrorIssue } from './CacheError';
import { describeValue, reasonOf } from './describeValue';
import { pythonFloat } from './pythonFloat';
import { pythonJson } from './pythonJson';

/**
 * What identifies a file's content; other fields of a track object are ignored. Loose on purpose, like
 * the original tool: its input often comes from AppleScript or JSON.
 */
export interface TrackIdentity {
  persistentId: string | number;
  location: string | number;
  /** Bytes; a numeric string counts as its number; absent, `null` or `""` as 0. */
  fileSize?: number | string | null | undefined;
  /** Seconds; as fileSize. */
  duration?: number | string | null | undefined;
  /** Trimmed; a number is taken as Python's str() of it (`42`, `1.5`, `1e-05`), a Date as its ISO string; absent or `null` as `""`. */
  dateModified?: string | number | Date | null | undefined;
  dateAdded?: string | number | Date | null | undefined;
}

type Field = keyof TrackIdentity;
type Normalize = (value: unknown) => string | number;

// Digits, then a fraction only after a dot: `\d+\.?\d*` would split a long run of digits every way before failing.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * What Python's `str.strip()` strips (`str.isspace()`), as the original tool did to string fields: not
 * String.prototype.trim's set, since Python also strips U+001C–U+001F and U+0085 (NEL), and keeps U+FEFF.
 */
const PYTHON_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
/** What Python's `float()` strips around a number: the same less U+001C–U+001F (of ASCII it strips only `\t\n\v\f\r` and space). */
const FLOAT_SPACE = /[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** `value` without the characters of `space` at either end, scanned from each end: a regex `[…]+$` retries every start of a long inner run. */
function strip(value: string, space: RegExp): string {
  let start = 0;
  let end = value.length;
  while (start < end && space.test(value.charAt(start))) start++;
  while (end > start && space.test(value.charAt(end - 1))) end--;
  return value.slice(start, end);
}

class Problem extends Error {}

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return strip(value, PYTHON_SPACE);
  // A whole number as its digits (String gives "1e+21" from 1e21 on), as Python's str() of the int JSON gave the
  // tool; any other as its str() of the float (1e-05 where String gives 0.00001).
  if (typeof value === 'number' && Number.isFinite(value)) return Number.isInteger(value) ? BigInt(value).toString() : pythonFloat(value);
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  throw new Problem(`expected a string, a finite number or a valid Date, got ${describeValue(value)}`);
}

function required(value: unknown): string {
  const normalized = text(value);
  if (normalized === '') throw new Problem('required, and must not be blank');
  return normalized;
}

/** A float, as the original tool's `float(value) if value else 0.0`, but an unparsable value is an error, not 0. */
function numeric(value: unknown): number {
  if (value === undefined || value === null) return 0;
  // -0 is falsy in Python: the tool hashed 0.0 for it (but -0.0 for the string "-0", which is truthy).
  if (typeof value === 'number' && Number.isFinite(value)) return value || 0;
  if (typeof value === 'string') {
    // "" and a blank string are no number given: the tool hashed 0.0 for both (float(" ") raises, and the tool's
    // except gives 0.0; any unparsable value too, which SPEC makes invalid_argument, but a blank one is none given).
    if (strip(value, PYTHON_SPACE) === '') return 0;
    const trimmed = asciiDigits(strip(value, FLOAT_SPACE)).replace(/(?<=\d)_(?=\d)/g, '');
    const parsed = Number(trimmed);
    if (DECIMAL.test(trimmed) && Number.isFinite(parsed)) return parsed;
  }
  throw new Problem(`expected a finite number or a numeric string, got ${describeValue(value)}`);
}

/**
 * Python's float() reads a decimal digit of any script as its ASCII digit ('٥' is 5, '５' is 5). Unicode
 * encodes each script's digits 0 to 9 in a row, so a digit's value is its distance from the start of its run.
 */
function asciiDigits(text: string): string {
  return text.replace(/(?![0-9])\p{Nd}/gu, (digit) => {
    const code = digit.codePointAt(0) as number;
    let start = code;
    while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
    return String((code - start) % 10);
  });
}

// Hashed under the original tool's snake_case names, so that the same track gives the same hex.
const FIELDS: readonly (readonly [Field, string, Normalize])[] = [
  ['persistentId', 'persistent_id', required],
  ['location', 'location', required],
  ['fileSize', 'file_size', numeric],
  ['duration', 'duration', numeric],
  ['dateModified', 'date_modified', text],
  ['dateAdded', 'date_added', text],
];

/**
 * SHA-256 (hex) of the identity's canonical JSON, byte for byte what the original Python tool hashed.
 * @noble/hashes rather than Web Crypto: `crypto.subtle` is missing on plain-http pages, and one
 * implementation gives the same hex everywhere.
 */
export async function fingerprintTrack(track: TrackIdentity): Promise<string> {
  return bytesToHex(sha256(new TextEncoder().encode(pythonJson(canonicalIdentity(track)))));
}

function canonicalIdentity(track: unknown): Record<string, string | number> {
  if (typeof track !== 'object' || track === null) {
    throw new CacheError('invalid_argument', `Invalid track identity: expected an object, got ${describeValue(track)}`, {
      issues: [{ path: '', message: 'expected an object' }],
    });
  }
  const canonical: Record<string, string | number> = {};
  const issues: CacheErrorIssue[] = [];
  for (const [field, name, normalize] of FIELDS) {
    try {
      canonical[name] = normalize((track as Record<Field, unknown>)[field]);
    } catch (error) {
      // A Problem is ours; anything else came from the input itself (a getter that threw).
      issues.push({ path: field, message: error instanceof Problem ? error.message : `could not be read (${reasonOf(error)})` });
    }
  }
  if (issues.length > 0) {
    const listed = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new CacheError('invalid_argument', `Invalid track identity: ${listed}`, { issues });
  }
  return canonical;
}
