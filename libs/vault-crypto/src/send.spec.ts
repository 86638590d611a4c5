import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync, pbkdf2Sync, randomBytes } from 'node:crypto';
import { decryptType2 } from './enc-string';
import { createSendKey, deriveSendKey, hashSendPassword, sendKeyFromUrlKey } from './send';
import { SymmetricKey } from './symmetric-key';

void test('send key is full HKDF-SHA256(seed, "bitwarden-send", "send", 64), unlike the Expand-only stretch', () => {
  const seed = randomBytes(16);
  const expected = Buffer.from(hkdfSync('sha256', seed, 'bitwarden-send', 'send', 64));
  assert.deepEqual(deriveSendKey(seed).toBytes(), expected);
  assert.throws(() => deriveSendKey(randomBytes(32)), /16 bytes/);
});

void test('send password hash is b64 PBKDF2-SHA256(password, seed, 100000, 32)', () => {
  const seed = randomBytes(16);
  assert.equal(
    hashSendPassword('hunter2', seed),
    pbkdf2Sync('hunter2', seed, 100_000, 32, 'sha256').toString('base64'),
  );
});

void test('createSendKey: seed wrapped under the user key, URL key is b64url(seed)', () => {
  const userKey = SymmetricKey.generate();
  const seed = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const material = createSendKey(userKey, seed);
  assert.deepEqual(decryptType2(userKey, material.key), seed);
  assert.equal(material.urlKey, 'ABEiM0RVZneImaq7zN3u_w');
  assert.ok(sendKeyFromUrlKey(material.urlKey).equals(material.sendKey));
  assert.equal(createSendKey(userKey).seed.length, 16);
});
