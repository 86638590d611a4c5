import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrganizationKeys, unwrapOrgKey, wrapOrgKeyForMember } from './org-key';
import { decryptPrivateKey, generateRsaKeyPair, publicKeyFromPrivateKey, type RsaKeyPair } from './rsa';
import { SymmetricKey } from './symmetric-key';

let pair: RsaKeyPair;
before(async () => {
  pair = await generateRsaKeyPair();
});

void test('org key is shared with a member as type 4 and unwraps with their private key', () => {
  const orgKey = SymmetricKey.generate();
  const wrapped = wrapOrgKeyForMember(orgKey, pair.publicKey);
  assert.ok(wrapped.startsWith('4.'));
  assert.ok(unwrapOrgKey(pair.privateKey, wrapped).equals(orgKey));
});

void test('createOrganizationKeys: owner copy, org key pair with the private key under the org key', async () => {
  const org = await createOrganizationKeys(pair.publicKey);
  assert.ok(unwrapOrgKey(pair.privateKey, org.key).equals(org.orgKey));
  assert.deepEqual(decryptPrivateKey(org.orgKey, org.encryptedPrivateKey), org.privateKey);
  assert.equal(publicKeyFromPrivateKey(org.privateKey), org.publicKey);
});
