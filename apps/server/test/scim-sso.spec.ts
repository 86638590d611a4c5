import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
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
import { ScimClient, USER_SCHEMA, enableScim, type ScimUser } from './scim-fixtures';

/**
 * A member the directory provisioned through SCIM who then signs in through the organization's SSO
 * (a real OIDC IdP on loopback) is that membership, not a second one: matched by the IdP subject
 * being the SCIM externalId, or else by email — and SCIM keeps showing the same user, now with the
 * account's address.
 */
describeOnBackends('SCIM-provisioned members signing in through SSO', (backend) => {
  let server: BackedServer;
  let idp: Idp;
  let owner: Person;
  let org: Org;
  let scim: ScimClient;

  before(async () => {
    server = await startAllInOne(backend, SSO_TEST_ENV);
    idp = await startIdp(`${server.url}/sso/oidc-signin`);
    owner = await newPerson(server.http, 'scim-sso-owner@example.com');
    org = await createOrg(server.http, owner, 'SCIM and SSO Co');
    ok(
      await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/sso`, {
        enabled: true,
        identifier: 'scimsso',
        data: {
          configType: 1,
          memberDecryptionType: 0,
          authority: idp.issuer,
          clientId: IDP_CLIENT_ID,
          clientSecret: IDP_CLIENT_SECRET,
        },
      }),
      'sso config',
    );
    scim = new ScimClient(
      server.http,
      org.id,
      await enableScim(server.http, org, owner.token, owner.account.masterPasswordHash),
    );
  });
  after(async () => {
    await idp.close();
    await server.stop();
  });

  /** The SSO login as `sub` through the IdP, to the token; answers the new account's id. */
  const signIn = async (sub: string, email: string): Promise<string> => {
    idp.accounts.set(sub, { password: `${sub}-pw`, email, name: sub, groups: [] });
    const { verifier, challenge } = pkce();
    const ssoToken = await prevalidate(server.http, 'scimsso');
    const url = authorizeUrl(server.url, { state: clientState('scimsso'), challenge, identifier: 'scimsso', ssoToken });
    const end = await new Browser(oneServer(server), { login: sub, password: `${sub}-pw` }).go(url);
    const code = end.url ? (new URL(end.url).searchParams.get('code') ?? '') : '';
    assert.ok(code, `ended at ${end.status} ${end.text.slice(0, 200)}`);
    const res = await exchangeCode(server.http, code, verifier);
    assert.equal(res.status, 200, res.text);
    return String(jwtPayload(String(res.body['access_token']))['sub']);
  };

  const memberships = (memberId: string, email: string) =>
    server.db.rows<{ id: string; user_id: string | null }>(
      `SELECT m.id, m.user_id FROM organization_user m LEFT JOIN app_user u ON u.id = m.user_id
       WHERE m.organization_id = $1 AND (m.id = $2 OR lower(coalesce(u.email, m.email)) = lower($3))`,
      [org.id, memberId, email],
    );

  const provision = async (email: string, externalId: string): Promise<string> => {
    const res = await scim.request<ScimUser>('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: email,
      externalId,
      emails: [{ value: email, primary: true }],
    });
    assert.equal(res.status, 201, res.text);
    return res.body.id;
  };

  test('matched by the IdP subject as externalId, even under another address', async () => {
    const memberId = await provision('directory-name@scim-sso.example', `sub-ext-${backend}`);
    const userId = await signIn(`sub-ext-${backend}`, 'idp-name@scim-sso.example');
    const rows = await memberships(memberId, 'idp-name@scim-sso.example');
    assert.deepEqual(rows, [{ id: memberId, user_id: userId }], 'one membership, the SCIM one, with the account');
    const seen = await scim.get<ScimUser>(`/Users/${memberId}`);
    assert.deepEqual([seen.body.userName, seen.body.externalId], ['idp-name@scim-sso.example', `sub-ext-${backend}`]);
  });

  test('matched by email when the directory id is not the IdP subject', async () => {
    const memberId = await provision('by-mail@scim-sso.example', `dir-id-${backend}`);
    const userId = await signIn(`other-sub-${backend}`, 'BY-MAIL@scim-sso.example');
    assert.deepEqual(await memberships(memberId, 'by-mail@scim-sso.example'), [{ id: memberId, user_id: userId }]);
  });
});
