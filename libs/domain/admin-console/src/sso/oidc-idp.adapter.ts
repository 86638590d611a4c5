import { Inject, Injectable } from '@nestjs/common';
import * as oidc from 'openid-client';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { GuardedFetcher } from '@keyhaven/outbound';
import { emailOf, groupsOf, nameOf, subjectOf, csv } from './claims';
import { idpFetch } from './idp-fetch';
import {
  IdpError,
  type IdpAdapter,
  type IdpBeginResult,
  type IdpCallbackRequest,
  type IdpFlow,
  type NormalizedClaims,
} from './idp-adapter';
import { SsoConfigType, type SsoConfig } from './sso-config';

const IDP_TIMEOUT_SECONDS = 10;

/**
 * OpenID Connect towards the organization's IdP with openid-client: discovery (authority or an
 * explicit metadata address), confidential client (client_secret_post), PKCE S256, nonce, response
 * by form_post (the default, as Bitwarden's SSO service) or query, optional userinfo, additional
 * scopes and ACR values. Discovery is done per login: nothing is cached in the process, so a
 * configuration change applies at once on every instance. Every request to the IdP goes through
 * `@keyhaven/outbound`'s address policy (see idp-fetch.ts).
 */
@Injectable()
export class OidcIdpAdapter implements IdpAdapter {
  readonly type = SsoConfigType.OpenIdConnect;

  private readonly fetch: ReturnType<typeof idpFetch>;

  constructor(
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    fetcher: GuardedFetcher,
  ) {
    this.fetch = idpFetch(fetcher);
  }

  private callbackUrl(): string {
    return `${this.config.DOMAIN}/sso/oidc-signin`;
  }

  async beginLogin(config: SsoConfig, flow: Omit<IdpFlow, 'adapterState'>): Promise<IdpBeginResult> {
    const client = await this.discover(config);
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const scopes = ['openid', 'email', 'profile', ...csv(config.data.additionalScopes)];
    if (config.data.expectedReturnAcrValue) scopes.push('acr');
    const params: Record<string, string> = {
      redirect_uri: this.callbackUrl(),
      scope: [...new Set(scopes)].join(' '),
      response_type: 'code',
      response_mode: config.data.responseMode === 'query' ? 'query' : 'form_post',
      state: flow.id,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    };
    if (config.data.acrValues) params['acr_values'] = config.data.acrValues;
    const url = oidc.buildAuthorizationUrl(client, params);
    // redirectBehavior 1 (FormPost): the authorize request itself goes to the IdP as a POSTed form.
    if (config.data.redirectBehavior === 1) {
      const action = `${url.origin}${url.pathname}`;
      return {
        handOff: { kind: 'html', html: autoPostForm(action, url.searchParams) },
        adapterState: { verifier, nonce },
      };
    }
    return { handOff: { kind: 'redirect', url: url.href }, adapterState: { verifier, nonce } };
  }

