import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCode } from './totp';

// RFC 6238 appendix B, SHA-1 seed "12345678901234567890" (base32 below). The RFC lists 8-digit codes; the
// 6-digit code is the same truncated value mod 10^6, i.e. its last six digits.
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

void test('RFC 6238 SHA-1 vectors with Bitwarden defaults (6 digits, 30 s)', () => {
  for (const [seconds, code] of VECTORS) assert.equal(totpCode(SECRET, seconds * 1000), code.slice(2));
});

void test('otpauth URIs keep their own parameters', () => {
  const uri = `otpauth://totp/Keyhaven:alice@example.com?secret=${SECRET}&issuer=Keyhaven&digits=8&period=30`;
  for (const [seconds, code] of VECTORS) assert.equal(totpCode(uri, new Date(seconds * 1000)), code);
});

void test('spaced, lowercase secrets are accepted; non-base32 and HOTP are refused', () => {
  const spaced = SECRET.toLowerCase().replace(/(.{4})/g, '$1 ');
  assert.equal(totpCode(spaced, 59_000), '287082');
  assert.match(totpCode(SECRET), /^\d{6}$/);
  assert.throws(() => totpCode('not base32 !!'), /base32/);
  assert.throws(() => totpCode(`otpauth://hotp/x?secret=${SECRET}&counter=1`), /totp/);
});
