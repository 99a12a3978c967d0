import { pythonFloat } from './pythonFloat';

/**
 * `json.dumps(record, sort_keys=True, separators=(",", ":"))` as Python writes it, for a flat record of
 * strings and floats: the original tool hashed that text, so a fingerprint must be made of the same bytes.
 * Python differs from JSON.stringify in two places: floats keep a fraction (`100.0`) and switch to an
 * exponent at 1e16 and below 1e-4 (`1e+16`, `1e-05`), and strings are ASCII-only (`é` → `\u00e9`).
 */
export function pythonJson(record: Readonly<Record<string, string | number>>): string {
  const fields = Object.keys(record)
    .sort()
    .map((key) => `${pythonString(key)}:${encode(record[key] as string | number)}`);
  return `{${fields.join(',')}}`;
}

function encode(value: string | number): string {
  return typeof value === 'string' ? pythonString(value) : pythonFloat(value);
}

/** JSON.stringify already escapes quotes, backslashes and controls; Python escapes every other non-ASCII code unit too. */
function pythonString(value: string): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
