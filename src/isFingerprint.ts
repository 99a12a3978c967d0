const SHA256_HEX = /^[0-9a-f]{64}$/;

/** True for what `fingerprintTrack` returns: 64 lowercase hexadecimal characters. */
export function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}
