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

/** Python's `repr(float)`: the same shortest round-trip digits as JavaScript, laid out its own way. */
function pythonFloat(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const sign = value < 0 ? '-' : '';
  const digits = mantissa.replace(/[-.]/g, '');
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const power = `${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
    return `${sign}${digits[0]}${fraction}e${power}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.padEnd(exponent + 1, '0').slice(0, exponent + 1);
  return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`;
}
