const SHA256_HEX = /^[0-9a-f]{64}$/;

declare const fingerprint: unique symbol;

/**
 * True for what `fingerprintTrack` returns: 64 lowercase hexadecimal characters. Narrowed to a branded
 * string, not to `string`: false says the value is no fingerprint, not that it is no string.
 */
export function isFingerprint(value: unknown): value is string & { readonly [fingerprint]: true } {
  return typeof value === 'string' && SHA256_HEX.test(value);
}
