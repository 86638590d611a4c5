import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  constants,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomUUID,
} from 'node:crypto';
import { passwordLogin, registerAccount, type HttpResponse, type Session } from '@keyhaven/testing';
import type { Account } from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { connectHub, subjectOf, type HubClient } from './notifications-clients';

/**
 * Login with device, end to end on the all-in-one server on each database: a device that knows only
 * the email asks, waits on the anonymous hub, a logged-in device of the same user approves with the
 * user key encrypted to the request's public key, and the waiting device logs in with the request.
 */
const PASSWORD = 'correct horse battery staple';
const APPROVER_DEVICE = '0f6a1c3e-8a3b-4d5e-9f10-1a2b3c4d5e6f';
const REQUESTER_DEVICE = '7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

interface AuthRequestJson {
  id: string;
  publicKey: string;
  requestDeviceIdentifier: string;
  requestDeviceTypeValue: number;
  requestDeviceType: string;
  key: string | null;
  masterPasswordHash: string | null;
  creationDate: string;
  responseDate: string | null;
  requestApproved: boolean;
  object: string;
}

/** A requesting device: an RSA-2048 key pair and a 25-character access code, as the clients make them. */
function requester(): { publicKey: string; privateKey: string; accessCode: string } {
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: pair.publicKey.toString('base64'),
    privateKey: pair.privateKey,
    accessCode: randomUUID().replace(/-/g, '').slice(0, 25),
  };
}

