import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAccount } from '@keyhaven/vault-crypto';
import { call, createOrg, join, newPerson, ok, type Org, type Person } from './org-fixtures';
import { startAllInOne, type BackedServer } from './backends';

/**
 * SSO with OIDC end to end: an oidc-provider IdP on loopback (confidential client, PKCE, form_post)
 * → identity/connect/authorize → IdP → /sso/oidc-signin → code → connect/token, as the clients do.
 * One all-in-one server (PGlite) for the file.
 */

interface IdpPerson {
  email: string;
  name: string;
  groups: string[];
}

const CLIENT_SECRET = 'idp-client-secret-0123456789';
const REDIRECT = 'http://localhost:8065';

async function startIdp(callbackUrl: string, people: Map<string, IdpPerson>, current: { sub: string }) {
  // oidc-provider is ESM without type declarations; only the calls used here are typed.
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore: no declaration file
  const { default: Provider } = (await import('oidc-provider')) as unknown as {
    default: new (
      issuer: string,
      config: Record<string, unknown>,
    ) => {
      callback(): (req: unknown, res: unknown) => void;
      interactionDetails(req: unknown, res: unknown): Promise<{ uid: string; params: Record<string, unknown> }>;
      interactionFinished(req: unknown, res: unknown, result: Record<string, unknown>): Promise<void>;
      Grant: new (o: Record<string, unknown>) => {
        addOIDCScope(s: string): void;
        save(): Promise<string>;
      };
    };
  };
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'keyhaven',
        client_secret: CLIENT_SECRET,
        redirect_uris: [callbackUrl],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    pkce: { required: () => true },
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    findAccount: (_ctx: unknown, sub: string) => {
      const person = people.get(sub);
      return person ? { accountId: sub, claims: () => ({ sub, ...person }) } : undefined;
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  });
  const handler = provider.callback();
  http.on('request', (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      // Auto-approve as whoever the test says is at the keyboard.
      void (async () => {
        const details = await provider.interactionDetails(req, res);
        const grant = new provider.Grant({ accountId: current.sub, clientId: 'keyhaven' });
        grant.addOIDCScope(String(details.params['scope']));
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { login: { accountId: current.sub }, consent: { grantId } });
      })();
      return;
    }
    handler(req, res);
  });
  return {
    issuer,
    close: () =>
      new Promise<void>((r) => {
        http.close(() => {
          r();
        });
      }),
  };
}

/** A browser: follows redirects and auto-posting forms, keeps IdP cookies, stops at the client's redirect URI. */
class Browser {
  private cookies = new Map<string, string>();

  constructor(private readonly server: BackedServer) {}