  async completeLogin(config: SsoConfig, request: IdpCallbackRequest, flow: IdpFlow): Promise<NormalizedClaims> {
    const error = request.body['error'] ?? request.query['error'];
    if (error) {
      throw new IdpError(
        'The identity provider refused the sign-in.',
        `IdP answered error=${error.slice(0, 100)} (${(request.body['error_description'] ?? request.query['error_description'] ?? '').slice(0, 200)})`,
      );
    }
    const client = await this.discover(config);
    const verifier = flow.adapterState['verifier'];
    const nonce = flow.adapterState['nonce'];
    if (typeof verifier !== 'string' || typeof nonce !== 'string') {
      throw new IdpError(
        'This sign-in cannot be completed. Please start again.',
        'flow without PKCE verifier or nonce',
      );
    }
    const current =
      request.method === 'POST'
        ? new Request(this.callbackUrl(), {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(request.body).toString(),
          })
        : new URL(`${this.callbackUrl()}?${new URLSearchParams(request.query).toString()}`);
    let claims: Record<string, unknown>;
    try {
      const tokens = await oidc.authorizationCodeGrant(client, current, {
        pkceCodeVerifier: verifier,
        expectedNonce: nonce,
        expectedState: flow.id,
        idTokenExpected: true,
      });
      claims = { ...(tokens.claims() ?? {}) };
      if (config.data.getClaimsFromUserInfoEndpoint) {
        // The id token always names the subject; userinfo must be about the same one.
        const sub = String(claims['sub']);
        claims = { ...claims, ...(await oidc.fetchUserInfo(client, tokens.access_token, sub)) };
      }
    } catch (err) {
      throw toIdpError(err, 'The identity provider\u2019s answer could not be verified.');
    }
    const expectedAcr = config.data.expectedReturnAcrValue;
    if (expectedAcr && claims['acr'] !== expectedAcr) {
      throw new IdpError('The sign-in did not meet the required authentication level.', 'acr claim mismatch');
    }
    const subject = subjectOf(claims, config.data.additionalUserIdClaimTypes);
    if (!subject) throw new IdpError('The identity provider did not say who signed in.', 'no subject claim');
    return {
      subject,
      email: emailOf(claims, config.data.additionalEmailClaimTypes, subject),
      name: nameOf(claims, config.data.additionalNameClaimTypes),
      groups: groupsOf(claims, config.data.groupsClaimType),
    };
  }

  private async discover(config: SsoConfig): Promise<oidc.Configuration> {
    const { authority, metadataAddress, clientId, clientSecret } = config.data;
    if (!authority || !clientId || !clientSecret) {
      throw new IdpError(
        'Single sign-on is not set up correctly for this organization.',
        'OIDC configuration lacks authority, clientId or clientSecret',
        'misconfigured',
      );
    }
    let server: URL;
    try {
      server = new URL(metadataAddress || authority);
    } catch {
      throw new IdpError(
        'Single sign-on is not set up correctly for this organization.',
        'OIDC authority is not a URL',
        'misconfigured',
      );
    }
    const insecure = server.protocol === 'http:';
    if (insecure && !this.config.SSO_ALLOW_HTTP_IDP) {
      throw new IdpError(
        'Single sign-on is not set up correctly for this organization.',
        'OIDC authority uses http:// (SSO_ALLOW_HTTP_IDP is off)',
        'misconfigured',
      );
    }
    try {
      return await oidc.discovery(server, clientId, undefined, oidc.ClientSecretPost(clientSecret), {
        timeout: IDP_TIMEOUT_SECONDS,
        // Kept by the returned configuration: token, userinfo and JWKS go the same guarded way.
        [oidc.customFetch]: this.fetch,
        // Only behind SSO_ALLOW_HTTP_IDP (tests, lab networks).
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
    } catch (err) {
      throw toIdpError(
        err,
        'The identity provider cannot be reached right now. Please try again later.',
        'unreachable',
      );
    }
  }
}

function toIdpError(err: unknown, userMessage: string, kind: IdpError['kind'] = 'rejected'): IdpError {
  if (err instanceof IdpError) return err;
  // openid-client wraps transport failures ("something went wrong"): the admin needs the causes too,
  // for instance the outbound policy's refusal of a private address.
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const code = typeof e === 'object' && 'code' in e && typeof e.code === 'string' ? `${e.code}: ` : '';
    parts.push(`${code}${e instanceof Error ? e.message : typeof e === 'string' ? e : 'unknown error'}`);
    e = e instanceof Error ? e.cause : undefined;
  }
  return new IdpError(userMessage, parts.join(' <- ').slice(0, 500), kind);
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** A page that POSTs the fields to `action` as soon as it loads (no script needed with the button). */
export function autoPostForm(action: string, fields: URLSearchParams): string {
  const inputs = [...fields]
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signing in</title></head><body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(action)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form></body></html>`;
}
