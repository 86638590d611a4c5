import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAccount, encryptType4 } from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import {
  Browser,
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  SSO_TEST_ENV,
  authorizeUrl,
  clientState,
  exchangeCode,
  jwtPayload,
  oneServer,
  pkce,
  prevalidate,
  startIdp,
  type Idp,
} from './sso-fixtures';
import { call, createOrg, newPerson, ok, type Org, type Person } from './org-fixtures';

/**
 * SSO against a real OIDC IdP (oidc-provider on loopback) for what follows the directory: the
 * `groups` claim sets the member's groups and (with `adminClaimValues`) their role at every login,
 * added and removed; a new member auto-enrols in account recovery before confirmation; and the IdP
 * calls go through the outbound address policy (a private address is refused, loopback only because
 * the suite opens it).
 */

async function eventCount(server: BackedServer, type: number, memberId: string): Promise<number> {
  const rows = await server.db.rows<{ n: number }>(
    `SELECT 1 AS n FROM event_outbox WHERE (payload->>'type')::int = $1 AND payload->>'organizationUserId' = $2
     UNION ALL SELECT 1 FROM event WHERE type = $1 AND organization_user_id::text = $2`,
    [type, memberId],
  );
  return rows.length;
}

describeOnBackends('SSO following the directory', (backend) => {
  let server: BackedServer;
  let idp: Idp;
  let owner: Person;
  let org: Org;
  const groupIds: Record<string, string> = {};

  before(async () => {
    server = await startAllInOne(backend, SSO_TEST_ENV);
    idp = await startIdp(`${server.url}/sso/oidc-signin`);
    owner = await newPerson(server.http, 'dir-owner@example.com');
    org = await createOrg(server.http, owner, 'Directory Co');
    ok(
      await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/sso`, {
        enabled: true,
        identifier: 'dirco',
        data: {
          configType: 1,
          memberDecryptionType: 0,
          authority: idp.issuer,
          clientId: IDP_CLIENT_ID,
          clientSecret: IDP_CLIENT_SECRET,
          additionalScopes: 'groups',
          groupsClaimType: 'groups',
          adminClaimValues: 'kh-admins',
        },
      }),
      'sso config',
    );
    for (const [name, externalId] of [
      ['Engineering', null],
      ['Operations', 'ops-ext'],
    ] as const) {
      groupIds[name] = ok(
        await call<{ id: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/groups`, {
          name,
          externalId,
          collections: [],
          users: [],
        }),
        name,
      ).id;
    }
  });
  after(async () => {
    await idp.close();
    await server.stop();
  });

  const memberOf = async (email: string) => {
    const rows = await server.db.rows<{ id: string; type: number; status: number; reset_password_key: string | null }>(
      `SELECT m.id, m.type, m.status, m.reset_password_key FROM organization_user m
       LEFT JOIN app_user u ON u.id = m.user_id WHERE m.organization_id = $1 AND coalesce(u.email, m.email) = $2`,
      [org.id, email],
    );
    const member = rows[0];
    assert.ok(member, `no membership for ${email}`);
    const groups = await server.db.rows<{ group_id: string }>(
      'SELECT group_id FROM group_user WHERE organization_user_id = $1',
      [member.id],
    );
    return { ...member, groups: groups.map((g) => g.group_id).sort() };
  };

  /** The IdP's account for `sub` (password `${sub}-pw`) with these groups. */
  const person = (sub: string, email: string, groups: string[]): void => {
    idp.accounts.set(sub, { password: `${sub}-pw`, email, name: sub, groups });
  };

  /** The client's SSO login as `sub` through the IdP; the browser's end and the token request for its code. */
  const ssoLogin = async (sub: string, identifier: string) => {
    const { verifier, challenge } = pkce();
    const ssoToken = await prevalidate(server.http, identifier);
    const url = authorizeUrl(server.url, { state: clientState(identifier), challenge, identifier, ssoToken });
    const end = await new Browser(oneServer(server), { login: sub, password: `${sub}-pw` }).go(url);
    const code = end.url ? (new URL(end.url).searchParams.get('code') ?? '') : '';
    return { end, code, exchange: () => exchangeCode(server.http, code, verifier) };
  };

  const signIn = async (sub: string) => {
    const flow = await ssoLogin(sub, 'dirco');
    assert.ok(flow.code, `ended at ${flow.end.status} ${flow.end.text.slice(0, 200)}`);
    const res = await flow.exchange();
    assert.equal(res.status, 200, res.text);
    return res.body;
  };

  test('the groups claim maps groups (by name or external id) and the Admin role at every login, added and removed', async () => {
    const email = 'dir-person@example.com';
    person('ext-dir', email, ['ENGINEERING', 'ops-ext', 'kh-admins', 'unknown']);
    await signIn('ext-dir');
    let member = await memberOf(email);
    assert.equal(member.type, 1, 'kh-admins makes an Admin');
    assert.deepEqual(member.groups, [groupIds['Engineering'], groupIds['Operations']].sort());

    person('ext-dir', email, ['Engineering']);
    await signIn('ext-dir');
    member = await memberOf(email);
    assert.equal(member.type, 2, 'without kh-admins the Admin is a User again');
    assert.deepEqual(member.groups, [groupIds['Engineering']]);

    person('ext-dir', email, []);
    await signIn('ext-dir');
    await signIn('ext-dir');
    member = await memberOf(email);
    assert.deepEqual(member.groups, [], 'no claim value: no group');
    assert.equal(await eventCount(server, 1504, member.id), 3, 'UpdatedGroups only when the set changed');
    assert.equal(await eventCount(server, 1502, member.id), 2, 'Updated for each role change');
  });

  test('the owner is never demoted by the directory', async () => {
    person('ext-owner', owner.email, ['kh-admins']);
    await signIn('ext-owner');
    const member = await memberOf(owner.email);
    assert.equal(member.type, 0);
  });

  test('a new member auto-enrols in account recovery before confirmation (auto-enroll-status, keys, enrolment)', async () => {
    ok(
      await call(server.http, owner.token, 'PUT', `/api/organizations/${org.id}/policies/8`, {
        enabled: true,
        data: { autoEnrollEnabled: true },
      }),
      'account recovery policy',
    );
    const email = 'dir-recover@example.com';
    person('ext-recover', email, []);
    const token = String((await signIn('ext-recover'))['access_token']);
    const userId = String(jwtPayload(token)['sub']);
    const status = ok(
      await call<Record<string, unknown>>(server.http, token, 'GET', '/api/organizations/dirco/auto-enroll-status'),
      'auto-enroll-status',
    );
    assert.deepEqual(status, { id: org.id, resetPasswordEnabled: true, object: 'organizationAutoEnrollStatus' });
    const account = await createAccount({ email, password: 'recover me password 1' });
    const body = { ...account.registerFinishBody('unused', 'legacy'), orgIdentifier: 'dirco' } as Record<
      string,
      unknown
    >;
    delete body['email'];
    ok(await call(server.http, token, 'POST', '/api/accounts/set-password', body), 'set-password');
    assert.equal((await memberOf(email)).status, 1, 'accepted, not confirmed');
    const keys = ok(
      await call<{ publicKey: string }>(server.http, token, 'GET', `/api/organizations/${org.id}/keys`),
      'org keys before confirmation',
    );
    const resetPasswordKey = encryptType4(keys.publicKey, account.userKey.toBytes());
    ok(
      await call(server.http, token, 'PUT', `/api/organizations/${org.id}/users/${userId}/reset-password-enrollment`, {
        resetPasswordKey,
        masterPasswordHash: account.masterPasswordHash,
      }),
      'enrolment',
    );
    const member = await memberOf(email);
    assert.equal(member.reset_password_key, resetPasswordKey);
    assert.equal(await eventCount(server, 1506, member.id), 1, 'ResetPassword_Enroll');
    const stranger = await newPerson(server.http, 'dir-stranger@example.com');
    assert.equal((await call(server.http, stranger.token, 'GET', `/api/organizations/${org.id}/keys`)).status, 404);
  });

  test('IdP calls go through the outbound address policy: a private address is refused with a clear page and log line', async () => {
    const other = await createOrg(server.http, owner, 'Private IdP Co');
    ok(
      await call(server.http, owner.token, 'POST', `/api/organizations/${other.id}/sso`, {
        enabled: true,
        identifier: 'privco',
        data: { configType: 1, authority: 'http://10.20.30.40/realm', clientId: 'keyhaven', clientSecret: 'x' },
      }),
      'sso config',
    );
    const flow = await ssoLogin('ext-dir', 'privco');
    assert.equal(flow.code, '', 'no code');
    assert.equal(flow.end.status, 502, flow.end.text.slice(0, 300));
    assert.match(flow.end.text, /cannot be reached/);
    assert.match(server.output(), /outbound connection to 10\.20\.30\.40 refused: private address/);
    const failed = await server.db.rows<{ n: number }>(
      `SELECT 1 AS n FROM event_outbox WHERE (payload->>'type')::int = 1005 AND payload->>'organizationId' = $1
       UNION ALL SELECT 1 FROM event WHERE type = 1005 AND organization_id::text = $1`,
      [other.id],
    );
    assert.equal(failed.length, 1, 'the failed SSO login is in the organization event log');
  });

  test('a revoked member is refused, and the failed SSO login (1005) names them', async () => {
    const member = await memberOf('dir-person@example.com');
    ok(await call(server.http, owner.token, 'PUT', `/api/organizations/${org.id}/users/${member.id}/revoke`), 'revoke');
    const flow = await ssoLogin('ext-dir', 'dirco');
    assert.equal(flow.end.status, 400, flow.end.text.slice(0, 300));
    assert.equal(flow.code, '');
    assert.match(flow.end.text, /revoked/);
    assert.equal(await eventCount(server, 1005, member.id), 1, 'FailedLogIn with the member');
  });

  test('a new IdP subject for a linked account replaces the link (1509 ResetSsoLink); the first link was 1510', async () => {
    const member = await memberOf(owner.email);
    assert.equal(await eventCount(server, 1510, member.id), 1, 'FirstSsoLogin when the owner first signed in');
    person('ext-owner-moved', owner.email, []);
    await signIn('ext-owner-moved');
    assert.equal(await eventCount(server, 1509, member.id), 1, 'ResetSsoLink');
    const links = await server.db.rows<{ external_id: string }>(
      'SELECT external_id FROM sso_user WHERE organization_id = $1 AND user_id = (SELECT user_id FROM organization_user WHERE id = $2)',
      [org.id, member.id],
    );
    assert.deepEqual(
      links.map((l) => l.external_id),
      ['ext-owner-moved'],
    );
  });
});
