import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import {
  argon2idKdf,
  assertValidKdfConfig,
  deriveMasterKey,
  emailToSalt,
  kdfFromFields,
  pbkdf2Kdf,
  type KdfConfig,
} from './kdf';
import { deriveMasterPasswordHash, hashMasterPassword, stretchMasterKey } from './master-key';

// Vectors from the Bitwarden SDK's master key tests (bitwarden-crypto, keys/master_key.rs).
const SDK_MASTER_KEY = Buffer.from([
  31, 79, 104, 226, 150, 71, 177, 90, 194, 80, 172, 209, 17, 129, 132, 81, 138, 167, 69, 167, 254, 149, 2, 27, 39, 197,
  64, 42, 22, 195, 86, 75,
]);

void test('PBKDF2 master key matches the Bitwarden SDK vector', async () => {
  const key = await deriveMasterKey('67t9b5g67$%Dh89n', 'test_key', pbkdf2Kdf(10_000));
  assert.deepEqual(key, SDK_MASTER_KEY);
});

void test('Argon2id master key matches the Bitwarden SDK vector', async () => {
  const key = await deriveMasterKey('67t9b5g67$%Dh89n', 'test_key', argon2idKdf(4, 32, 2));
  assert.deepEqual(
    key,
    Buffer.from([
      207, 240, 225, 177, 162, 19, 163, 76, 98, 106, 179, 175, 224, 9, 17, 240, 20, 147, 237, 47, 246, 150, 141, 184,
      62, 225, 131, 242, 51, 53, 225, 242,
    ]),
  );
});

void test('master password hash matches the SDK vectors (PBKDF2 and Argon2id)', async () => {
  assert.equal(
    await deriveMasterPasswordHash('asdfasdf', 'test_salt', pbkdf2Kdf(100_000)),
    'ZF6HjxUTSyBHsC+HXSOhZoXN+UuMnygV5YkWXCY4VmM=',
  );
  assert.equal(
    await deriveMasterPasswordHash('asdfasdf', 'test_salt', argon2idKdf(4, 32, 2)),
    'PR6UjYmjmppTYcdyTiNbAhPJuQQOmynKbdEl1oyi/iQ=',
  );
});

void test('stretched key matches the SDK vector', () => {
  const stretched = stretchMasterKey(SDK_MASTER_KEY);
  assert.deepEqual(
    stretched.encKey,
    Buffer.from([
      111, 31, 178, 45, 238, 152, 37, 114, 143, 215, 124, 83, 135, 173, 195, 23, 142, 134, 120, 249, 61, 132, 163, 182,
      113, 197, 189, 204, 188, 21, 237, 96,
    ]),
  );
  assert.deepEqual(
    stretched.macKey,
    Buffer.from([
      221, 127, 206, 234, 101, 27, 202, 38, 86, 52, 34, 28, 78, 28, 185, 16, 48, 61, 127, 166, 209, 247, 194, 87, 232,
      26, 48, 85, 193, 249, 179, 155,
    ]),
  );
});

void test('PBKDF2 salt is the trimmed, lowercased email; the hash is one PBKDF2 round keyed by the master key', async () => {
  const kdf = pbkdf2Kdf(5_000);
  const key = await deriveMasterKey('pässwörd', '  Alice@Example.COM ', kdf);
  assert.deepEqual(key, pbkdf2Sync('pässwörd', 'alice@example.com', 5_000, 32, 'sha256'));
  assert.equal(emailToSalt('  Alice@Example.COM '), 'alice@example.com');
  assert.equal(
    hashMasterPassword(key, 'pässwörd'),
    pbkdf2Sync(key, Buffer.from('pässwörd', 'utf8'), 1, 32, 'sha256').toString('base64'),
  );
});

void test('Argon2id salt is SHA-256 of the normalised email (cheap parameters)', async () => {
  const kdf = argon2idKdf(2, 16, 1);
  const a = await deriveMasterKey('pw', 'Bob@Example.com', kdf);
  const b = await deriveMasterKey('pw', 'bob@example.com', kdf);
  assert.equal(a.length, 32);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, await deriveMasterKey('pw', 'bob@example.com', argon2idKdf(2, 16, 2)));
});

void test('KDF settings outside what official clients accept are refused', async () => {
  const bad: KdfConfig[] = [
    pbkdf2Kdf(1_000),
    argon2idKdf(1, 64, 4),
    argon2idKdf(3, 8, 4),
    argon2idKdf(3, 64, 0),
    { kdfType: 1, iterations: 3, memory: null, parallelism: 4 },
  ];
  for (const kdf of bad) {
    assert.throws(() => {
      assertValidKdfConfig(kdf);
    }, RangeError);
  }
  await assert.rejects(deriveMasterKey('pw', 'a@b.c', pbkdf2Kdf(1)), RangeError);
  for (const kdf of [pbkdf2Kdf(), argon2idKdf()]) {
    assert.doesNotThrow(() => {
      assertValidKdfConfig(kdf);
    });
  }
});

void test('kdfFromFields reads the flat prelogin/profile fields', () => {
  assert.deepEqual(kdfFromFields({ kdf: 0, kdfIterations: 600_000 }), pbkdf2Kdf());
  assert.deepEqual(
    kdfFromFields({ kdf: 1, kdfIterations: 3, kdfMemory: 64, kdfParallelism: 4 }),
    argon2idKdf(3, 64, 4),
  );
});
