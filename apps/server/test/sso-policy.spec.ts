import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { passwordLogin } from '@keyhaven/testing';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { call, createOrg, join, newPerson, ok, type Member, type Org, type Person } from './org-fixtures';

/**
 * The Require SSO policy (type 4) on password logins (ENTERPRISE.md §1.1), break-glass for owners
 * (SSO_OWNERS_PASSWORD_LOGIN), the organization's SSO configuration events 1604–1607 and the user's
 * own "Unlink SSO" (1505). No IdP is needed: a password login is refused before anyone talks to one.
 */

const SSO_BODY = (enabled: boolean, memberDecryptionType = 0) => ({
  enabled,
  identifier: 'PolicyCo',
  data: {
    configType: 1,
    memberDecryptionType,
    authority: 'https://idp.invalid',
    clientId: 'keyhaven',
    clientSecret: 'secret-of-the-idp-client',
  },
});

async function eventTypes(server: BackedServer, organizationId: string): Promise<number[]> {
  const rows = await server.db.rows<{ type: number }>(
    `SELECT (payload->>'type')::int AS type FROM event_outbox WHERE payload->>'organizationId' = $1
     UNION ALL SELECT type FROM event WHERE organization_id::text = $1`,
    [organizationId],
  );
  return rows.map((r) => r.type).sort();
}