/** What a 2026 approver sends: the user key, RSA-OAEP-SHA1 to the request's public key, as a type 4 EncString. */
function encryptUserKey(account: Account, publicKeyB64: string): string {
  const key = createPublicKey({ key: Buffer.from(publicKeyB64, 'base64'), format: 'der', type: 'spki' });
  const ct = publicEncrypt(
    { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.concat([account.userKey.encKey, account.userKey.macKey]),
  );
  return `4.${ct.toString('base64')}`;
}

describeOnBackends('login with device', (backend) => {
  let server: BackedServer;
  let alice: Account;
  let bob: Account;
  let approver: Session;
  let bobSession: Session;
  const hubs: HubClient[] = [];

  before(async () => {
    server = await startAllInOne(backend);
    alice = await registerAccount(server.http, 'alice@example.com', PASSWORD);
    bob = await registerAccount(server.http, 'bob@example.com', PASSWORD);
    approver = await passwordLogin(server.http, alice, { deviceType: '9', client_id: 'web' }, APPROVER_DEVICE);
    // The requesting device has logged in before (the server lets only known devices ask).
    await passwordLogin(server.http, alice, {}, REQUESTER_DEVICE);
    bobSession = await passwordLogin(server.http, bob, {}, APPROVER_DEVICE);
  });

  after(async () => {
    await Promise.allSettled(hubs.map((h) => h.stop()));
    await server.stop();
  });

  async function hub(options: { token?: string; path?: string }): Promise<HubClient> {
    const client = await connectHub({
      baseUrl: server.url,
      caPath: server.caPath,
      protocol: 'messagepack',
      ...options,
    });
    hubs.push(client);
    return client;
  }

  function create(
    keys: { publicKey: string; accessCode: string },
    email = alice.email,
    deviceIdentifier = REQUESTER_DEVICE,
    headers: Record<string, string> = { 'device-type': '25', 'device-identifier': REQUESTER_DEVICE },
  ): Promise<HttpResponse<AuthRequestJson>> {
    return server.http.post<AuthRequestJson>('/api/auth-requests/', {
      headers,
      json: { email, publicKey: keys.publicKey, deviceIdentifier, accessCode: keys.accessCode, type: 0 },
    });
  }

  function answer(id: string, approved: boolean, key: string | null, token = approver.accessToken) {
    return server.http.put<AuthRequestJson>(`/api/auth-requests/${id}`, {
      token,
      json: { key, deviceIdentifier: APPROVER_DEVICE, requestApproved: approved },
    });
  }

  function grant(id: string, accessCode: string): Promise<HttpResponse<Record<string, unknown>>> {
    return server.http.post<Record<string, unknown>>('/identity/connect/token', {
      form: {
        scope: 'api offline_access',
        client_id: 'cli',
        deviceType: '25',
        deviceIdentifier: REQUESTER_DEVICE,
        deviceName: 'linux',
        grant_type: 'password',
        username: alice.email,
        password: accessCode,
        authRequest: id,
      },
    });
  }

  test('approved from a second device: the waiting device hears it on the anonymous hub, logs in once and syncs', async () => {
    const approverHub = await hub({ token: approver.accessToken });
    const keys = requester();
    const created = await create(keys);
    assert.equal(created.status, 200, created.text);
    const id = created.body.id;
    assert.equal(created.body.object, 'auth-request');
    assert.equal(created.body.requestApproved, false);
    assert.equal(created.body.responseDate, null);
    assert.equal(created.body.requestDeviceTypeValue, 25);
    assert.equal(created.body.requestDeviceType, 'Linux CLI');

    const waiting = await hub({ path: `anonymous-hub?Token=${id}` });
    // The logged-in device is told (push type 15) and finds the request among the pending ones.
    const told = await approverHub.next((n) => n.Type === 15 && n.Payload['Id'] === id);
    assert.equal(told.message.Payload['UserId'], subjectOf(approver.accessToken));
    const pending = await server.http.get<{ data: AuthRequestJson[] }>('/api/auth-requests', {
      token: approver.accessToken,
    });
    assert.deepEqual(
      pending.body.data.map((r) => r.id),
      [id],
    );
    const one = await server.http.get<AuthRequestJson>(`/api/auth-requests/${id}`, { token: approver.accessToken });
    assert.equal(one.status, 200);
    assert.equal(one.body.publicKey, keys.publicKey);
    // Another user sees nothing of it.
    assert.equal((await server.http.get(`/api/auth-requests/${id}`, { token: bobSession.accessToken })).status, 404);
    assert.equal((await answer(id, true, encryptUserKey(alice, keys.publicKey), bobSession.accessToken)).status, 404);

    // Not approved yet: the grant is refused and does not use the request up.
    assert.equal((await grant(id, keys.accessCode)).status, 400);

    const approved = await answer(id, true, encryptUserKey(alice, keys.publicKey));
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.body.requestApproved, true);

    const heard = await waiting.next((n) => n.Type === 16);
    assert.equal(heard.message.Payload['Id'], id);
    const response = await server.http.get<AuthRequestJson>(
      `/api/auth-requests/${id}/response?code=${encodeURIComponent(keys.accessCode)}`,
    );
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.requestApproved, true);
    assert.ok(response.body.responseDate);
    const userKey = privateDecrypt(
      { key: keys.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from((response.body.key ?? '').slice(2), 'base64'),
    );
    assert.ok(
      userKey.equals(Buffer.concat([alice.userKey.encKey, alice.userKey.macKey])),
      'the waiting device holds the user key',
    );

    const login = await grant(id, keys.accessCode);
    assert.equal(login.status, 200, login.text);
    const sync = await server.http.get<{ profile: { email: string } }>('/api/sync', {
      token: String(login.body['access_token']),
    });
    assert.equal(sync.status, 200);
    assert.equal(sync.body.profile.email, alice.email);

    // Single use.
    const again = await grant(id, keys.accessCode);
    assert.equal(again.status, 400, again.text);
    assert.equal((again.body as { error?: string }).error, 'invalid_grant');
    // Answered: no longer pending, and not answerable twice.
    const after = await server.http.get<{ data: AuthRequestJson[] }>('/api/auth-requests', {
      token: approver.accessToken,
    });
    assert.equal(
      after.body.data.some((r) => r.id === id),
      false,
    );
    assert.equal((await answer(id, false, null)).status, 400);
  });

  test('denied: the waiting device hears the answer, reads the denial, and cannot log in with it', async () => {
    const keys = requester();
    const created = await create(keys);
    assert.equal(created.status, 200, created.text);
    const id = created.body.id;
    const waiting = await hub({ path: `anonymous-hub?Token=${id}` });
    const denied = await answer(id, false, null);
    assert.equal(denied.status, 200, denied.text);
    assert.equal(denied.body.requestApproved, false);
    assert.equal(denied.body.key, null);
    await waiting.next((n) => n.Type === 16 && n.Payload['Id'] === id);
    const response = await server.http.get<AuthRequestJson>(
      `/api/auth-requests/${id}/response?code=${keys.accessCode}`,
    );
    assert.equal(response.status, 200);
    assert.equal(response.body.requestApproved, false);
    assert.ok(response.body.responseDate, 'answered');
    assert.equal(response.body.key, null);
    assert.equal((await grant(id, keys.accessCode)).status, 400);
  });

  test('a wrong access code reads nothing and logs in nobody', async () => {
    const keys = requester();
    const id = (await create(keys)).body.id;
    assert.equal((await answer(id, true, encryptUserKey(alice, keys.publicKey))).status, 200);
    for (const code of ['wrong', keys.accessCode.slice(0, 24), `${keys.accessCode}x`, ''])
      assert.equal(
        (await server.http.get(`/api/auth-requests/${id}/response?code=${encodeURIComponent(code)}`)).status,
        404,
      );
    assert.equal((await server.http.get(`/api/auth-requests/${id}/response`)).status, 404);
    assert.equal((await grant(id, 'wrong')).status, 400);
    // Someone else's email with the right request and code.
    const asBob = await server.http.post('/identity/connect/token', {
      form: {
        scope: 'api offline_access',
        client_id: 'cli',
        grant_type: 'password',
        username: bob.email,
        password: keys.accessCode,
        authRequest: id,
      },
    });
    assert.equal(asBob.status, 400);
    // The failed attempts did not use it up.
    assert.equal((await grant(id, keys.accessCode)).status, 200);
  });

  test('expired after 15 minutes: not readable, not answerable, not usable', async () => {
    const keys = requester();
    const id = (await create(keys)).body.id;
    const approvedKeys = requester();
    const approvedId = (await create(approvedKeys)).body.id;
    assert.equal((await answer(approvedId, true, encryptUserKey(alice, approvedKeys.publicKey))).status, 200);
    await server.db.rows(
      `UPDATE auth_request SET creation_date = creation_date - interval '15 minutes 1 second' WHERE id IN ($1, $2)`,
      [id, approvedId],
    );
    assert.equal((await server.http.get(`/api/auth-requests/${id}`, { token: approver.accessToken })).status, 404);
    assert.equal((await server.http.get(`/api/auth-requests/${id}/response?code=${keys.accessCode}`)).status, 404);
    assert.equal((await answer(id, true, encryptUserKey(alice, keys.publicKey))).status, 404);
    const pending = await server.http.get<{ data: AuthRequestJson[] }>('/api/auth-requests', {
      token: approver.accessToken,
    });
    assert.equal(
      pending.body.data.some((r) => r.id === id),
      false,
    );
    assert.equal((await grant(approvedId, approvedKeys.accessCode)).status, 400);
  });

  test('refused creations: unknown device or user, no device type, the admin type; the creation rate is limited', async () => {
    const keys = requester();
    assert.equal((await create(keys, alice.email, randomUUID())).status, 400);
    assert.equal((await create(keys, 'nobody@example.com')).status, 400);
    assert.equal((await create(keys, alice.email, REQUESTER_DEVICE, { 'device-type': '' })).status, 400);
    const admin = await server.http.post('/api/auth-requests', {
      headers: { 'device-type': '25' },
      json: {
        email: alice.email,
        publicKey: keys.publicKey,
        deviceIdentifier: REQUESTER_DEVICE,
        accessCode: 'x',
        type: 2,
      },
    });
    assert.equal(admin.status, 400);
    let limited: HttpResponse | undefined;
    for (let i = 0; i < 12 && !limited; i++) {
      const res = await create(keys, bob.email, APPROVER_DEVICE);
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 200, res.text);
    }
    assert.ok(limited, 'creations for one email are limited');
    assert.ok(limited.headers['retry-after']);
  });
});
