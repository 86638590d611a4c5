import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { User } from '../users/user';
import { resolveNewMasterPassword } from './new-master-password';

const user = {
  email: 'Member@Example.com',
  kdf: 0,
  kdfIterations: 600000,
  kdfMemory: null,
  kdfParallelism: null,
} as unknown as User;
const kdf = { kdfType: 0, iterations: 600000 };
const modern = (over: Partial<{ salt: string; iterations: number; unlockSalt: string }> = {}) => ({
  authenticationData: {
    kdf: { ...kdf, iterations: over.iterations ?? kdf.iterations },
    salt: over.salt ?? 'member@example.com',
    masterPasswordAuthenticationHash: 'hash',
  },
  unlockData: { kdf, salt: over.unlockSalt ?? 'member@example.com', masterKeyWrappedUserKey: '2.key' },
});

test('both body shapes give the hash and the wrapped key', () => {
  assert.deepEqual(resolveNewMasterPassword(user, modern()), { masterPasswordHash: 'hash', key: '2.key' });
  assert.deepEqual(resolveNewMasterPassword(user, { newMasterPasswordHash: 'h', key: '2.k' }), {
    masterPasswordHash: 'h',
    key: '2.k',
  });
});

test('the KDF and salt cannot change, the halves must agree, and something must be sent', () => {
  for (const body of [
    modern({ iterations: 600001 }),
    modern({ salt: 'other@example.com' }),
    modern({ unlockSalt: 'other@example.com' }),
    { authenticationData: modern().authenticationData },
    {},
    { newMasterPasswordHash: 'h' },
  ]) {
    assert.throws(
      () => resolveNewMasterPassword(user, body),
      (e: Error) => /./.test(e.message),
      JSON.stringify(body),
    );
  }
});
