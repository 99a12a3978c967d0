import { describe, expect, it } from 'vitest';
import { pythonJson } from '../src/pythonJson';

// Each expected text is what CPython 3 prints for json.dumps(value, sort_keys=True, separators=(",", ":")).
describe('pythonJson', () => {
  it('sorts keys and writes no spaces', () => {
    expect(pythonJson({ b: 'x', a: 1, c: '' })).toBe('{"a":1.0,"b":"x","c":""}');
  });

  it.each([
    [0, '0.0'],
    [-0, '-0.0'],
    [100, '100.0'],
    [240.5, '240.5'],
    [-3, '-3.0'],
    [5242880, '5242880.0'],
    [1e15, '1000000000000000.0'],
    [9999999999999998, '9999999999999998.0'],
    [1e16, '1e+16'],
    [123456789012345678, '1.2345678901234568e+17'],
    [1e22, '1e+22'],
    [2.5e300, '2.5e+300'],
    [-1.5e20, '-1.5e+20'],
    [0.0001, '0.0001'],
    [0.00012, '0.00012'],
    [1e-5, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [5e-324, '5e-324'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1234567.891, '1234567.891'],
  ])('writes the float %s as Python does: %s', (value, text) => {
    expect(pythonJson({ x: value })).toBe(`{"x":${text}}`);
  });

  it('escapes strings to ASCII as Python does', () => {
    expect(pythonJson({ s: 'é\u00e9🎵\u007f\u001f\n\t"\\/ <~' })).toBe('{"s":"\\u00e9\\u00e9\\ud83c\\udfb5\\u007f\\u001f\\n\\t\\"\\\\/ <~"}');
    expect(pythonJson({ 'clé': 'v' })).toBe('{"cl\\u00e9":"v"}');
  });
});
