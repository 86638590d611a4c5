import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PushType } from '@keyhaven/contracts';
import { passwordLogin, type HttpResponse, type Session } from '@keyhaven/testing';
import {
  DEFAULT_KDF,
  SymmetricKey,
  createAccount,
  decryptRsa,
  decryptType2,
  deriveMasterKey,
  encryptType2,
  encryptType4,
  generateRsaKeyPair,
  hashMasterPassword,
  makeWrappedKeyPair,
  publicKeyFromPrivateKey,
  stretchMasterKey,
  unlockUserKey,
  unwrapOrgKey,
  wrapSymmetricKey,
} from '@keyhaven/vault-crypto';
import {
  MemberStatus,
  MemberType,
  assertApiError,
  call,
  confirm,
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
import { SSO_TEST_ENV, configureOidc, startIdp, type Idp } from './sso-fixtures';
import { decryptionOptionsOf, ssoTokenResponse, type SsoDevice } from './sso-login-flow';

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
  let idp: Idp | undefined;

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
    server = await startAllInOne(backend, { LOGIN_RATE_LIMIT_PER_MINUTE: '10000', ...SSO_TEST_ENV });
    idp = await startIdp(`${server.url}/sso/oidc-signin`);
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
    await Promise.allSettled([
      (async () => hub?.stop())(),
      (async () => idp?.close())(),
      (async () => (server as BackedServer | undefined)?.stop())(),
    ]);
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

  /**
   * Onboarding through SSO (ENTERPRISE.md §1.8, §3.1) with a real OIDC login each time: the org's
   * configuration says how new members decrypt, the token response says what this person can do.
   */
  const idpPerson = (sub: string, email: string): void => {
    idp?.accounts.set(sub, { password: `${sub}-password`, email, name: sub, groups: [] });
  };
  const login = async (sub: string, identifier: string, device: SsoDevice) => {
    const res = await ssoTokenResponse(server, idp!, sub, identifier, device);
    assert.equal(res.status, 200, res.text);
    return res.body;
  };
  const membership = async (organizationId: string, userId: string) =>
    (
      await server.db.rows<{ id: string; status: number; reset_password_key: string | null }>(
        'SELECT id, status, reset_password_key FROM organization_user WHERE organization_id = $1 AND user_id = $2',
        [organizationId, userId],
      )
    )[0];
  const userIdOf = async (token: string): Promise<string> =>
    ok(await send<{ id: string }>(token, 'GET', '/api/accounts/profile'), 'profile').id;

  test('a new person in a trusted-device organization: SSO, first keys, recovery without a password, a trusted device that decrypts on the next login', async () => {
    const tdeOrg = await createOrg(server.http, owner, 'TDE via SSO');
    ok(
      await send(owner.token, 'PUT', `/api/organizations/${tdeOrg.id}/policies/8`, {
        enabled: true,
        data: { autoEnrollEnabled: true },
      }),
      'account recovery policy',
    );
    await configureOidc(server.http, owner.token, tdeOrg.id, {
      identifier: 'tde-sso',
      authority: idp!.issuer,
      memberDecryptionType: 2,
    });
    const email = `tde-new-${backend}@example.com`;
    idpPerson('ext-tde', email);
    const desktop: SsoDevice = { clientId: 'desktop', deviceType: '8', identifier: randomUUID() };

    // First login: provisioned without keys; nobody can approve, no admin approval yet.
    const first = await login('ext-tde', 'tde-sso', desktop);
    assert.equal(first['Key'], undefined);
    assert.equal(first['PrivateKey'], undefined);
    assert.equal(decryptionOptionsOf(first)['HasMasterPassword'], false);
    assert.deepEqual(decryptionOptionsOf(first)['TrustedDeviceOption'], {
      HasAdminApproval: false,
      HasLoginApprovingDevice: false,
      HasManageResetPasswordPermission: false,
      IsTdeOffboarding: false,
    });
    const token = String(first['access_token']);
    const userId = await userIdOf(token);
    assert.equal((await membership(tdeOrg.id, userId))?.status, MemberStatus.Invited);

    // The web's new-user step: auto-enroll status and the org's public key, then keys, then recovery.
    const status = ok(
      await send<{ id: string; resetPasswordEnabled: boolean }>(
        token,
        'GET',
        '/api/organizations/tde-sso/auto-enroll-status',
      ),
      'auto-enroll-status',
    );
    assert.deepEqual([status.id, status.resetPasswordEnabled], [tdeOrg.id, true]);
    const orgPublicKey = ok(
      await send<{ publicKey: string }>(token, 'GET', `/api/organizations/${tdeOrg.id}/keys`),
      'org keys',
    ).publicKey;
    const userKey = SymmetricKey.generate();
    const pair = await makeWrappedKeyPair(userKey);
    assertApiError(await send(token, 'POST', '/api/accounts/keys', { publicKey: pair.publicKey }), 400);
    assertApiError(
      await send(token, 'POST', '/api/accounts/keys', {
        accountKeys: {
          publicKeyEncryptionKeyPair: { publicKey: pair.publicKey, wrappedPrivateKey: pair.encryptedPrivateKey },
          signatureKeyPair: { wrappedSigningKey: '7.AAAA', verifyingKey: 'AAAA' },
        },
      }),
      400,
    );
    const keys = ok(
      await send<Record<string, unknown>>(token, 'POST', '/api/accounts/keys', {
        publicKey: pair.publicKey,
        encryptedPrivateKey: pair.encryptedPrivateKey,
      }),
      'accounts/keys',
    );
    assert.equal(keys['object'], 'keys');
    assert.equal(keys['publicKey'], pair.publicKey);
    assert.equal(keys['privateKey'], pair.encryptedPrivateKey);
    const replaced = await send(token, 'POST', '/api/accounts/keys', {
      publicKey: pair.publicKey,
      encryptedPrivateKey: pair.encryptedPrivateKey,
    });
    assertApiError(replaced, 400);
    assert.match(replaced.text, /existing keypair/);

    const resetPasswordKey = encryptType4(orgPublicKey, userKey.toBytes());
    const enrolment = `/api/organizations/${tdeOrg.id}/users/${userId}/reset-password-enrollment`;
    ok(await send(token, 'PUT', enrolment, { resetPasswordKey, masterPasswordHash: null }), 'enrol, no password');
    const joined = await membership(tdeOrg.id, userId);
    assert.equal(joined?.status, MemberStatus.Accepted, 'accepted by enrolling');
    assert.equal(joined.reset_password_key, resetPasswordKey);
    // Someone with a master password still proves it, TDE organization or not.
    const ownerEnrolment = `/api/organizations/${tdeOrg.id}/users/${owner.userId}/reset-password-enrollment`;
    const ownerKey = encryptType4(orgPublicKey, owner.account.userKey.toBytes());
    assertApiError(
      await send(owner.token, 'PUT', ownerEnrolment, { resetPasswordKey: ownerKey, masterPasswordHash: null }),
      400,
    );
    assertApiError(
      await send(member.token, 'PUT', `/api/organizations/${org.id}/users/${member.userId}/reset-password-enrollment`, {
        resetPasswordKey: encryptType4(orgPublicKey, member.account.userKey.toBytes()),
        masterPasswordHash: null,
      }),
      400,
    );
    ok(
      await send(owner.token, 'PUT', ownerEnrolment, {
        resetPasswordKey: ownerKey,
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'owner enrols with the password',
    );

    // "Trust this device": the user key wrapped to the device's key pair, its private key under the device key.
    const deviceKey = SymmetricKey.generate();
    const devicePair = await makeWrappedKeyPair(deviceKey);
    const trusted = ok(
      await send<DeviceJson>(token, 'PUT', `/api/devices/${desktop.identifier}/keys`, {
        encryptedUserKey: encryptType4(devicePair.publicKey, userKey.toBytes()),
        encryptedPublicKey: encryptType2(userKey, Buffer.from(devicePair.publicKey, 'base64')),
        encryptedPrivateKey: devicePair.encryptedPrivateKey,
      }),
      'trust device',
    );
    assert.equal(trusted.isTrusted, true);
    ok(await confirm(server.http, tdeOrg, owner.token, joined.id, userId), 'owner confirms');

    // Next login from that device: its keys come back; the device key alone opens the user key,
    // the user key the account's private key, that the org key the owner wrapped for the member.
    const second = await login('ext-tde', 'tde-sso', desktop);
    const option = decryptionOptionsOf(second)['TrustedDeviceOption'] as Record<string, unknown>;
    assert.equal(option['HasAdminApproval'], true);
    assert.equal(option['HasLoginApprovingDevice'], false, 'no other device yet');
    const devicePrivateKey = decryptType2(deviceKey, String(option['EncryptedPrivateKey']));
    const unlocked = SymmetricKey.fromBytes(decryptRsa(devicePrivateKey, String(option['EncryptedUserKey'])));
    assert.ok(unlocked.equals(userKey));
    const accountPrivateKey = decryptType2(unlocked, String(second['PrivateKey']));
    assert.equal(publicKeyFromPrivateKey(accountPrivateKey), pair.publicKey);
    const sync = ok(
      await send<{ profile: { organizations: { id: string; key: string; status: number }[] } }>(
        String(second['access_token']),
        'GET',
        '/api/sync',
      ),
      'sync',
    );
    const inOrg = sync.profile.organizations.find((o) => o.id === tdeOrg.id);
    assert.equal(inOrg?.status, MemberStatus.Confirmed);
    assert.ok(unwrapOrgKey(accountPrivateKey, inOrg.key).equals(tdeOrg.orgKey));

    // A new device: no keys for it, but the trusted desktop can approve, and so can the admins.
    const laptopCli: SsoDevice = { clientId: 'cli', deviceType: '25', identifier: randomUUID() };
    const fresh = decryptionOptionsOf(await login('ext-tde', 'tde-sso', laptopCli))['TrustedDeviceOption'];
    assert.deepEqual(fresh, {
      HasAdminApproval: true,
      HasLoginApprovingDevice: true,
      HasManageResetPasswordPermission: false,
      IsTdeOffboarding: false,
    });
    // The owner signing in through the same organization may manage account recovery.
    idpPerson('ext-tde-owner', owner.email);
    const ownerLogin = decryptionOptionsOf(
      await login('ext-tde-owner', 'tde-sso', { clientId: 'cli', deviceType: '25', identifier: randomUUID() }),
    );
    assert.equal(ownerLogin['HasMasterPassword'], true);
    assert.equal(
      (ownerLogin['TrustedDeviceOption'] as Record<string, unknown>)['HasManageResetPasswordPermission'],
      true,
    );

    // Later the member sets a master password (the V2 body without accountKeys: the keys exist).
    const password = 'tde person password 1';
    const masterKey = await deriveMasterKey(password, email, DEFAULT_KDF);
    const hash = hashMasterPassword(masterKey, password);
    const kdf = { ...DEFAULT_KDF };
    ok(
      await send(String(second['access_token']), 'POST', '/api/accounts/set-password', {
        masterPasswordAuthentication: { kdf, salt: email, masterPasswordAuthenticationHash: hash },
        masterPasswordUnlock: {
          kdf,
          salt: email,
          masterKeyWrappedUserKey: wrapSymmetricKey(stretchMasterKey(masterKey), userKey),
        },
        masterPasswordHint: null,
        orgIdentifier: 'tde-sso',
      }),
      'set-password (TDE, V2)',
    );
    const withPassword = await login('ext-tde', 'tde-sso', desktop);
    assert.equal(decryptionOptionsOf(withPassword)['HasMasterPassword'], true);
    assert.ok((await unlockUserKey(password, email, DEFAULT_KDF, String(withPassword['Key']))).equals(userKey));
    assert.equal(withPassword['PrivateKey'], pair.encryptedPrivateKey, 'the key pair is kept');
  });

  test('a new person in a master-password SSO organization sets it with the V2 body (the SDK’s JIT registration)', async () => {
    const mpOrg = await createOrg(server.http, owner, 'MP via SSO');
    await configureOidc(server.http, owner.token, mpOrg.id, { identifier: 'mp-sso', authority: idp!.issuer });
    const email = `mp-new-${backend}@example.com`;
    const password = 'jit person password 1';
    idpPerson('ext-mp', email);
    const device: SsoDevice = { clientId: 'cli', deviceType: '25', identifier: randomUUID() };
    const first = await login('ext-mp', 'mp-sso', device);
    assert.equal(decryptionOptionsOf(first)['HasMasterPassword'], false);
    assert.equal(decryptionOptionsOf(first)['TrustedDeviceOption'], undefined);
    const token = String(first['access_token']);
    const account = await createAccount({ email, password });
    const modern = account.registerFinishBody('unused', 'modern');
    const body = {
      masterPasswordAuthentication: modern.masterPasswordAuthentication,
      masterPasswordUnlock: modern.masterPasswordUnlock,
      accountKeys: {
        accountPublicKey: account.publicKey,
        userKeyEncryptedAccountPrivateKey: account.encryptedPrivateKey,
        publicKeyEncryptionKeyPair: {
          publicKey: account.publicKey,
          wrappedPrivateKey: account.encryptedPrivateKey,
          signedPublicKey: null,
        },
        signatureKeyPair: null,
        securityState: null,
      },
      masterPasswordHint: 'a hint',
      orgIdentifier: 'mp-sso',
    };
    assertApiError(await send(token, 'POST', '/api/accounts/set-password', { ...body, orgIdentifier: 'nope' }), 400);
    ok(await send(token, 'POST', '/api/accounts/set-password', body), 'set-password (V2)');
    assertApiError(await send(token, 'POST', '/api/accounts/set-password', body), 400);
    const userId = await userIdOf(token);
    assert.equal((await membership(mpOrg.id, userId))?.status, MemberStatus.Accepted);
    const again = await login('ext-mp', 'mp-sso', device);
    assert.equal(decryptionOptionsOf(again)['HasMasterPassword'], true);
    const userKey = await unlockUserKey(password, email, account.kdfConfig, String(again['Key']));
    assert.ok(userKey.equals(account.userKey));
    assert.equal(publicKeyFromPrivateKey(decryptType2(userKey, String(again['PrivateKey']))), account.publicKey);
  });
});
