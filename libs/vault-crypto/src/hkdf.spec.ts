import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { hkdf, hkdfExpand, hkdfExtract } from './hkdf';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

void test('RFC 5869 test case 1: Extract and Expand', () => {
  const ikm = Buffer.alloc(22, 0x0b);
  const salt = hex('000102030405060708090a0b0c');
  const info = hex('f0f1f2f3f4f5f6f7f8f9');
  const prk = hkdfExtract(salt, ikm);
  assert.equal(prk.toString('hex'), '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
  const okm = '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865';
  assert.equal(hkdfExpand(prk, info, 42).toString('hex'), okm);
  assert.equal(hkdf(ikm, salt, info, 42).toString('hex'), okm);
});

void test('RFC 5869 test case 3: empty salt and info', () => {
  const prk = hkdfExtract(Buffer.alloc(0), Buffer.alloc(22, 0x0b));
  assert.equal(prk.toString('hex'), '19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04');
  assert.equal(
    hkdfExpand(prk, '', 42).toString('hex'),
    '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  );
});

void test('full HKDF agrees with node for multi-block outputs', () => {
  const ikm = randomBytes(16);
  for (const length of [1, 32, 33, 64, 100]) {
    const expected = Buffer.from(hkdfSync('sha256', ikm, 'bitwarden-send', 'send', length));
    assert.deepEqual(hkdf(ikm, 'bitwarden-send', 'send', length), expected);
  }
});

void test('Expand output is a prefix-stable stream; string info is UTF-8', () => {
  const prk = randomBytes(32);
  assert.deepEqual(hkdfExpand(prk, 'enc', 64).subarray(0, 32), hkdfExpand(prk, 'enc', 32));
  assert.deepEqual(hkdfExpand(prk, 'mac', 32), hkdfExpand(prk, Buffer.from('mac'), 32));
  assert.notDeepEqual(hkdfExpand(prk, 'enc', 32), hkdfExpand(prk, 'mac', 32));
});

void test('Expand rejects lengths outside 1..8160', () => {
  assert.throws(() => hkdfExpand(randomBytes(32), 'x', 0), RangeError);
  assert.throws(() => hkdfExpand(randomBytes(32), 'x', 255 * 32 + 1), RangeError);
  assert.equal(hkdfExpand(randomBytes(32), 'x', 255 * 32).length, 8160);
});
