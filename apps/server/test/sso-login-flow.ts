import type { HttpClient, HttpResponse } from '@keyhaven/testing';
import {
  Browser,
  CLI_REDIRECT,
  authorizeUrl,
  clientState,
  exchangeCode,
  oneServer,
  pkce,
  prevalidate,
  type Idp,
} from './sso-fixtures';

/** A client's device for an SSO login: which app it is and its appId (the device identifier). */
export interface SsoDevice {
  /** `cli` or `desktop` (both redirect to the loopback listener, ENTERPRISE.md §1.3). */
  readonly clientId: 'cli' | 'desktop';
  readonly deviceType: string;
  readonly identifier: string;
}

/**
 * One whole SSO login as a client does it (prevalidate → authorize → the company IdP's login form →
 * callback → code → `connect/token`), signed in at the IdP as `sub`. Returns the token response.
 */
export async function ssoTokenResponse(
  server: { url: string; http: HttpClient },
  idp: Idp,
  sub: string,
  identifier: string,
  device: SsoDevice,
): Promise<HttpResponse<Record<string, unknown>>> {
  const { verifier, challenge } = pkce();
  const ssoToken = await prevalidate(server.http, identifier);
  const url = authorizeUrl(server.url, {
    clientId: device.clientId,
    state: clientState(identifier),
    challenge,
    identifier,
    ssoToken,
  });
  const end = await new Browser(oneServer(server), {
    login: sub,
    password: idp.accounts.get(sub)?.password ?? '',
  }).go(url);
  if (!end.url?.startsWith(CLI_REDIRECT)) throw new Error(`SSO login of ${sub} stopped: ${end.status} ${end.text}`);
  const code = new URL(end.url).searchParams.get('code') ?? '';
  return exchangeCode(server.http, code, verifier, {
    client_id: device.clientId,
    deviceType: device.deviceType,
    deviceIdentifier: device.identifier,
    deviceName: device.clientId,
  });
}

/** The exact-case `UserDecryptionOptions` of a token response. */
export const decryptionOptionsOf = (body: Record<string, unknown>): Record<string, unknown> =>
  body['UserDecryptionOptions'] as Record<string, unknown>;
