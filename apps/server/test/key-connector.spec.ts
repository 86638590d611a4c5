import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { type HttpResponse } from '@keyhaven/testing';
import {
  DEFAULT_KDF,
  SymmetricKey,
  decryptType2,
  deriveMasterKey,
  kdfToFields,
  makeWrappedKeyPair,
  publicKeyFromPrivateKey,
  stretchMasterKey,
  unwrapSymmetricKey,
  wrapSymmetricKey,
} from '@keyhaven/vault-crypto';
import {
  MemberStatus,
  MemberType,
  assertApiError,
  call,
  createOrg,
  join,
  newPerson,
  newPeople,
  ok,
  type Member,
  type Method,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { SSO_TEST_ENV, configureOidc, jwtPayload, startIdp, type Idp } from './sso-fixtures';
import { decryptionOptionsOf, ssoTokenResponse, type SsoDevice } from './sso-login-flow';

/**
 * Key Connector (ENTERPRISE.md §3.2) with Keyhaven as its own Key Connector, on each database: the
 * client stores its master key at `{DOMAIN}/api/key-connector/user-keys` (sealed at rest, never in
 * clear), converts, and from then on unlocks with the key it reads back — no master password; owners
 * and admins are refused; a new member's first keys (set-key-connector-key) accept the invitation.
 */
describeOnBackends('key connector', (backend) => {
  let server: BackedServer;
  let owner: Person;
  let member: Member;
  let newbie: Member;
  let org: Org;
  let idp: Idp | undefined;

  const send = <T>(who: Person | null, method: Method, path: string, json?: unknown): Promise<HttpResponse<T>> =>
    call<T>(server.http, who?.token, method, path, json);
  const kc = '/api/key-connector/user-keys';

  before(async () => {
    server = await startAllInOne(backend, {
      LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
      KEY_CONNECTOR_ENABLED: 'true',
      KEY_CONNECTOR_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ...SSO_TEST_ENV,
    });
    idp = await startIdp(`${server.url}/sso/oidc-signin`);
    const [o, m, n] = await newPeople(server.http, ['owner@kc.test', 'member@kc.test', 'newbie@kc.test']);
    owner = o as Person;
    org = await createOrg(server.http, owner, 'KC Org');
    member = await join(server.http, org, owner.token, m as Person, { type: MemberType.User });
    newbie = await join(server.http, org, owner.token, n as Person, { type: MemberType.User }, 'invited');
    // The SSO configuration (Key Connector decryption) as the configuration routes store it.
    await server.db.rows(`UPDATE organization SET identifier = 'kc-org' WHERE id = $1`, [org.id]);
    await server.db.rows(
      `INSERT INTO sso_config (id, organization_id, enabled, config_type, member_decryption_type, data, creation_date, revision_date)
       VALUES ($1, $2, true, 1, 1, '{}'::jsonb, now(), now())`,
      [randomUUID(), org.id],
    );
  });

  after(async () => {
    await Promise.allSettled([
      (async () => idp?.close())(),
      (async () => (server as BackedServer | undefined)?.stop())(),
    ]);
  });

  test('the hosted Key Connector keeps the key sealed and gives it back only to its user', async () => {
    assert.equal((await send(null, 'GET', '/api/key-connector/alive')).status, 200);
    assert.equal((await send(null, 'GET', kc)).status, 401);
    assertApiError(await send(member, 'GET', kc), 404);
    const key = member.account.masterKey.toString('base64');
    assertApiError(await send(member, 'POST', kc, { key: 'not-a-key' }), 400);
    ok(await send(member, 'POST', kc, { key }), 'store');
    assertApiError(await send(member, 'POST', kc, { key }), 400);
    assert.equal(ok(await send<{ key: string }>(member, 'GET', kc), 'read').key, key);
    assertApiError(await send(owner, 'GET', kc), 404);
    const rows = await server.db.rows<{ sealed_key: string }>(
      'SELECT sealed_key FROM key_connector_user_key WHERE user_id = $1',
      [member.userId],
    );
    assert.equal(rows.length, 1);
    assert.ok(!rows[0]?.sealed_key.includes(key), 'never stored in clear');
    assert.ok(!server.output().includes(key), 'never logged');
  });

  test('a member converts to Key Connector and unlocks with its key; owners are refused', async () => {
    assertApiError(await send(owner, 'POST', '/api/accounts/convert-to-key-connector'), 400);
    ok(await send(member, 'POST', '/api/accounts/convert-to-key-connector'), 'convert');
    assertApiError(await send(member, 'POST', '/api/accounts/convert-to-key-connector'), 400);
    const profile = ok(
      await send<{ usesKeyConnector: boolean; key: string }>(member, 'GET', '/api/accounts/profile'),
      'profile',
    );
    assert.equal(profile.usesKeyConnector, true);
    // What the client does at unlock: the key from the Key Connector opens the account's user key.
    const fromKc = Buffer.from(ok(await send<{ key: string }>(member, 'GET', kc), 'read').key, 'base64');
    assert.ok(unwrapSymmetricKey(stretchMasterKey(fromKc), profile.key).equals(member.account.userKey));
    // No master password any more.
    const login = await server.http.post('/identity/connect/token', {
      form: {
        grant_type: 'password',
        username: member.email,
        password: member.account.masterPasswordHash,
        scope: 'api offline_access',
        client_id: 'cli',
        deviceType: '25',
        deviceIdentifier: randomUUID(),
        deviceName: 'linux',
      },
    });
    assert.equal(login.status, 400, login.text);
    const [events] = await server.db.rows<{ n: string }>(
      `SELECT (SELECT count(*) FROM event WHERE type = 1009 AND user_id = $1)
            + (SELECT count(*) FROM event_outbox WHERE (payload ->> 'type')::int = 1009 AND payload ->> 'userId' = $1::text) AS n`,
      [member.userId],
    );
    assert.equal(Number(events?.n), 1);
  });

  test('a new member’s first keys (set-key-connector-key) accept the invitation', async () => {
    // A just-in-time account: linked to its invitation, no master password and no keys yet.
    await server.db.rows(`UPDATE organization_user SET user_id = $1, email = NULL WHERE id = $2`, [
      newbie.userId,
      newbie.memberId,
    ]);
    await server.db.rows(`UPDATE app_user SET master_password_hash = '', key = '' WHERE id = $1`, [newbie.userId]);
    const details = ok(
      await send<{ organizationName: string; object: string }>(
        newbie,
        'GET',
        '/api/accounts/key-connector/confirmation-details/KC-ORG',
      ),
      'details',
    );
    assert.deepEqual(details, { organizationName: 'KC Org', object: 'keyConnectorConfirmationDetails' });
    assertApiError(await send(newbie, 'GET', '/api/accounts/key-connector/confirmation-details/nope'), 404);

    const kcKey = SymmetricKey.generate();
    const userKey = SymmetricKey.generate();
    const pair = await makeWrappedKeyPair(userKey);
    const body = {
      keyConnectorKeyWrappedUserKey: wrapSymmetricKey(kcKey, userKey),
      accountKeys: {
        publicKeyEncryptionKeyPair: { wrappedPrivateKey: pair.encryptedPrivateKey, publicKey: pair.publicKey },
      },
      orgIdentifier: 'kc-org',
    };
    assertApiError(
      await send(newbie, 'POST', '/api/accounts/set-key-connector-key', { ...body, orgIdentifier: 'nope' }),
      404,
    );
    ok(await send(newbie, 'POST', '/api/accounts/set-key-connector-key', body), 'set key');
    assertApiError(await send(newbie, 'POST', '/api/accounts/set-key-connector-key', body), 400);
    assert.equal(await server.db.memberStatus(newbie.memberId), MemberStatus.Accepted);
    const profile = ok(
      await send<{ usesKeyConnector: boolean; key: string }>(newbie, 'GET', '/api/accounts/profile'),
      'profile',
    );
    assert.equal(profile.usesKeyConnector, true);
    assert.ok(unwrapSymmetricKey(kcKey, profile.key).equals(userKey));
  });

  /**
   * Key Connector through a real SSO login (ENTERPRISE.md §1.6, §3.2): the token response names the
   * Key Connector, the client keeps its key there, and the next login unlocks with what it reads back.
   */
  describeKcSso();
  function describeKcSso(): void {
    let kcOrg: Org;
    const idpPerson = (sub: string, email: string): void => {
      idp?.accounts.set(sub, { password: `${sub}-password`, email, name: sub, groups: [] });
    };
    const device = (): SsoDevice => ({ clientId: 'cli', deviceType: '25', identifier: randomUUID() });
    const login = async (sub: string) => {
      const res = await ssoTokenResponse(server, idp!, sub, 'kc-sso', device());
      assert.equal(res.status, 200, res.text);
      return res.body;
    };
    const kcPath = (body: Record<string, unknown>): string => {
      const option = decryptionOptionsOf(body)['KeyConnectorOption'] as { KeyConnectorUrl: string } | undefined;
      assert.equal(option?.KeyConnectorUrl, `${server.url}/api/key-connector`);
      return `${new URL(option.KeyConnectorUrl).pathname}/user-keys`;
    };
    const kcCall = <T>(token: string, method: Method, path: string, json?: unknown) =>
      call<T>(server.http, token, method, path, json);
    const statusIn = async (organizationId: string, token: string): Promise<number | undefined> => {
      const userId = ok(await kcCall<{ id: string }>(token, 'GET', '/api/accounts/profile'), 'profile').id;
      const [row] = await server.db.rows<{ status: number }>(
        'SELECT status FROM organization_user WHERE organization_id = $1 AND user_id = $2',
        [organizationId, userId],
      );
      return row?.status;
    };
    /** The next SSO login unlocks with the Key Connector's key alone and opens the private key. */
    const assertUnlocks = async (sub: string, userKey: SymmetricKey, publicKey: string): Promise<void> => {
      const next = await login(sub);
      assert.equal(decryptionOptionsOf(next)['HasMasterPassword'], false);
      const token = String(next['access_token']);
      const stored = ok(await kcCall<{ key: string }>(token, 'GET', kcPath(next)), 'key connector').key;
      const unlocked = unwrapSymmetricKey(stretchMasterKey(Buffer.from(stored, 'base64')), String(next['Key']));
      assert.ok(unlocked.equals(userKey));
      assert.equal(publicKeyFromPrivateKey(decryptType2(unlocked, String(next['PrivateKey']))), publicKey);
      const profile = ok(await kcCall<{ usesKeyConnector: boolean }>(token, 'GET', '/api/accounts/profile'), 'profile');
      assert.equal(profile.usesKeyConnector, true);
    };

    test('SSO into a Key Connector organization: the token names the Key Connector; a new member’s V1 keys accept them and unlock', async () => {
      kcOrg = await createOrg(server.http, owner, 'KC via SSO');
      // Key Connector needs Single Organization (3) and Require SSO (4) first, as Bitwarden.
      for (const type of [3, 4]) {
        ok(
          await call(server.http, owner.token, 'PUT', `/api/organizations/${kcOrg.id}/policies/${type}`, {
            enabled: true,
            data: null,
          }),
          `policy ${type}`,
        );
      }
      await configureOidc(server.http, owner.token, kcOrg.id, {
        identifier: 'kc-sso',
        authority: idp!.issuer,
        memberDecryptionType: 1,
      });
      const email = `kc-v1-${backend}@example.com`;
      idpPerson('ext-kc-v1', email);
      const first = await login('ext-kc-v1');
      assert.equal(first['Key'], undefined);
      assert.equal(decryptionOptionsOf(first)['HasMasterPassword'], false);
      assert.equal(decryptionOptionsOf(first)['TrustedDeviceOption'], undefined);
      assert.deepEqual(jwtPayload(String(first['access_token']))['amr'], ['external']);
      const token = String(first['access_token']);
      const path = kcPath(first);
      assertApiError(await kcCall(token, 'GET', path), 404);
      assert.deepEqual(
        ok(await kcCall(token, 'GET', '/api/accounts/key-connector/confirmation-details/kc-sso'), 'details'),
        { organizationName: 'KC via SSO', object: 'keyConnectorConfirmationDetails' },
      );
      assert.equal(await statusIn(kcOrg.id, token), MemberStatus.Invited);

      // The client's V1 enrolment: a master key from a random password, kept by the Key Connector.
      const masterKey = await deriveMasterKey(randomBytes(32).toString('base64'), email, DEFAULT_KDF);
      ok(await kcCall(token, 'POST', path, { key: masterKey.toString('base64') }), 'store key');
      const userKey = SymmetricKey.generate();
      const pair = await makeWrappedKeyPair(userKey);
      ok(
        await kcCall(token, 'POST', '/api/accounts/set-key-connector-key', {
          key: wrapSymmetricKey(stretchMasterKey(masterKey), userKey),
          keys: { publicKey: pair.publicKey, encryptedPrivateKey: pair.encryptedPrivateKey },
          ...kdfToFields(DEFAULT_KDF),
          orgIdentifier: 'kc-sso',
        }),
        'set-key-connector-key (V1)',
      );
      assert.equal(await statusIn(kcOrg.id, token), MemberStatus.Accepted);
      await assertUnlocks('ext-kc-v1', userKey, pair.publicKey);
    });

    test('a new member’s V2 body (keyConnectorKeyWrappedUserKey + accountKeys) does the same', async () => {
      idpPerson('ext-kc-v2', `kc-v2-${backend}@example.com`);
      const first = await login('ext-kc-v2');
      const token = String(first['access_token']);
      const kcKey = randomBytes(32);
      ok(await kcCall(token, 'POST', kcPath(first), { key: kcKey.toString('base64') }), 'store key');
      const userKey = SymmetricKey.generate();
      const pair = await makeWrappedKeyPair(userKey);
      ok(
        await kcCall(token, 'POST', '/api/accounts/set-key-connector-key', {
          keyConnectorKeyWrappedUserKey: wrapSymmetricKey(stretchMasterKey(kcKey), userKey),
          accountKeys: {
            publicKeyEncryptionKeyPair: { wrappedPrivateKey: pair.encryptedPrivateKey, publicKey: pair.publicKey },
          },
          orgIdentifier: 'kc-sso',
        }),
        'set-key-connector-key (V2)',
      );
      assert.equal(await statusIn(kcOrg.id, token), MemberStatus.Accepted);
      await assertUnlocks('ext-kc-v2', userKey, pair.publicKey);
    });

    test('a master-password member of the organization moves to Key Connector (PUT user-keys, key-connector/enroll)', async () => {
      const person = await newPerson(server.http, `kc-mp-${backend}@example.com`);
      await join(server.http, kcOrg, owner.token, person, { type: MemberType.User });
      idpPerson('ext-kc-mp', person.email);
      // Offered even while the member still has a master password; the client migrates on amr external.
      const first = await login('ext-kc-mp');
      assert.equal(decryptionOptionsOf(first)['HasMasterPassword'], true);
      assert.deepEqual(jwtPayload(String(first['access_token']))['amr'], ['external']);
      const token = String(first['access_token']);
      const path = kcPath(first);
      ok(await kcCall(token, 'POST', path, { key: randomBytes(32).toString('base64') }), 'store');
      const kcKey = randomBytes(32);
      ok(await kcCall(token, 'PUT', path, { key: kcKey.toString('base64') }), 'replace');
      assert.equal(ok(await kcCall<{ key: string }>(token, 'GET', path), 'read').key, kcKey.toString('base64'));
      ok(
        await kcCall(token, 'POST', '/api/accounts/key-connector/enroll', {
          keyConnectorKeyWrappedUserKey: wrapSymmetricKey(stretchMasterKey(kcKey), person.account.userKey),
        }),
        'enroll',
      );
      assertApiError(
        await kcCall(token, 'POST', '/api/accounts/key-connector/enroll', {
          keyConnectorKeyWrappedUserKey: wrapSymmetricKey(stretchMasterKey(kcKey), person.account.userKey),
        }),
        400,
      );
      await assertUnlocks('ext-kc-mp', person.account.userKey, person.account.publicKey);
    });
  }
});
