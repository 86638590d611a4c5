import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { isWellFormedEncString, parseEncString } from './enc-string-format';
import {
  decryptPrivateKey,
  decryptRsa,
  encryptType4,
  generateRsaKeyPair,
  makeWrappedKeyPair,
  publicKeyFromPrivateKey,
  type RsaKeyPair,
} from './rsa';
import { SymmetricKey } from './symmetric-key';

let pair: RsaKeyPair;
before(async () => {
  pair = await generateRsaKeyPair();
});

void test('key pair: public key is b64 DER SPKI of a 2048-bit RSA key, private key is PKCS#8 DER', () => {
  const pub = createPublicKey({ key: Buffer.from(pair.publicKey, 'base64'), format: 'der', type: 'spki' });
  assert.equal(pub.asymmetricKeyType, 'rsa');
  assert.equal(pub.asymmetricKeyDetails?.modulusLength, 2048);
  assert.equal(publicKeyFromPrivateKey(pair.privateKey), pair.publicKey);
});

void test('type 4 round-trips and is RSA-OAEP-SHA1 of 256 bytes', () => {
  const data = randomBytes(64);
  const enc = encryptType4(pair.publicKey, data);
  assert.ok(isWellFormedEncString(enc, [4]));
  assert.equal(parseEncString(enc).data.length, 256);
  assert.deepEqual(decryptRsa(pair.privateKey, enc), data);
});

void test('type 3 (OAEP-SHA256) written elsewhere decrypts too; tampering and other types fail', () => {
  const data = randomBytes(64);
  const key = createPublicKey({ key: Buffer.from(pair.publicKey, 'base64'), format: 'der', type: 'spki' });
  const ct = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
  assert.deepEqual(decryptRsa(pair.privateKey, `3.${ct.toString('base64')}`), data);
  // The same bytes labelled type 4 use the wrong OAEP hash and must not decrypt.
  assert.throws(() => decryptRsa(pair.privateKey, `4.${ct.toString('base64')}`));
  assert.throws(() => decryptRsa(pair.privateKey, `2.${'A'.repeat(22)}==|${'A'.repeat(22)}==|${'A'.repeat(43)}=`));
});

void test('the private key travels type 2 under the user key', async () => {
  const userKey = SymmetricKey.generate();
  const made = await makeWrappedKeyPair(userKey);
  assert.ok(isWellFormedEncString(made.encryptedPrivateKey, [2]));
  assert.deepEqual(decryptPrivateKey(userKey, made.encryptedPrivateKey), made.privateKey);
  assert.equal(publicKeyFromPrivateKey(made.privateKey), made.publicKey);
});