/** Owner, admin, user (confirmed) and an accepted-only user in an organization requiring SSO. */
async function setUp(server: BackedServer, prefix: string) {
  const owner = await newPerson(server.http, `${prefix}-owner@example.com`);
  const org = await createOrg(server.http, owner, `${prefix} Co`);
  const admin = await join(server.http, org, owner.token, await newPerson(server.http, `${prefix}-admin@example.com`), {
    type: 1,
  });
  const user = await join(server.http, org, owner.token, await newPerson(server.http, `${prefix}-user@example.com`), {
    type: 2,
  });
  const waiting = await join(
    server.http,
    org,
    owner.token,
    await newPerson(server.http, `${prefix}-waiting@example.com`),
    { type: 2 },
    'accepted',
  );
  ok(await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/sso`, SSO_BODY(true)), 'sso config');
  const policy = (type: number, enabled: boolean, data: Record<string, unknown> | null = null) =>
    call(server.http, owner.token, 'PUT', `/api/organizations/${org.id}/policies/${type}`, { enabled, data });
  ok(await policy(3, true), 'single organization');
  ok(await policy(4, true), 'require sso');
  return { owner, org, admin, user, waiting, policy };
}

const login = (server: BackedServer, person: Person) =>
  server.http.post<Record<string, unknown>>('/identity/connect/token', {
    form: {
      scope: 'api offline_access',
      client_id: 'cli',
      deviceType: '25',
      deviceIdentifier: '6d9a8f8e-1f8c-4b0e-9a51-6f1f3c7d1a20',
      deviceName: 'linux',
      grant_type: 'password',
      username: person.email,
      password: person.account.masterPasswordHash,
    },
  });

function assertSsoRequired(res: Awaited<ReturnType<typeof login>>, identifier: string | undefined): void {
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body['error'], 'invalid_grant');
  assert.equal(res.body['error_description'], 'Sso authentication is required.');
  assert.deepEqual(res.body['ErrorModel'], { Message: 'Sso authentication is required.', Object: 'error' });
  assert.equal(res.body['SsoOrganizationIdentifier'], identifier, 'the exact-case field the clients key on');
  assert.equal(res.body['access_token'], undefined);
}

describeOnBackends('Require SSO policy and SSO events', (backend) => {
  let server: BackedServer;
  let org: Org;
  let owner: Member;
  let admin: Member;
  let user: Member;
  let waiting: Member;
  let policy: Awaited<ReturnType<typeof setUp>>['policy'];
  let userApiKey = '';

  before(async () => {
    server = await startAllInOne(backend);
    ({ org, admin, user, waiting, policy } = await setUp(server, 'rsso'));
    owner = org.owner;
    userApiKey = ok(
      await call<{ apiKey: string }>(server.http, user.token, 'POST', '/api/accounts/api-key', {
        masterPasswordHash: user.account.masterPasswordHash,
      }),
      'api key',
    ).apiKey;
  });
  after(async () => {
    await server.stop();
  });

  test('a confirmed user gets the SSO answer with the identifier; owner, admin and accepted members keep password login; the API key still works', async () => {
    assertSsoRequired(await login(server, user), 'PolicyCo');
    assert.equal((await login(server, owner)).status, 200, 'owner exempt');
    assert.equal((await login(server, admin)).status, 200, 'admin exempt');
    assert.equal((await login(server, waiting)).status, 200, 'not confirmed yet: the policy does not apply');
    // A wrong password is still just a wrong password: the policy answer needs the right one.
    const wrong = await server.http.post<Record<string, unknown>>('/identity/connect/token', {
      form: {
        scope: 'api',
        client_id: 'cli',
        grant_type: 'password',
        username: user.email,
        password: owner.account.masterPasswordHash,
        deviceType: '25',
        deviceIdentifier: randomUUID(),
        deviceName: 'linux',
      },
    });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body['SsoOrganizationIdentifier'], undefined);
    const apiKey = await server.http.post<Record<string, unknown>>('/identity/connect/token', {
      form: {
        grant_type: 'client_credentials',
        scope: 'api',
        client_id: `user.${user.userId}`,
        client_secret: userApiKey,
        deviceType: '25',
        deviceIdentifier: randomUUID(),
        deviceName: 'linux',
      },
    });
    assert.equal(apiKey.status, 200, `client_credentials is exempt, as Bitwarden: ${apiKey.text}`);
  });

  test('enforceForAllUsers takes admins in; owners keep password login (break-glass default)', async () => {
    ok(await policy(4, true, { enforceForAllUsers: true }), 'enforce for all');
    assertSsoRequired(await login(server, admin), 'PolicyCo');
    assert.equal((await login(server, owner)).status, 200, 'SSO_OWNERS_PASSWORD_LOGIN defaults to true');
    ok(await policy(4, true), 'back to the default');
    assert.equal((await login(server, admin)).status, 200);
  });

  test('SSO turned off: the policy no longer locks anyone out; 1604/1605 and 1606/1607 only for what changed', async () => {
    ok(await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/sso`, SSO_BODY(false)), 'off');
    await passwordLogin(server.http, user.account);
    ok(await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/sso`, SSO_BODY(false)), 'again');
    ok(await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/sso`, SSO_BODY(true, 1)), 'KC');
    ok(await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/sso`, SSO_BODY(true, 0)), 'MP');
    const sso = (await eventTypes(server, org.id)).filter((t) => t >= 1604 && t <= 1607);
    // on (setup), off, (unchanged save: nothing), on + Key Connector on, Key Connector off.
    assert.deepEqual(sso, [1604, 1604, 1605, 1606, 1607]);
    assertSsoRequired(await login(server, user), 'PolicyCo');
  });

  test('a member unlinks their own SSO identity (1505); unlinked or foreign is 404', async () => {
    await server.db.rows(
      'INSERT INTO sso_user (id, user_id, organization_id, external_id, creation_date) VALUES ($1, $2, $3, $4, now())',
      [randomUUID(), admin.userId, org.id, 'ext-admin'],
    );
    const unlink = (token: string) => call(server.http, token, 'DELETE', `/api/accounts/sso/${org.id}`);
    assert.equal((await unlink(admin.token)).status, 200);
    assert.equal((await server.db.rows('SELECT 1 FROM sso_user WHERE user_id = $1', [admin.userId])).length, 0);
    assert.equal((await unlink(admin.token)).status, 404, 'nothing left to unlink');
    const stranger = await newPerson(server.http, 'rsso-stranger@example.com');
    assert.equal((await unlink(stranger.token)).status, 404);
    assert.equal((await call(server.http, admin.token, 'DELETE', '/api/accounts/sso/not-a-guid')).status, 404);
    const unlinked = await server.db.rows<{ n: number }>(
      `SELECT 1 AS n FROM event_outbox WHERE (payload->>'type')::int = 1505 AND payload->>'organizationUserId' = $1
       UNION ALL SELECT 1 FROM event WHERE type = 1505 AND organization_user_id::text = $1`,
      [admin.memberId],
    );
    assert.equal(unlinked.length, 1, 'OrganizationUser_UnlinkedSso for the admin');
  });
});

describeOnBackends('Require SSO with SSO_OWNERS_PASSWORD_LOGIN=false', (backend) => {
  let server: BackedServer;

  before(async () => {
    server = await startAllInOne(backend, { SSO_OWNERS_PASSWORD_LOGIN: 'false' });
  });
  after(async () => {
    await server.stop();
  });

  test('owners lose password login only when the policy also enforces for all users', async () => {
    const { org, policy } = await setUp(server, 'glass');
    assert.equal((await login(server, org.owner)).status, 200, 'the policy alone exempts owners');
    ok(await policy(4, true, { enforceForAllUsers: true }), 'enforce for all');
    assertSsoRequired(await login(server, org.owner), 'PolicyCo');
  });
});
