import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { enableTotp, passwordLogin, registerAccount, startServer, type ServerProcess } from '@keyhaven/testing';
import {
  argon2idKdf,
  createOrganizationKeys,
  deriveMasterKey,
  encryptType2,
  hashMasterPassword,
  stretchMasterKey,
  totpCode,
  unlockUserKey,
  wrapSymmetricKey,
} from '@keyhaven/vault-crypto';

const PASSWORD = 'correct horse battery staple';

describe('changing credentials', () => {
  let server: ServerProcess;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server.stop('SIGKILL');
    server.cleanup();
  });

  test('a password change re-keys the account and ends the other sessions', async () => {
    const account = await registerAccount(server.http, 'pw@example.com', PASSWORD);
    const other = await passwordLogin(server.http, account, {}, randomUUID());
    const mine = await passwordLogin(server.http, account, {}, randomUUID());
    const newPassword = 'a brand new passphrase';
    const kdf = { kdfType: 0 as const, iterations: 600_000, memory: null, parallelism: null };
    const masterKey = await deriveMasterKey(newPassword, account.email, kdf);
    const change = await server.http.post('/api/accounts/password', {
      token: mine.accessToken,
      json: {
        masterPasswordHash: account.masterPasswordHash,
        newMasterPasswordHash: hashMasterPassword(masterKey, newPassword),
        masterPasswordHint: null,
        key: wrapSymmetricKey(stretchMasterKey(masterKey), account.userKey),
      },
    });
    assert.equal(change.status, 200, change.text);
    assert.equal((await server.http.get('/api/sync', { token: other.accessToken })).status, 401);
    const refresh = await server.http.post('/identity/connect/token', {
      form: { grant_type: 'refresh_token', client_id: 'cli', refresh_token: other.refreshToken },
    });
    assert.equal(refresh.status, 400);
    const old = await server.http.post('/identity/connect/token', {
      form: { grant_type: 'password', username: account.email, password: account.masterPasswordHash, client_id: 'cli' },
    });
    assert.equal(old.status, 400, 'the old password no longer works');
    const fresh = await server.http.post<{ Key: string }>('/identity/connect/token', {
      form: {
        grant_type: 'password',
        username: account.email,
        password: hashMasterPassword(masterKey, newPassword),
        client_id: 'cli',
      },
    });
    assert.equal(fresh.status, 200);
    const userKey = await unlockUserKey(newPassword, account.email, kdf, fresh.body.Key);
    assert.ok(userKey.equals(account.userKey), 'the same user key unlocks with the new password');
  });

  test('a KDF change to Argon2id re-keys the account; weak settings are refused', async () => {
    const account = await registerAccount(server.http, 'kdf@example.com', PASSWORD);
    const session = await passwordLogin(server.http, account);
    const kdf = argon2idKdf(3, 64, 4);
    const masterKey = await deriveMasterKey(PASSWORD, account.email, kdf);
    const weak = await server.http.post('/api/accounts/kdf', {
      token: session.accessToken,
      json: {
        masterPasswordHash: account.masterPasswordHash,
        newMasterPasswordHash: 'eA==',
        key: account.key,
        kdf: 1,
        kdfIterations: 1,
        kdfMemory: 64,
        kdfParallelism: 4,
      },
    });
    assert.equal(weak.status, 400);
    const change = await server.http.post('/api/accounts/kdf', {
      token: session.accessToken,
      json: {
        masterPasswordHash: account.masterPasswordHash,
        newMasterPasswordHash: hashMasterPassword(masterKey, PASSWORD),
        key: wrapSymmetricKey(stretchMasterKey(masterKey), account.userKey),
        kdf: 1,
        kdfIterations: 3,
        kdfMemory: 64,
        kdfParallelism: 4,
      },
    });
    assert.equal(change.status, 200, change.text);
    const prelogin = await server.http.post<{ kdfSettings: { kdfType: number; memory: number } }>(
      '/identity/accounts/prelogin/password',
      {
        json: { email: account.email },
      },
    );
    assert.deepEqual([prelogin.body.kdfSettings.kdfType, prelogin.body.kdfSettings.memory], [1, 64]);
    const fresh = await server.http.post('/identity/connect/token', {
      form: {
        grant_type: 'password',
        username: account.email,
        password: hashMasterPassword(masterKey, PASSWORD),
        client_id: 'cli',
      },
    });
    assert.equal(fresh.status, 200);
    assert.equal(
      (await server.http.get('/api/sync', { token: session.accessToken })).status,
      401,
      'the old session ended',
    );
  });

  test('remember this device skips the second step until sessions are ended', async () => {
    const account = await registerAccount(server.http, 'remember@example.com', PASSWORD);
    const session = await passwordLogin(server.http, account);
    const secret = await enableTotp(server.http, account, session.accessToken);
    const form = {
      grant_type: 'password',
      username: account.email,
      password: account.masterPasswordHash,
      client_id: 'cli',
      deviceIdentifier: randomUUID(),
    };
    const first = await server.http.post<{ TwoFactorToken?: string }>('/identity/connect/token', {
      form: {
        ...form,
        twoFactorToken: totpCode(secret, Date.now() + 30_000),
        twoFactorProvider: '0',
        twoFactorRemember: '1',
      },
    });
    assert.equal(first.status, 200, first.text);
    const remember = first.body.TwoFactorToken;
    assert.ok(remember, 'a remember token is issued');
    const second = await server.http.post('/identity/connect/token', {
      form: { ...form, twoFactorToken: remember, twoFactorProvider: '5' },
    });
    assert.equal(second.status, 200);
    const replayCode = await server.http.post('/identity/connect/token', {
      form: { ...form, twoFactorToken: totpCode(secret, Date.now() + 30_000), twoFactorProvider: '0' },
    });
    assert.equal(replayCode.status, 400, 'a code is accepted once');
    // A password change forgets remembered devices: the stale token now gets the challenge, not an error.
    const rotate = await server.http.post('/api/accounts/security-stamp', {
      token: session.accessToken,
      json: { masterPasswordHash: account.masterPasswordHash },
    });
    assert.equal(rotate.status, 200);
    const stale = await server.http.post<{ TwoFactorProviders2?: unknown }>('/identity/connect/token', {
      form: { ...form, twoFactorToken: remember, twoFactorProvider: '5' },
    });
    assert.equal(stale.status, 400);
    assert.deepEqual(stale.body.TwoFactorProviders2, { '0': null }, 'a forgotten device is asked for a code');
  });

  test('the master password policy of an organization is returned at login', async () => {
    const owner = await registerAccount(server.http, 'policy-owner@example.com', PASSWORD);
    const session = await passwordLogin(server.http, owner);
    const keys = await createOrganizationKeys(owner.publicKey);
    const org = await server.http.post<{ id: string }>('/api/organizations', {
      token: session.accessToken,
      json: {
        name: 'Strict',
        billingEmail: owner.email,
        key: keys.key,
        keys: { publicKey: keys.publicKey, encryptedPrivateKey: keys.encryptedPrivateKey },
        collectionName: encryptType2(keys.orgKey, 'c'),
      },
    });
    const policy = await server.http.put(`/api/organizations/${org.body.id}/policies/1`, {
      token: session.accessToken,
      json: {
        enabled: true,
        data: {
          minComplexity: 3,
          minLength: 16,
          requireUpper: true,
          requireLower: false,
          requireNumbers: true,
          requireSpecial: false,
          enforceOnLogin: true,
        },
      },
    });
    assert.equal(policy.status, 200, policy.text);
    const login = await passwordLogin(server.http, owner);
    assert.deepEqual(login.body['MasterPasswordPolicy'], {
      MinComplexity: 3,
      MinLength: 16,
      RequireUpper: true,
      RequireLower: false,
      RequireNumbers: true,
      RequireSpecial: false,
      EnforceOnLogin: true,
      Object: 'masterPasswordPolicy',
    });
  });

  test('events/collect takes client uploads from signed-in users only', async () => {
    const account = await registerAccount(server.http, 'events@example.com', PASSWORD);
    const session = await passwordLogin(server.http, account);
    const events = [{ type: 1007, cipherId: null, organizationId: null, date: new Date().toISOString() }];
    assert.equal((await server.http.post('/events/collect', { json: events })).status, 401);
    assert.equal((await server.http.post('/events/collect', { token: session.accessToken, json: events })).status, 200);
    assert.equal(
      (await server.http.post('/events/collect', { token: session.accessToken, json: [{ type: 'x' }] })).status,
      400,
    );
  });
});

describe('rate limits per client address', () => {
  let server: ServerProcess;

  before(async () => {
    server = await startServer({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '5' } });
  });

  after(async () => {
    await server.stop('SIGKILL');
    server.cleanup();
  });

  test('prelogin, registration and logins share the per-address budget and answer 429 past it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await server.http.post('/identity/accounts/prelogin/password', { json: { email: `probe${i}@example.com` } }))
          .status,
      );
    }
    statuses.push(
      (
        await server.http.post('/identity/accounts/register/send-verification-email', {
          json: { email: 'late@example.com' },
        })
      ).status,
    );
    statuses.push(
      (await server.http.post('/identity/accounts/prelogin/password', { json: { email: 'one-too-many@example.com' } }))
        .status,
    );
    statuses.push(
      (
        await server.http.post('/identity/connect/token', {
          form: { grant_type: 'password', username: 'x@example.com', password: 'eA==', client_id: 'cli' },
        })
      ).status,
    );
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
  });
});
