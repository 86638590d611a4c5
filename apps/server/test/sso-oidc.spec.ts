import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createAccount,
  decryptCipher,
  decryptType2,
  totpCode,
  unlockUserKey,
  unwrapOrgKey,
  type EncryptedCipher,
} from '@keyhaven/vault-crypto';
import { enableTotp, freePort, passwordLogin } from '@keyhaven/testing';
import {
  call,
  confirm,
  createCollection,
  createOrg,
  createOrgItem,
  join,
  newPerson,
  ok,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import {
  Browser,
  SSO_TEST_ENV,
  CLI_REDIRECT,
  IDP_CLIENT_SECRET,
  authorizeUrl,
  clientState,
  configureOidc,
  exchangeCode,
  jwtPayload,
  oneServer,
  pkce,
  prevalidate,
  startIdp,
  type Idp,
} from './sso-fixtures';

/**
 * SSO with OIDC end to end: an oidc-provider IdP on loopback (confidential client, PKCE, form_post,
 * a login form for its own accounts) → identity/connect/authorize → IdP → /sso/oidc-signin → code →
 * connect/token, as the clients do. One all-in-one server per backend.
 */
describeOnBackends('SSO with OIDC (oidc-provider IdP on loopback)', (backend) => {
  let server: BackedServer;
  let idp: Idp;
  let owner: Person;
  let org: Org;

  before(async () => {
    server = await startAllInOne(backend, SSO_TEST_ENV);
    idp = await startIdp(`${server.url}/sso/oidc-signin`);
    owner = await newPerson(server.http, `sso-owner-${backend}@example.com`);
    org = await createOrg(server.http, owner, 'Acme');
  });
  after(async () => {
    // Set-up may have stopped half-way: stop whatever started.
    await (idp as Idp | undefined)?.close();
    await (server as BackedServer | undefined)?.stop();
  });

  /** An IdP account for `sub` with the person's email (its IdP password is `${sub}-password`). */
  const idpAccount = (sub: string, email: string, groups: string[] = []): void => {
    idp.accounts.set(sub, { password: `${sub}-password`, email, name: sub, groups });
  };

  /** The CLI's side: state, PKCE, authorize through the IdP signed in as `sub`, then the token request. */
  async function ssoLogin(
    sub: string,
    overrides: { clientId?: string; redirectUri?: string; identifier?: string; state?: string } = {},
  ) {
    const identifier = overrides.identifier ?? 'acme';
    const { verifier, challenge } = pkce();
    const state = overrides.state ?? clientState(identifier);
    const ssoToken = await prevalidate(server.http, identifier);
    const url = authorizeUrl(server.url, { ...overrides, state, challenge, identifier, ssoToken });
    const end = await new Browser(
      oneServer(server),
      { login: sub, password: idp.accounts.get(sub)?.password ?? '' },
      overrides.redirectUri ?? CLI_REDIRECT,
    ).go(url);
    // Native redirect URIs (bitwarden://, bwdc://) get a page that sends the browser on (§1.5).
    const handOff = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(end.text)?.[1]?.replace(/&amp;/g, '&');
    const landed = end.url ?? (end.status === 200 ? handOff : undefined);
    const back = landed ? new URL(landed) : null;
    const code = back?.searchParams.get('code') ?? '';
    return {
      end,
      back,
      state,
      code,
      verifier,
      exchange: (extra: Record<string, string> = {}) => exchangeCode(server.http, code, verifier, extra),
      rawSearch: landed?.split('?')[1] ?? '',
    };
  }

  /**
   * The server's log must hold `pattern`; waited for (bounded, 5 s), because on PostgreSQL the server
   * is a child process whose log lines may arrive after its HTTP reply.
   */
  async function assertLogged(pattern: RegExp): Promise<void> {
    for (let i = 0; i < 50 && !pattern.test(server.output()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(server.output(), pattern);
  }

  /** Rows a refused login must not have created. */
  const provisioned = async () =>
    (
      await server.db.rows<{ users: string; links: string; members: string }>(
        `SELECT (SELECT count(*) FROM app_user)::text AS users, (SELECT count(*) FROM sso_user)::text AS links,
                (SELECT count(*) FROM organization_user)::text AS members`,
      )
    )[0];
  const codes = async (): Promise<number> =>
    Number(
      (await server.db.rows<{ n: string }>("SELECT count(*)::text AS n FROM sso_pending WHERE kind = 'code'"))[0]?.n,
    );

  test('the owner configures OIDC; urls are exact and the client secret is encrypted at rest', async () => {
    const saved = await configureOidc(server.http, owner.token, org.id, { identifier: 'Acme', authority: idp.issuer });
    assert.deepEqual(saved['urls'], {
      callbackPath: `${server.url}/sso/oidc-signin`,
      signedOutCallbackPath: `${server.url}/sso/oidc-signedout`,
      spEntityId: `${server.url}/sso/saml2/${org.id}`,
      spEntityIdStatic: `${server.url}/sso/saml2`,
      spMetadataUrl: `${server.url}/sso/saml2/${org.id}`,
      spAcsUrl: `${server.url}/sso/saml2/${org.id}/Acs`,
    });
    assert.equal((saved['data'] as Record<string, unknown>)['clientSecret'], IDP_CLIENT_SECRET);
    const rows = await server.db.rows<{ data: string; secrets: string }>(
      'SELECT data::text AS data, secrets FROM sso_config',
    );
    assert.ok(!rows[0]!.data.includes(IDP_CLIENT_SECRET) && !rows[0]!.secrets.includes(IDP_CLIENT_SECRET));
    const other = await newPerson(server.http, `sso-stranger-${backend}@example.com`);
    assert.equal((await call(server.http, other.token, 'GET', `/api/organizations/${org.id}/sso`)).status, 404);
  });

  test('an existing member links on first SSO login, state comes back byte for byte, the code is single-use', async () => {
    const member = await newPerson(server.http, `sso-member-${backend}@example.com`);
    await join(server.http, org, owner.token, member, { type: 2 });
    idpAccount('ext-member', member.email);
    const flow = await ssoLogin('ext-member');
    assert.ok(flow.back, `ended at ${flow.end.status} ${flow.end.text.slice(0, 200)}`);
    assert.ok(flow.rawSearch.endsWith(`&state=${flow.state}`), flow.rawSearch);
    const res = await flow.exchange();
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['Key'], member.account.key, 'the master-password-wrapped user key unlocks');
    const options = res.body['UserDecryptionOptions'] as Record<string, unknown>;
    assert.equal(options['HasMasterPassword'], true);
    assert.equal(res.body['Kdf'], member.account.kdf);
    assert.deepEqual(jwtPayload(String(res.body['access_token']))['amr'], ['external']);
    assert.equal((await flow.exchange()).status, 400, 'replayed code');
    const events = await server.db.rows<{ type: number }>(
      "SELECT (payload->>'type')::int AS type FROM event_outbox UNION ALL SELECT type FROM event",
    );
    assert.ok(
      events.some((e) => e.type === 1510),
      'FirstSsoLogin event',
    );
  });

  test('every client of the redirect table gets its code (302, or the HTML hand-off for native URIs) and exchanges it; two exchanges at once, one wins', async () => {
    const clients: [string, string][] = [
      ['web', `${server.url}/sso-connector.html`],
      ['browser', `${server.url}/sso-connector.html`],
      ['desktop', 'http://localhost:8070'],
      ['desktop', 'bitwarden://sso-callback'],
      ['mobile', 'bitwarden://sso-callback'],
      ['connector', 'bwdc://sso-callback'],
    ];
    for (const [clientId, redirectUri] of clients) {
      const flow = await ssoLogin('ext-member', { clientId, redirectUri });
      assert.ok(flow.back, `${clientId} ${redirectUri}: ${flow.end.status} ${flow.end.text.slice(0, 200)}`);
      assert.equal(flow.end.url === undefined, !/^https?:/.test(redirectUri), `${redirectUri}: 302 or hand-off page`);
      assert.equal(`${flow.back.protocol}//${flow.back.host}${flow.back.pathname}`.replace(/\/$/, ''), redirectUri);
      assert.ok(flow.rawSearch.endsWith(`&state=${flow.state}`), flow.rawSearch);
      const res = await flow.exchange({ client_id: clientId, redirect_uri: redirectUri });
      assert.equal(res.status, 200, `${clientId} ${redirectUri}: ${res.text}`);
    }
    const raced = await ssoLogin('ext-member');
    const both = await Promise.all([raced.exchange(), raced.exchange()]);
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 400]);
  });

  test('a refresh of an SSO session keeps amr external (Key Connector migration reads it from the current token)', async () => {
    const login = await (await ssoLogin('ext-member')).exchange();
    assert.equal(login.status, 200, login.text);
    const refreshed = await server.http.request<Record<string, unknown>>('POST', '/identity/connect/token', {
      form: { grant_type: 'refresh_token', client_id: 'cli', refresh_token: String(login.body['refresh_token']) },
    });
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.deepEqual(jwtPayload(String(refreshed.body['access_token']))['amr'], ['external']);
    // A password session stays what it was.
    const password = await server.http.request<Record<string, unknown>>('POST', '/identity/connect/token', {
      form: {
        grant_type: 'refresh_token',
        client_id: 'cli',
        refresh_token: (await passwordLogin(server.http, owner.account)).refreshToken,
      },
    });
    assert.equal(password.status, 200, password.text);
    assert.deepEqual(jwtPayload(String(password.body['access_token']))['amr'], ['Application']);
  });

  test('the IdP answers an error, or the person took longer than the flow lives: a clear page, no code', async () => {
    const begin = async (): Promise<{ flowId: string; idpUrl: string }> => {
      const { challenge } = pkce();
      const ssoToken = await prevalidate(server.http, 'acme');
      const res = await server.http.request(
        'GET',
        authorizeUrl('', { state: clientState('acme'), challenge, identifier: 'acme', ssoToken }),
      );
      const idpUrl = String(res.headers['location']);
      assert.equal(res.status, 302);
      assert.ok(idpUrl.startsWith(idp.issuer), idpUrl);
      return { flowId: new URL(idpUrl).searchParams.get('state') ?? '', idpUrl };
    };
    const codesBefore = await codes();
    const denied = await begin();
    const refusal = await server.http.request(
      'GET',
      `/sso/oidc-signin?state=${denied.flowId}&error=access_denied&error_description=cancelled`,
    );
    assert.equal(refusal.status, 400, refusal.text);
    assert.match(refusal.text, /identity provider refused/);
    await assertLogged(/failed \(rejected\): IdP answered error=access_denied/);
    const again = await server.http.request('GET', `/sso/oidc-signin?state=${denied.flowId}&code=x`);
    assert.equal(again.status, 400, 'the flow was used up by the refusal');

    const slow = await begin();
    await server.db.rows("UPDATE sso_pending SET expires_at = now() - interval '1 second' WHERE id = $1", [
      slow.flowId,
    ]);
    const end = await new Browser(oneServer(server), { login: 'ext-member', password: 'ext-member-password' }).go(
      slow.idpUrl,
    );
    assert.equal(end.status, 400, end.text);
    assert.equal(end.url, undefined);
    assert.match(end.text, /expired/);
    assert.equal(await codes(), codesBefore);
  });

  test('a linked member revoked later: a code minted before buys no token, the next sign-in is refused', async () => {
    const person = await newPerson(server.http, `sso-later-revoked-${backend}@example.com`);
    const joined = await join(server.http, org, owner.token, person, { type: 2 });
    idpAccount('ext-later', person.email);
    assert.equal((await (await ssoLogin('ext-later')).exchange()).status, 200, 'linked');
    const pending = await ssoLogin('ext-later');
    assert.ok(pending.back);
    ok(
      await call(server.http, owner.token, 'PUT', `/api/organizations/${org.id}/users/${joined.memberId}/revoke`),
      'revoke',
    );
    assert.equal((await pending.exchange()).status, 400);
    const refused = await ssoLogin('ext-later');
    assert.equal(refused.back, null);
    assert.equal(refused.end.status, 400);
    assert.match(refused.end.text, /revoked/);
  });

  test('the IdP login form refuses a wrong password: no code, nothing provisioned', async () => {
    idp.accounts.set('ext-typo', {
      password: 'right',
      email: `sso-typo-${backend}@example.com`,
      name: 'T',
      groups: [],
    });
    const before = await provisioned();
    const { challenge } = pkce();
    const ssoToken = await prevalidate(server.http, 'acme');
    const end = await new Browser(oneServer(server), { login: 'ext-typo', password: 'wrong' }).go(
      authorizeUrl(server.url, { state: clientState('acme'), challenge, identifier: 'acme', ssoToken }),
    );
    assert.equal(end.status, 401);
    assert.equal(end.url, undefined);
    assert.deepEqual(await provisioned(), before);
  });

  test('JIT to the end: provisioned without keys, sets a master password, is confirmed by the owner, decrypts an org item', async () => {
    const email = `sso-new-${backend}@example.com`;
    const password = 'new person password 1';
    idpAccount('ext-new', email, ['Engineering']);
    const group = ok(
      await call<{ id: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/groups`, {
        name: 'Engineering',
        collections: [],
        users: [],
      }),
      'group',
    );
    const collection = await createCollection(
      server.http,
      org,
      owner.token,
      'Engineering vault',
      [],
      [{ id: group.id }],
    );
    const itemId = await createOrgItem(server.http, org, owner.token, 'deploy-key', [collection]);

    const first = await (await ssoLogin('ext-new')).exchange();
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body['Key'], undefined);
    assert.equal(first.body['PrivateKey'], undefined);
    assert.equal(typeof first.body['Kdf'], 'number');
    assert.equal((first.body['UserDecryptionOptions'] as Record<string, unknown>)['HasMasterPassword'], false);
    const token = String(first.body['access_token']);
    const status = ok(
      await call<Record<string, unknown>>(server.http, token, 'GET', '/api/organizations/acme/auto-enroll-status'),
      'auto-enroll-status',
    );
    assert.equal(status['id'], org.id);

    const account = await createAccount({ email, password });
    const body = { ...account.registerFinishBody('unused', 'legacy'), orgIdentifier: 'acme' } as Record<
      string,
      unknown
    >;
    delete body['email'];
    ok(await call(server.http, token, 'POST', '/api/accounts/set-password', body), 'set-password');
    const members = ok(
      await call<{ data: { id: string; email: string; status: number; userId: string }[] }>(
        server.http,
        owner.token,
        'GET',
        `/api/organizations/${org.id}/users`,
      ),
      'members',
    ).data;
    const jit = members.find((m) => m.email === email);
    assert.ok(jit);
    assert.equal(jit.status, 1, 'accepted by set-password, waiting for confirmation');
    const groups = await server.db.rows<{ group_id: string }>(
      'SELECT group_id FROM group_user WHERE organization_user_id = $1',
      [jit.id],
    );
    assert.deepEqual(
      groups.map((g) => g.group_id),
      [group.id],
      'the groups claim put the member in the group',
    );

    // The owner's client wraps the org key for the new member's public key (set by set-password).
    ok(await confirm(server.http, org, owner.token, jit.id, jit.userId), 'confirm');

    // The member signs in through SSO again and does what a client does: unlock with the master
    // password, open the private key, open the org key from sync, decrypt the shared item.
    const again = await (await ssoLogin('ext-new')).exchange();
    assert.equal(again.status, 200, again.text);
    assert.equal((again.body['UserDecryptionOptions'] as Record<string, unknown>)['HasMasterPassword'], true);
    const userKey = await unlockUserKey(password, email, account.kdfConfig, String(again.body['Key']));
    const privateKey = decryptType2(userKey, String(again.body['PrivateKey']));
    const sync = ok(
      await call<{
        profile: { organizations: { id: string; key: string; status: number }[] };
        ciphers: (EncryptedCipher & { id: string })[];
      }>(server.http, String(again.body['access_token']), 'GET', '/api/sync'),
      'sync',
    );
    const membership = sync.profile.organizations.find((o) => o.id === org.id);
    assert.ok(membership);
    assert.equal(membership.status, 2, 'confirmed');
    const orgKey = unwrapOrgKey(privateKey, membership.key);
    const item = sync.ciphers.find((c) => c.id === itemId);
    assert.ok(item, 'the group’s collection item is in the member’s sync');
    const plain = decryptCipher(orgKey, item);
    assert.equal(plain.name, 'deploy-key');
    assert.equal(plain.type === 1 ? plain.login.password : null, 'deploy-key-password');
  });

  test('a two-step-login (TOTP) member: the code survives the challenge and a wrong TOTP, and is spent only on success', async () => {
    const member = await newPerson(server.http, `sso-totp-${backend}@example.com`);
    await join(server.http, org, owner.token, member, { type: 2 });
    const totpKey = await enableTotp(server.http, member.account, member.token);
    idpAccount('ext-totp', member.email);
    const flow = await ssoLogin('ext-totp');
    assert.ok(flow.back, flow.end.text);
    const challenge = await flow.exchange();
    assert.equal(challenge.status, 400, challenge.text);
    assert.deepEqual(challenge.body['TwoFactorProviders2'], { '0': null });
    assert.equal(await codes(), 1, 'the code is kept after the challenge');
    const wrong = await flow.exchange({ twoFactorProvider: '0', twoFactorToken: '000000', twoFactorRemember: '0' });
    assert.equal(wrong.status, 400, wrong.text);
    assert.equal(await codes(), 1, 'and after a wrong TOTP');
    // The next time step: the enable call above already used this one's code (TOTP replay protection).
    const done = await flow.exchange({
      twoFactorProvider: '0',
      twoFactorToken: totpCode(totpKey, Date.now() + 30_000),
      twoFactorRemember: '0',
    });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body['Key'], member.account.key);
    assert.equal(await codes(), 0, 'spent on success');
    assert.equal((await flow.exchange()).status, 400, 'and not usable again');
  });

  test('negatives at authorize: unknown client or redirect URI (page, never a redirect), missing or over-long state, stale or expired prevalidate token', async () => {
    const before = await provisioned();
    const strange = await ssoLogin('ext-member', { clientId: 'evil' });
    assert.equal(strange.end.status, 400);
    assert.equal(strange.back, null, 'never a redirect');
    assert.match(strange.end.text, /Unknown client or redirect URI/);
    const wrongUri = await ssoLogin('ext-member', { redirectUri: 'http://localhost:9999' });
    assert.equal(wrongUri.end.status, 400);
    assert.equal(wrongUri.back, null);
    const url = (t: string, state = 'abc_identifier=acme') =>
      `/identity/connect/authorize?client_id=cli&redirect_uri=${encodeURIComponent(CLI_REDIRECT)}&response_type=code&scope=api%20offline_access&state=${state}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&domain_hint=acme&ssoToken=${t}`;
    for (const state of ['', 'x'.repeat(2001)]) {
      const res = await server.http.request('GET', url(await prevalidate(server.http, 'acme'), state));
      assert.equal(res.status, 400, `state of ${state.length} characters`);
      assert.equal(res.headers['location'], undefined);
    }
    const used = await prevalidate(server.http, 'acme');
    assert.equal((await server.http.request('GET', url(used))).status, 302);
    assert.equal((await server.http.request('GET', url(used))).status, 401, 'a prevalidate token is used once');
    const stale = await prevalidate(server.http, 'acme');
    await server.db.rows("UPDATE sso_pending SET expires_at = now() - interval '1 second' WHERE id = $1", [stale]);
    const expired = await server.http.request('GET', url(stale));
    assert.equal(expired.status, 401, 'an expired prevalidate token');
    assert.match(expired.text, /expired/);
    assert.equal((await server.http.request('GET', '/identity/sso/prevalidate?domainHint=nope')).status, 400);
    assert.deepEqual(await provisioned(), before);
  });

  test('negatives after the IdP: bad state at the callback, wrong code_verifier, wrong client or redirect URI, expired code, revoked member', async () => {
    // A callback whose state names no pending flow (forged, or already used) mints nothing.
    const before = await provisioned();
    const codesBefore = await codes();
    for (const method of ['GET', 'POST'] as const) {
      const forged = await server.http.request(method, '/sso/oidc-signin?state=forged&code=abc', {
        ...(method === 'POST' ? { form: { state: 'forged', code: 'abc' } } : {}),
      });
      assert.equal(forged.status, 400, forged.text);
      assert.equal(forged.headers['location'], undefined);
    }
    assert.equal(await codes(), codesBefore);

    const flow = await ssoLogin('ext-member');
    assert.equal((await flow.exchange({ code_verifier: 'x'.repeat(64) })).status, 400);
    assert.equal((await flow.exchange()).status, 400, 'a code tried with a wrong verifier is gone');
    const mismatches: Record<string, string>[] = [{ client_id: 'desktop' }, { redirect_uri: 'http://localhost:8066' }];
    for (const extra of mismatches) {
      const other = await ssoLogin('ext-member');
      assert.equal((await other.exchange(extra)).status, 400, JSON.stringify(extra));
    }

    const late = await ssoLogin('ext-member');
    await server.db.rows("UPDATE sso_pending SET expires_at = now() - interval '1 second' WHERE id = $1", [late.code]);
    const expired = await late.exchange();
    assert.equal(expired.status, 400, 'an expired code');
    assert.equal(expired.body['error'], 'invalid_grant');

    const revoked = await newPerson(server.http, `sso-revoked-${backend}@example.com`);
    await join(server.http, org, owner.token, revoked, { type: 2 }, 'revoked');
    idpAccount('ext-revoked', revoked.email);
    const counted = await provisioned();
    const refused = await ssoLogin('ext-revoked');
    assert.equal(refused.back, null);
    assert.equal(refused.end.status, 400);
    assert.deepEqual(await provisioned(), counted);
    assert.equal(await codes(), codesBefore, 'every code above was spent or refused; none for the revoked member');
    assert.notDeepEqual(before, counted);
  });

  test('a disabled configuration: no prevalidate, no authorize with an earlier token, no token for an earlier code, nobody provisioned', async () => {
    idpAccount('ext-late', `sso-late-${backend}@example.com`);
    const earlierToken = await prevalidate(server.http, 'acme');
    const pending = await ssoLogin('ext-member');
    assert.ok(pending.back);
    await configureOidc(server.http, owner.token, org.id, {
      identifier: 'Acme',
      authority: idp.issuer,
      enabled: false,
    });
    try {
      const before = await provisioned();
      assert.equal((await server.http.request('GET', '/identity/sso/prevalidate?domainHint=acme')).status, 400);
      const { challenge } = pkce();
      const end = await new Browser(oneServer(server), { login: 'ext-late', password: 'ext-late-password' }).go(
        authorizeUrl(server.url, { state: clientState('acme'), challenge, identifier: 'acme', ssoToken: earlierToken }),
      );
      assert.equal(end.status, 400);
      assert.equal(end.url, undefined);
      assert.equal((await pending.exchange()).status, 400, 'a code minted before SSO was turned off');
      assert.deepEqual(await provisioned(), before);
    } finally {
      await configureOidc(server.http, owner.token, org.id, { identifier: 'Acme', authority: idp.issuer });
    }
  });

  test('an unreachable IdP: a clear page (502) for the person, a warning line for the admin, nothing provisioned', async () => {
    const down = await createOrg(server.http, owner, 'Down Inc');
    // A port nothing listens on: the discovery request is refused.
    await configureOidc(server.http, owner.token, down.id, {
      identifier: 'down',
      authority: `http://127.0.0.1:${await freePort()}`,
    });
    idpAccount('ext-down', `sso-down-${backend}@example.com`);
    const before = await provisioned();
    const flow = await ssoLogin('ext-down', { identifier: 'down' });
    assert.equal(flow.end.status, 502, flow.end.text);
    assert.equal(flow.back, null);
    assert.match(flow.end.text, /cannot be reached/);
    assert.deepEqual(await provisioned(), before);
    await assertLogged(new RegExp(`SSO for organization ${down.id} failed \\(unreachable\\)`));
  });
});
