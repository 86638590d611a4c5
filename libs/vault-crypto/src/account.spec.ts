import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAccount, unlockUserKey } from './account';
import { isWellFormedEncString } from './enc-string-format';
import { argon2idKdf, pbkdf2Kdf } from './kdf';
import { deriveMasterPasswordHash } from './master-key';
import { decryptPrivateKey, publicKeyFromPrivateKey } from './rsa';

void test('default account: PBKDF2 600000, everything a client registers, unlockable with the password', async () => {
  const account = await createAccount({ email: ' Alice@Example.com ', password: 'correct horse battery staple' });
  assert.equal(account.email, 'Alice@Example.com');
  assert.equal(account.salt, 'alice@example.com');
  assert.deepEqual(account.kdfConfig, pbkdf2Kdf(600_000));
  assert.equal(account.kdf, 0);
  assert.equal(account.kdfIterations, 600_000);
  assert.equal(account.kdfMemory, null);
  assert.equal(Buffer.from(account.masterPasswordHash, 'base64').length, 32);
  for (const enc of [account.key, account.encryptedPrivateKey]) assert.ok(isWellFormedEncString(enc, [2]), enc);
  assert.equal(
    publicKeyFromPrivateKey(decryptPrivateKey(account.userKey, account.encryptedPrivateKey)),
    account.publicKey,
  );

  const unlocked = await unlockUserKey(
    'correct horse battery staple',
    'alice@example.com',
    account.kdfConfig,
    account.key,
  );
  assert.ok(unlocked.equals(account.userKey));
  await assert.rejects(unlockUserKey('wrong', 'alice@example.com', account.kdfConfig, account.key), /MAC mismatch/);
});

void test('Argon2id account: the login hash a client computes later equals the registered one', async () => {
  const kdf = argon2idKdf(2, 16, 1);
  const account = await createAccount({ email: 'bob@example.com', password: 'pw-bob', kdf, masterPasswordHint: 'b' });
  assert.deepEqual([account.kdf, account.kdfIterations, account.kdfMemory, account.kdfParallelism], [1, 2, 16, 1]);
  assert.equal(await deriveMasterPasswordHash('pw-bob', 'BOB@example.com', kdf), account.masterPasswordHash);
  assert.ok((await unlockUserKey('pw-bob', 'bob@example.com', kdf, account.key)).equals(account.userKey));
});

void test('registerFinishBody carries the legacy fields, the newer objects, or both, consistently', async () => {
  const kdf = pbkdf2Kdf(5_000);
  const account = await createAccount({ email: 'Carol@Example.com', password: 'pw', kdf });
  const both = account.registerFinishBody('token-1');
  assert.deepEqual(both, {
    email: 'Carol@Example.com',
    emailVerificationToken: 'token-1',
    masterPasswordHint: null,
    userSymmetricKey: account.key,
    userAsymmetricKeys: { publicKey: account.publicKey, encryptedPrivateKey: account.encryptedPrivateKey },
    masterPasswordHash: account.masterPasswordHash,
    kdf: 0,
    kdfIterations: 5_000,
    kdfMemory: null,
    kdfParallelism: null,
    masterPasswordAuthentication: {
      kdf: { kdfType: 0, iterations: 5_000, memory: null, parallelism: null },
      salt: 'carol@example.com',
      masterPasswordAuthenticationHash: account.masterPasswordHash,
    },
    masterPasswordUnlock: {
      kdf: { kdfType: 0, iterations: 5_000, memory: null, parallelism: null },
      salt: 'carol@example.com',
      masterKeyWrappedUserKey: account.key,
    },
  });

  const legacy = account.registerFinishBody('t', 'legacy');
  assert.equal(legacy.masterPasswordHash, account.masterPasswordHash);
  assert.equal('masterPasswordAuthentication' in legacy || 'masterPasswordUnlock' in legacy, false);

  const modern = account.registerFinishBody('t', 'modern');
  assert.equal(modern.masterPasswordAuthentication?.masterPasswordAuthenticationHash, account.masterPasswordHash);
  for (const field of ['masterPasswordHash', 'kdf', 'kdfIterations', 'kdfMemory', 'kdfParallelism']) {
    assert.equal(field in modern, false, field);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(modern)), modern);
});

void test('two accounts never share keys', async () => {
  const [a, b] = await Promise.all([
    createAccount({ email: 'same@example.com', password: 'pw', kdf: pbkdf2Kdf(5_000) }),
    createAccount({ email: 'same@example.com', password: 'pw', kdf: pbkdf2Kdf(5_000) }),
  ]);
  assert.equal(a.masterPasswordHash, b.masterPasswordHash);
  assert.equal(a.userKey.equals(b.userKey), false);
  assert.notEqual(a.publicKey, b.publicKey);
});
