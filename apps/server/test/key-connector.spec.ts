import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { type HttpResponse } from '@keyhaven/testing';
import {
  SymmetricKey,
  makeWrappedKeyPair,
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
  newPeople,
  ok,
  type Member,
  type Method,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';

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

  const send = <T>(who: Person | null, method: Method, path: string, json?: unknown): Promise<HttpResponse<T>> =>
    call<T>(server.http, who?.token, method, path, json);
  const kc = '/api/key-connector/user-keys';

  before(async () => {
    server = await startAllInOne(backend, {
      LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
      KEY_CONNECTOR_ENABLED: 'true',
      KEY_CONNECTOR_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
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
    await Promise.allSettled([(async () => server.stop())()]);
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
});