  async go(start: string): Promise<{ url?: string; status: number; text: string }> {
    let url = start;
    let form: Record<string, string> | undefined;
    for (let hop = 0; hop < 20; hop++) {
      if (url.startsWith(REDIRECT)) return { url, status: 302, text: '' };
      const res = url.startsWith(this.server.url)
        ? await this.server.http.request(form ? 'POST' : 'GET', url.slice(this.server.url.length), form ? { form } : {})
        : await this.idp(url, form);
      form = undefined;
      const location = res.headers['location'];
      if (res.status >= 300 && res.status < 400 && typeof location === 'string') {
        url = new URL(location, url).href;
        continue;
      }
      const post = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(res.text);
      if (res.status === 200 && post?.[1]) {
        url = new URL(post[1].replace(/&amp;/g, '&'), url).href;
        form = Object.fromEntries(
          [...res.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
        );
        continue;
      }
      return { status: res.status, text: res.text };
    }
    throw new Error('too many hops');
  }

  private async idp(url: string, form?: Record<string, string>) {
    const host = new URL(url).host;
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        ...(this.cookies.get(host) ? { cookie: this.cookies.get(host)! } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    const jar = new Map(
      (this.cookies.get(host) ?? '')
        .split('; ')
        .filter(Boolean)
        .map((c) => c.split('=') as [string, string]),
    );
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    this.cookies.set(host, [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    return { status: res.status, headers: Object.fromEntries(res.headers), text: await res.text() };
  }
}

const b64url = (b: Buffer): string => b.toString('base64url');
const jwtPayload = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('SSO with OIDC (oidc-provider IdP on loopback)', () => {
  let server: BackedServer;
  let idp: Awaited<ReturnType<typeof startIdp>>;
  const people = new Map<string, IdpPerson>();
  const current = { sub: '' };
  let owner: Person;
  let org: Org;

  before(async () => {
    server = await startAllInOne('pglite', { SSO_ALLOW_HTTP_IDP: 'true' });
    idp = await startIdp(`${server.url}/sso/oidc-signin`, people, current);
    owner = await newPerson(server.http, 'sso-owner@example.com');
    org = await createOrg(server.http, owner, 'Acme');
  });
  after(async () => {
    await idp.close();
    await server.stop();
  });

  const prevalidate = async (identifier = 'acme'): Promise<string> =>
    ok(
      await call<{ token: string }>(
        server.http,
        undefined,
        'GET',
        `/identity/sso/prevalidate?domainHint=${identifier}`,
      ),
      'prevalidate',
    ).token;

  /** The CLI's side: state, PKCE, authorize through the IdP as `sub`, then the token request. */
  async function ssoLogin(sub: string, overrides: { clientId?: string; redirectUri?: string } = {}) {
    current.sub = sub;
    const verifier = b64url(randomBytes(48)).slice(0, 64);
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    const state = `${b64url(randomBytes(40)).replace(/[-_]/g, 'x').slice(0, 64)}_identifier=acme`;
    const token = await prevalidate();
    const url =
      `${server.url}/identity/connect/authorize?client_id=${overrides.clientId ?? 'cli'}` +
      `&redirect_uri=${encodeURIComponent(overrides.redirectUri ?? REDIRECT)}&response_type=code&scope=api%20offline_access` +
      `&state=${state}&code_challenge=${challenge}&code_challenge_method=S256&response_mode=query` +
      `&domain_hint=acme&ssoToken=${encodeURIComponent(token)}`;
    const end = await new Browser(server).go(url);
    const back = end.url ? new URL(end.url) : null;
    const exchange = (extra: Record<string, string> = {}) =>
      server.http.request<Record<string, unknown>>('POST', '/identity/connect/token', {
        form: {
          scope: 'api offline_access',
          client_id: 'cli',
          deviceType: '25',
          deviceIdentifier: '9b1a7c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b',
          deviceName: 'linux',
          grant_type: 'authorization_code',
          code: back?.searchParams.get('code') ?? '',
          code_verifier: verifier,
          redirect_uri: REDIRECT,
          ...extra,
        },
      });
    return { end, back, state, exchange, rawSearch: end.url?.split('?')[1] ?? '' };
  }

  test('the owner configures OIDC; urls are exact and the client secret is encrypted at rest', async () => {
    const saved = ok(
      await call<Record<string, unknown>>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/sso`, {
        enabled: true,
        identifier: 'Acme',
        data: {
          configType: 1,
          memberDecryptionType: 0,
          authority: idp.issuer,
          clientId: 'keyhaven',
          clientSecret: CLIENT_SECRET,
          additionalScopes: 'groups',
          groupsClaimType: 'groups',
          redirectBehavior: 0,
        },
      }),
      'save sso',
    );
    assert.deepEqual(saved['urls'], {
      callbackPath: `${server.url}/sso/oidc-signin`,
      signedOutCallbackPath: `${server.url}/sso/oidc-signedout`,
      spEntityId: `${server.url}/sso/saml2/${org.id}`,
      spEntityIdStatic: `${server.url}/sso/saml2`,
      spMetadataUrl: `${server.url}/sso/saml2/${org.id}`,
      spAcsUrl: `${server.url}/sso/saml2/${org.id}/Acs`,
    });
    assert.equal((saved['data'] as Record<string, unknown>)['clientSecret'], CLIENT_SECRET);
    const rows = await server.db.rows<{
      data: string;
      secrets: string;
    }>('SELECT data::text AS data, secrets FROM sso_config', []);
    assert.ok(!rows[0]!.data.includes(CLIENT_SECRET) && !rows[0]!.secrets.includes(CLIENT_SECRET));
    const other = await newPerson(server.http, 'sso-stranger@example.com');
    assert.equal((await call(server.http, other.token, 'GET', `/api/organizations/${org.id}/sso`)).status, 404);
  });

  test('an existing member links on first SSO login, state comes back byte for byte, the code is single-use', async () => {
    const member = await newPerson(server.http, 'sso-member@example.com');
    await join(server.http, org, owner.token, member, { type: 2 });
    people.set('ext-member', { email: member.email, name: 'Member', groups: [] });
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
      [],
    );
    assert.ok(
      events.some((e) => e.type === 1510),
      'FirstSsoLogin event',
    );
  });

  test('a new person is provisioned just in time (no keys in the token), sets a master password (V1 body) and is accepted; the groups claim maps the group', async () => {
    people.set('ext-new', { email: 'sso-new@example.com', name: 'New Person', groups: ['Engineering'] });
    const group = ok(
      await call<{ id: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/groups`, {
        name: 'Engineering',
        collections: [],
        users: [],
      }),
      'group',
    );
    const flow = await ssoLogin('ext-new');
    const res = await flow.exchange();
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['Key'], undefined);
    assert.equal(res.body['PrivateKey'], undefined);
    assert.equal(typeof res.body['Kdf'], 'number');
    assert.equal((res.body['UserDecryptionOptions'] as Record<string, unknown>)['HasMasterPassword'], false);
    const token = String(res.body['access_token']);
    const status = ok(
      await call<Record<string, unknown>>(server.http, token, 'GET', '/api/organizations/acme/auto-enroll-status'),
      'auto-enroll-status',
    );
    assert.equal(status['id'], org.id);
    const account = await createAccount({ email: 'sso-new@example.com', password: 'new person password 1' });
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
    const jit = members.find((m) => m.email === 'sso-new@example.com');
    assert.equal(jit?.status, 1, 'accepted by set-password, waiting for confirmation');
    const groups = await server.db.rows<{ group_id: string }>(
      'SELECT group_id FROM group_user WHERE organization_user_id = $1',
      [jit.id],
    );
    assert.deepEqual(
      groups.map((g) => g.group_id),
      [group.id],
      'the groups claim put the member in the group',
    );
  });

  test('negatives: unknown client or redirect URI, bad PKCE, stale prevalidate token, revoked member', async () => {
    const strange = await ssoLogin('ext-member', { clientId: 'evil' });
    assert.equal(strange.end.status, 400);
    assert.equal(strange.back, null, 'never a redirect');
    const wrongUri = await ssoLogin('ext-member', { redirectUri: 'http://localhost:9999' });
    assert.equal(wrongUri.end.status, 400);
    const flow = await ssoLogin('ext-member');
    assert.equal((await flow.exchange({ code_verifier: 'x'.repeat(64) })).status, 400);
    const used = await prevalidate();
    const url = (t: string) =>
      `/identity/connect/authorize?client_id=cli&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code&scope=api%20offline_access&state=abc_identifier=acme&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&domain_hint=acme&ssoToken=${t}`;
    assert.equal((await server.http.request('GET', url(used))).status, 302);
    assert.equal((await server.http.request('GET', url(used))).status, 401, 'a prevalidate token is used once');
    assert.equal((await server.http.request('GET', '/identity/sso/prevalidate?domainHint=nope')).status, 400);
    const revoked = await newPerson(server.http, 'sso-revoked@example.com');
    await join(server.http, org, owner.token, revoked, { type: 2 }, 'revoked');
    people.set('ext-revoked', { email: revoked.email, name: 'Gone', groups: [] });
    const refused = await ssoLogin('ext-revoked');
    assert.equal(refused.back, null);
    assert.equal(refused.end.status, 400);
  });
});
