import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpClient, HttpResponse } from '@keyhaven/testing';
import { call, ok } from './org-fixtures';

/**
 * What the SSO suites share: a company IdP (`oidc-provider` on loopback, confidential client, PKCE,
 * a login form for its own test accounts), a browser that follows redirects and forms through
 * Keyhaven and the IdP, and the client's side of the flow (state, PKCE, authorize URL, token request).
 */

/**
 * What a server under an OIDC test needs: an `http://` IdP allowed, and loopback opened in the
 * outbound address policy, which every request to the IdP goes through (discovery, JWKS, token, userinfo).
 */
export const SSO_TEST_ENV: Readonly<Record<string, string>> = {
  SSO_ALLOW_HTTP_IDP: 'true',
  OUTBOUND_ALLOW_NETWORKS: '127.0.0.0/8',
};

export interface IdpAccount {
  readonly password: string;
  readonly email: string;
  readonly name: string;
  readonly groups: string[];
}

export const IDP_CLIENT_ID = 'keyhaven';
export const IDP_CLIENT_SECRET = 'idp-client-secret-0123456789';
/** The `cli` client's first loopback redirect URI (ENTERPRISE.md §1.3), where `bw login --sso` listens. */
export const CLI_REDIRECT = 'http://localhost:8065';
export const DEVICE_ID = '9b1a7c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b';

export interface Idp {
  readonly issuer: string;
  /** The IdP's own accounts by subject; a test adds the people it needs. */
  readonly accounts: Map<string, IdpAccount>;
  close(): Promise<void>;
}

type Provider = {
  callback(): (req: unknown, res: unknown) => void;
  interactionDetails(req: unknown, res: unknown): Promise<{ uid: string; params: Record<string, unknown> }>;
  interactionFinished(req: unknown, res: unknown, result: Record<string, unknown>): Promise<void>;
  Grant: new (o: Record<string, unknown>) => { addOIDCScope(s: string): void; save(): Promise<string> };
};

const readForm = async (req: IncomingMessage): Promise<URLSearchParams> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
};

/**
 * The company's IdP: `oidc-provider` with one confidential client (client_secret_post, PKCE required)
 * whose redirect URI is Keyhaven's advertised callback. Its interaction is a real login form: the
 * browser posts a login and password, checked against `accounts`; a wrong password gets 401.
 */
export async function startIdp(callbackUrl: string): Promise<Idp> {
  // oidc-provider is ESM without type declarations; only the calls used here are typed.
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore: no declaration file
  const { default: ProviderClass } = (await import('oidc-provider')) as unknown as {
    default: new (issuer: string, config: Record<string, unknown>) => Provider;
  };
  const accounts = new Map<string, IdpAccount>();
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const provider = new ProviderClass(issuer, {
    clients: [
      {
        client_id: IDP_CLIENT_ID,
        client_secret: IDP_CLIENT_SECRET,
        redirect_uris: [callbackUrl],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    pkce: { required: () => true },
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    findAccount: (_ctx: unknown, sub: string) => {
      const account = accounts.get(sub);
      return account
        ? { accountId: sub, claims: () => ({ sub, email: account.email, name: account.name, groups: account.groups }) }
        : undefined;
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  });
  const handler = provider.callback();
  http.on('request', (req, res) => {
    const interaction = /^\/interaction\/([^/?]+)(\/login)?/.exec(req.url ?? '');
    if (!interaction) {
      handler(req, res);
      return;
    }
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      if (req.method !== 'POST') {
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            `<!DOCTYPE html><html><body><h1>Company sign-in</h1><form method="post" action="/interaction/${details.uid}/login">` +
              `<input type="text" name="login" value=""><input type="password" name="password" value="">` +
              `<button type="submit">Sign in</button></form></body></html>`,
          );
        return;
      }
      const form = await readForm(req);
      const sub = form.get('login') ?? '';
      if (accounts.get(sub)?.password !== form.get('password')) {
        res.writeHead(401, { 'content-type': 'text/html' }).end('<p>Wrong login or password.</p>');
        return;
      }
      const grant = new provider.Grant({ accountId: sub, clientId: IDP_CLIENT_ID });
      grant.addOIDCScope(String(details.params['scope']));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId: sub }, consent: { grantId } });
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  return {
    issuer,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => {
          resolve();
        });
      }),
  };
}

/** Where the browser's requests to Keyhaven go: `domain` is DOMAIN, `pick` chooses the instance per path. */
export interface BrowserTarget {
  readonly domain: string;
  pick(path: string): HttpClient;
}

export const oneServer = (server: { url: string; http: HttpClient }): BrowserTarget => ({
  domain: server.url,
  pick: () => server.http,
});

export interface BrowserEnd {
  /** The client's redirect URI with code and state, when the flow got that far. */
  readonly url?: string;
  readonly status: number;
  readonly text: string;
}

