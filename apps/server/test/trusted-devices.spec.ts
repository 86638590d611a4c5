import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PushType } from '@keyhaven/contracts';
import { passwordLogin, type HttpResponse, type Session } from '@keyhaven/testing';
import {
  SymmetricKey,
  decryptRsa,
  decryptType2,
  encryptType2,
  encryptType4,
  generateRsaKeyPair,
  makeWrappedKeyPair,
} from '@keyhaven/vault-crypto';
import {
  MemberType,
  assertApiError,
  call,
  createOrg,
  join,
  newPeople,
  ok,
  type Member,
  type Method,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { connectHub, type HubClient } from './notifications-clients';

/**
 * Trusted device encryption's server surface (ENTERPRISE.md §3.1) on each database, with real keys:
 * a device stores the user key wrapped to its own key pair and reads as trusted; a new device asks
 * the organization's admins (auth request type 2); an admin recovers the member's user key from
 * the account-recovery enrolment, wraps it to the request's public key and approves, and the new
 * device — told by push — unwraps the very user key. Denial, untrusting, lost trust and key
 * rotation (update-trust) likewise; every admin decision is in the event log.
 */
const LAPTOP = randomUUID();
const PHONE = randomUUID();

interface DeviceJson {
  id: string;
  identifier: string;
  isTrusted: boolean;
  encryptedUserKey: string | null;
  encryptedPublicKey: string | null;
}
interface AuthRequestJson {
  id: string;
  key: string | null;
  requestApproved: boolean;
  responseDate: string | null;
  object: string;
}

describeOnBackends('trusted devices and admin approval', (backend) => {
  let server: BackedServer;
  let owner: Person;
  let outsider: Person;
  let member: Member;
  let plain: Member;
  let org: Org;
  let laptop: Session;
  let phone: Session;
  let hub: HubClient | undefined;

  const send = <T>(token: string, method: Method, path: string, json?: unknown): Promise<HttpResponse<T>> =>
    call<T>(server.http, token, method, path, json);
  const eventCount = async (type: number, memberId: string): Promise<number> => {
    const [row] = await server.db.rows<{ n: string }>(
      `SELECT (SELECT count(*) FROM event WHERE type = $1 AND organization_user_id = $2)
            + (SELECT count(*) FROM event_outbox WHERE (payload ->> 'type')::int = $1
                AND payload ->> 'organizationUserId' = $2::text) AS n`,
      [type, memberId],
    );
    return Number(row?.n ?? 0);
  };

  /** What trusting a device does in the client: a device key, a key pair, the user key wrapped to it. */
  async function trustKeys(userKey: SymmetricKey): Promise<Record<string, string>> {
    const deviceKey = SymmetricKey.generate();
    const pair = await makeWrappedKeyPair(deviceKey);
    return {
      encryptedUserKey: encryptType4(pair.publicKey, userKey.toBytes()),
      encryptedPublicKey: encryptType2(userKey, Buffer.from(pair.publicKey, 'base64')),
      encryptedPrivateKey: pair.encryptedPrivateKey,
    };
  }

  /** A new device asking the admins; answers the request and the private key only it holds. */
  async function askAdmins(): Promise<{ id: string; privateKey: Buffer }> {
    const pair = await generateRsaKeyPair();
    const res = await server.http.post<AuthRequestJson>('/api/auth-requests/admin-request', {
      token: phone.accessToken,
      headers: { 'device-type': '1' },
      json: { email: member.email, publicKey: pair.publicKey, deviceIdentifier: PHONE, accessCode: 'abc', type: 2 },
    });
    return { id: ok(res, 'admin request').id, privateKey: pair.privateKey };
  }

  before(async () => {
    server = await startAllInOne(backend, { LOGIN_RATE_LIMIT_PER_MINUTE: '10000' });
    const [o, m, p, x] = await newPeople(server.http, [
      'owner@tde.test',
      'member@tde.test',
      'plain@tde.test',
      'outsider@tde.test',
    ]);
    [owner, outsider] = [o, x] as [Person, Person];
    org = await createOrg(server.http, owner, 'TDE');
    member = await join(server.http, org, owner.token, m as Person, { type: MemberType.User });
    plain = await join(server.http, org, owner.token, p as Person, { type: MemberType.User });
    ok(
      await send(owner.token, 'PUT', `/api/organizations/${org.id}/policies/8`, {
        enabled: true,
        data: { autoEnrollEnabled: false },
      }),
      'account recovery policy',
    );
    const { publicKey } = ok(
      await send<{ publicKey: string }>(member.token, 'GET', `/api/organizations/${org.id}/keys`),
      'keys',
    );
    ok(
      await send(member.token, 'PUT', `/api/organizations/${org.id}/users/${member.userId}/reset-password-enrollment`, {
        resetPasswordKey: encryptType4(publicKey, member.account.userKey.toBytes()),
        masterPasswordHash: member.account.masterPasswordHash,
      }),
      'enrol',
    );
    laptop = await passwordLogin(server.http, member.account, {}, LAPTOP);
    phone = await passwordLogin(server.http, member.account, { deviceType: '1', client_id: 'mobile' }, PHONE);
  });

  after(async () => {
    await Promise.allSettled([(async () => hub?.stop())(), (async () => server.stop())()]);
  });

  test('a device that stores its wrapped keys reads as trusted; unknown devices and malformed keys are refused', async () => {
    const keys = await trustKeys(member.account.userKey);
    const saved = ok(await send<DeviceJson>(laptop.accessToken, 'PUT', `/api/devices/${LAPTOP}/keys`, keys), 'keys');
    assert.equal(saved.isTrusted, true);
    assert.equal(saved.encryptedUserKey, keys['encryptedUserKey']);
    const read = ok(await send<DeviceJson>(laptop.accessToken, 'GET', `/api/devices/identifier/${LAPTOP}`), 'device');
    assert.equal(read.isTrusted, true);
    const list = ok(await send<{ data: DeviceJson[] }>(laptop.accessToken, 'GET', '/api/devices'), 'devices');
    assert.deepEqual(
      list.data
        .filter((d) => d.identifier === LAPTOP || d.identifier === PHONE)
        .map((d) => [d.identifier, d.isTrusted])
        .sort(),
      [
        [LAPTOP, true],
        [PHONE, false],
      ].sort(),
    );
    // The laptop's own private key unwraps to the user key it was trusted with.
    const retrieved = ok(
      await send<{ encryptedUserKey: string; object: string }>(
        laptop.accessToken,
        'POST',
        `/api/devices/${LAPTOP}/retrieve-keys`,
      ),
      'retrieve',
    );
    assert.equal(retrieved.object, 'protectedDevice');
    assertApiError(await send(laptop.accessToken, 'PUT', `/api/devices/${randomUUID()}/keys`, keys), 404);
    assertApiError(await send(plain.token, 'PUT', `/api/devices/${LAPTOP}/keys`, keys), 404);
    assertApiError(
      await send(laptop.accessToken, 'POST', `/api/devices/${LAPTOP}/keys`, { ...keys, encryptedUserKey: 'plain' }),
      400,
    );
  });

  test('an admin approves a new device with the member’s user key; the device is told and unwraps it', async () => {
    const request = await askAdmins();
    assert.equal(await eventCount(1010, member.memberId), 1);
    // The waiting device listens on the anonymous hub under its request id.
    hub = await connectHub({
      baseUrl: server.url,
      caPath: server.caPath,
      protocol: 'json',
      path: `anonymous-hub?Token=${request.id}`,
    });
    const listed = ok(
      await send<{ data: Record<string, unknown>[] }>(owner.token, 'GET', `/api/organizations/${org.id}/auth-requests`),
      'pending',
    );
    assert.equal(listed.data.length, 1);
    const [pending] = listed.data as [Record<string, unknown>];
    assert.equal(pending['id'], request.id);
    assert.equal(pending['organizationUserId'], member.memberId);
    assert.equal(pending['email'], member.email);
    assert.equal(pending['object'], 'pending-org-auth-request');
    // Not an admin here, or another organization: no such route.
    assertApiError(await send(plain.token, 'GET', `/api/organizations/${org.id}/auth-requests`), 404);
    assertApiError(await send(outsider.token, 'GET', `/api/organizations/${org.id}/auth-requests`), 404);

    // The admin's client: org private key → the member's user key from the enrolment → wrapped to the request.
    const details = ok(
      await send<{ resetPasswordKey: string; encryptedPrivateKey: string }>(
        owner.token,
        'GET',
        `/api/organizations/${org.id}/users/${member.memberId}/reset-password-details`,
      ),
      'details',
    );
    const orgPrivateKey = decryptType2(org.orgKey, details.encryptedPrivateKey);
    const userKey = decryptRsa(orgPrivateKey, details.resetPasswordKey);
    const { publicKey } = ok(
      await send<AuthRequestJson & { publicKey: string }>(phone.accessToken, 'GET', `/api/auth-requests/${request.id}`),
      'request',
    );
    const approved = await send(owner.token, 'POST', `/api/organizations/${org.id}/auth-requests/${request.id}`, {
      requestApproved: true,
      encryptedUserKey: encryptType4(publicKey, userKey),
    });
    assert.equal(approved.status, 200, approved.text);
    const pushed = await hub.next((n) => n.Type === PushType.AuthRequestResponse);
    assert.equal(pushed.message.Payload['Id'], request.id);

    const answer = ok(
      await send<AuthRequestJson>(phone.accessToken, 'GET', `/api/auth-requests/${request.id}`),
      'answer',
    );
    assert.equal(answer.requestApproved, true);
    assert.ok(answer.key);
    assert.ok(decryptRsa(request.privateKey, answer.key).equals(member.account.userKey.toBytes()));
    assert.equal(await eventCount(1513, member.memberId), 1);
    // Answered: no longer pending, a second answer finds nothing.
    assertApiError(
      await send(owner.token, 'POST', `/api/organizations/${org.id}/auth-requests/${request.id}`, {
        requestApproved: false,
      }),
      404,
    );
    // Another user's request is not theirs to read.
    assertApiError(await send(plain.token, 'GET', `/api/auth-requests/${request.id}`), 404);
  });

  test('denied requests (one or in bulk) are answered without a key and logged', async () => {
    const first = await askAdmins();
    const second = await askAdmins();
    ok(await send(owner.token, 'POST', `/api/organizations/${org.id}/auth-requests/deny`, { ids: [first.id] }), 'deny');
    ok(
      await send(owner.token, 'POST', `/api/organizations/${org.id}/auth-requests`, [
        { id: second.id, approved: false },
      ]),
      'bulk',
    );
    for (const { id } of [first, second]) {
      const answer = ok(await send<AuthRequestJson>(phone.accessToken, 'GET', `/api/auth-requests/${id}`), 'answer');
      assert.equal(answer.requestApproved, false);
      assert.equal(answer.key, null);
      assert.ok(answer.responseDate);
    }
    assert.equal(await eventCount(1514, member.memberId), 2);
    // A member not enrolled in account recovery has no admin who could approve.
    const pair = await generateRsaKeyPair();
    const refused = await send(plain.token, 'POST', '/api/auth-requests/admin-request', {
      email: plain.email,
      publicKey: pair.publicKey,
      deviceIdentifier: PHONE,
      accessCode: 'abc',
      type: 2,
    });
    assertApiError(refused, 400);
  });

  test('key rotation re-wraps trusted devices after the password; untrust and lost trust forget the keys', async () => {
    const rotatedKey = SymmetricKey.generate();
    const laptopRow = ok(await send<DeviceJson>(laptop.accessToken, 'GET', `/api/devices/identifier/${LAPTOP}`), 'row');
    const rewrapped = await trustKeys(rotatedKey);
    const body = {
      masterPasswordHash: member.account.masterPasswordHash,
      currentDevice: {
        encryptedPublicKey: rewrapped['encryptedPublicKey'],
        encryptedUserKey: rewrapped['encryptedUserKey'],
      },
      otherDevices: [],
    };
    const wrong = await server.http.post('/api/devices/update-trust', {
      token: laptop.accessToken,
      headers: { 'device-identifier': LAPTOP },
      json: { ...body, masterPasswordHash: 'wrong' },
    });
    assertApiError(wrong, 400);
    assert.match(wrong.text, /User verification failed\./);
    const rotated = await server.http.post('/api/devices/update-trust', {
      token: laptop.accessToken,
      headers: { 'device-identifier': LAPTOP },
      json: body,
    });
    assert.equal(rotated.status, 200, rotated.text);
    const after = ok(await send<DeviceJson>(laptop.accessToken, 'GET', `/api/devices/identifier/${LAPTOP}`), 'row');
    assert.equal(after.encryptedUserKey, rewrapped['encryptedUserKey']);
    assert.equal(after.isTrusted, true);

    ok(await send(plain.token, 'POST', '/api/devices/untrust', { devices: [laptopRow.id] }), 'not theirs: no-op');
    assert.equal(
      ok(await send<DeviceJson>(laptop.accessToken, 'GET', `/api/devices/identifier/${LAPTOP}`), 'row').isTrusted,
      true,
    );
    ok(await send(phone.accessToken, 'POST', '/api/devices/untrust', { devices: [laptopRow.id] }), 'untrust');
    const untrusted = ok(await send<DeviceJson>(laptop.accessToken, 'GET', `/api/devices/identifier/${LAPTOP}`), 'row');
    assert.equal(untrusted.isTrusted, false);
    assert.equal(untrusted.encryptedUserKey, null);

    ok(
      await send(laptop.accessToken, 'PUT', `/api/devices/${LAPTOP}/keys`, await trustKeys(member.account.userKey)),
      'again',
    );
    const lost = await server.http.post('/api/devices/lost-trust', {
      token: laptop.accessToken,
      headers: { 'device-identifier': LAPTOP },
    });
    assert.equal(lost.status, 200, lost.text);
    assert.equal(
      ok(await send<DeviceJson>(laptop.accessToken, 'GET', `/api/devices/identifier/${LAPTOP}`), 'row').isTrusted,
      false,
    );
  });
});
