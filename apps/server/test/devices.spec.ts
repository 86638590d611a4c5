import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { PushType } from '@keyhaven/contracts';
import { passwordLogin, registerAccount, type Session } from '@keyhaven/testing';
import type { Account } from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { connectHub, subjectOf, type HubClient } from './notifications-clients';

/**
 * The device list and deauthorising one device, over HTTP and the real SignalR client on each database:
 * a device with a pending login-with-device request shows it in `api/devices`, and deactivating a device
 * logs out that device's live connections and refresh tokens only — the user's other clients stay.
 */
const PASSWORD = 'correct horse battery staple';
const LAPTOP = '3b0f2c1d-5e6a-4b7c-8d9e-0f1a2b3c4d5e';
const PHONE = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';

interface DeviceJson {
  id: string;
  identifier: string;
  lastActivityDate: string | null;
  devicePendingAuthRequest: { id: string; creationDate: string } | null;
  object: string;
}

describeOnBackends('devices', (backend) => {
  let server: BackedServer;
  let alice: Account;
  let laptop: Session;
  let phone: Session;
  const hubs: HubClient[] = [];

  before(async () => {
    server = await startAllInOne(backend);
    alice = await registerAccount(server.http, 'alice@example.com', PASSWORD);
    laptop = await passwordLogin(server.http, alice, {}, LAPTOP);
    phone = await passwordLogin(server.http, alice, { deviceType: '1', client_id: 'mobile' }, PHONE);
  });

  after(async () => {
    await Promise.allSettled(hubs.map((h) => h.stop()));
    await server.stop();
  });

  async function devices(session: Session): Promise<DeviceJson[]> {
    const res = await server.http.get<{ data: DeviceJson[] }>('/api/devices', { token: session.accessToken });
    assert.equal(res.status, 200, res.text);
    return res.body.data;
  }

  test('a device asking to log in with another device shows its pending request in the device list', async () => {
    const before = await devices(laptop);
    assert.equal(before.length, 2);
    for (const device of before) {
      assert.equal(device.devicePendingAuthRequest, null);
      assert.ok(device.lastActivityDate, 'the login is the last activity');
    }
    const publicKey = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }).publicKey.toString('base64');
    const created = await server.http.post<{ id: string; creationDate: string }>('/api/auth-requests/', {
      headers: { 'device-type': '1', 'device-identifier': PHONE },
      json: {
        email: alice.email,
        publicKey,
        deviceIdentifier: PHONE,
        accessCode: randomUUID().replace(/-/g, '').slice(0, 25),
        type: 0,
      },
    });
    assert.equal(created.status, 200, created.text);

    const after = await devices(laptop);
    const phoneRow = after.find((d) => d.identifier === PHONE);
    const laptopRow = after.find((d) => d.identifier === LAPTOP);
    assert.deepEqual(phoneRow?.devicePendingAuthRequest, {
      id: created.body.id,
      creationDate: created.body.creationDate,
    });
    assert.equal(laptopRow?.devicePendingAuthRequest, null);

    // Answered, it is no longer pending.
    const denied = await server.http.put(`/api/auth-requests/${created.body.id}`, {
      token: laptop.accessToken,
      json: { key: null, deviceIdentifier: LAPTOP, requestApproved: false },
    });
    assert.equal(denied.status, 200, denied.text);
    assert.equal((await devices(laptop)).find((d) => d.identifier === PHONE)?.devicePendingAuthRequest, null);
  });

  test("deactivating a device logs out that device's connections and tokens, and no other", async () => {
    const phoneHub = await connectHub({
      baseUrl: server.url,
      caPath: server.caPath,
      protocol: 'messagepack',
      token: phone.accessToken,
    });
    const laptopHub = await connectHub({
      baseUrl: server.url,
      caPath: server.caPath,
      protocol: 'json',
      token: laptop.accessToken,
    });
    hubs.push(phoneHub, laptopHub);
    const phoneRow = (await devices(laptop)).find((d) => d.identifier === PHONE);
    assert.ok(phoneRow);

    const deactivated = await server.http.post(`/api/devices/${phoneRow.id}/deactivate`, {
      token: laptop.accessToken,
    });
    assert.equal(deactivated.status, 200, deactivated.text);

    const logOut = await phoneHub.next((n) => n.Type === PushType.LogOut);
    assert.equal(logOut.message.Payload['UserId'], subjectOf(phone.accessToken));
    await phoneHub.closed;

    // The phone's refresh token died with its device; the laptop keeps its session and its hub connection.
    const refreshed = await server.http.post<Record<string, unknown>>('/identity/connect/token', {
      form: { grant_type: 'refresh_token', client_id: 'mobile', refresh_token: phone.refreshToken },
    });
    assert.equal(refreshed.status, 400, refreshed.text);
    const stillIn = await server.http.get('/api/sync', { token: laptop.accessToken });
    assert.equal(stillIn.status, 200, stillIn.text);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(
      laptopHub.received.some((n) => n.Type === PushType.LogOut),
      false,
      'the laptop is not logged out',
    );
    assert.equal(laptopHub.connection.state, 'Connected');
    assert.equal(
      (await devices(laptop)).some((d) => d.identifier === PHONE),
      false,
    );
  });
});