const attr = (tag: string, name: string): string | undefined =>
  new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)?.[1]?.replace(/&amp;/g, '&');

/**
 * A person's browser: follows redirects, submits auto-posting forms and the IdP's login form (with
 * the given credentials), keeps the IdP's cookies, and stops at a URL under `stopAt`.
 */
export class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(
    private readonly target: BrowserTarget,
    private readonly credentials: { login: string; password: string },
    private readonly stopAt: string = CLI_REDIRECT,
  ) {}

  async go(start: string): Promise<BrowserEnd> {
    let url = start;
    let form: Record<string, string> | undefined;
    for (let hop = 0; hop < 20; hop++) {
      if (url.startsWith(this.stopAt)) return { url, status: 302, text: '' };
      const res = url.startsWith(this.target.domain)
        ? await this.keyhaven(url.slice(this.target.domain.length), form)
        : await this.idp(url, form);
      form = undefined;
      const location = res.headers['location'];
      if (res.status >= 300 && res.status < 400 && typeof location === 'string') {
        url = new URL(location, url).href;
        continue;
      }
      const post = /<form\b[^>]*>/i.exec(res.text);
      if (res.status === 200 && post && /method="post"/i.test(post[0])) {
        url = new URL(attr(post[0], 'action') ?? url, url).href;
        form = {};
        for (const input of res.text.matchAll(/<input\b[^>]*>/gi)) {
          const name = attr(input[0], 'name');
          if (name) form[name] = attr(input[0], 'value') ?? '';
        }
        if ('password' in form) Object.assign(form, this.credentials);
        continue;
      }
      return { status: res.status, text: res.text };
    }
    throw new Error('too many hops');
  }

  private async keyhaven(path: string, form?: Record<string, string>) {
    return this.target.pick(path).request(form ? 'POST' : 'GET', path, form ? { form } : {});
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

export const b64url = (b: Buffer): string => b.toString('base64url');

export const jwtPayload = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

/** PKCE as the clients make it: a 64-character verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = b64url(randomBytes(48)).slice(0, 64);
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

/** The client's 64 alphanumerics, plus the web page's `_identifier=` suffix. */
export const clientState = (identifier: string): string =>
  `${b64url(randomBytes(48)).replace(/[-_]/g, 'x').slice(0, 64)}_identifier=${identifier}`;

export async function prevalidate(http: HttpClient, identifier: string): Promise<string> {
  return ok(
    await call<{ token: string }>(http, undefined, 'GET', `/identity/sso/prevalidate?domainHint=${identifier}`),
    'prevalidate',
  ).token;
}

/** `identity/connect/authorize` exactly as the web vault's /#/sso page builds it (ENTERPRISE.md §1.3). */
export function authorizeUrl(
  domain: string,
  p: {
    clientId?: string;
    redirectUri?: string;
    state: string;
    challenge: string;
    identifier: string;
    ssoToken: string;
  },
): string {
  return (
    `${domain}/identity/connect/authorize?client_id=${p.clientId ?? 'cli'}` +
    `&redirect_uri=${encodeURIComponent(p.redirectUri ?? CLI_REDIRECT)}&response_type=code&scope=api%20offline_access` +
    `&state=${p.state}&code_challenge=${p.challenge}&code_challenge_method=S256&response_mode=query` +
    `&domain_hint=${encodeURIComponent(p.identifier)}&ssoToken=${encodeURIComponent(p.ssoToken)}`
  );
}

/** The CLI's token request for a code (ENTERPRISE.md §1.6); `extra` adds or overrides fields. */
export function exchangeCode(
  http: HttpClient,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
): Promise<HttpResponse<Record<string, unknown>>> {
  return http.request<Record<string, unknown>>('POST', '/identity/connect/token', {
    form: {
      scope: 'api offline_access',
      client_id: 'cli',
      deviceType: '25',
      deviceIdentifier: DEVICE_ID,
      deviceName: 'linux',
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: CLI_REDIRECT,
      ...extra,
    },
  });
}

/** `POST api/organizations/{id}/sso` with an OIDC configuration pointing at `authority` (master password unless said). */
export async function configureOidc(
  http: HttpClient,
  ownerToken: string,
  orgId: string,
  options: { identifier: string; authority: string; enabled?: boolean; memberDecryptionType?: number },
): Promise<Record<string, unknown>> {
  return ok(
    await call<Record<string, unknown>>(http, ownerToken, 'POST', `/api/organizations/${orgId}/sso`, {
      enabled: options.enabled ?? true,
      identifier: options.identifier,
      data: {
        configType: 1,
        memberDecryptionType: options.memberDecryptionType ?? 0,
        authority: options.authority,
        clientId: IDP_CLIENT_ID,
        clientSecret: IDP_CLIENT_SECRET,
        additionalScopes: 'groups',
        groupsClaimType: 'groups',
        redirectBehavior: 0,
      },
    }),
    'save sso',
  );
}
