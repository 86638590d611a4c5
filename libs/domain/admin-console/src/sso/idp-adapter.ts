import type { SsoConfig, SsoConfigType } from './sso-config';

/**
 * The protocol-agnostic seam between Keyhaven's client-facing SSO flow (prevalidate, authorize,
 * code, token) and the organization's IdP. The flow never knows whether it speaks OIDC or SAML: it
 * picks the adapter by `config.type` and stores whatever the adapter needs between the two legs in
 * the pending flow (PostgreSQL, with a TTL), so the callback may land on any instance.
 */

/** What the flow knows about a login in progress when it asks the adapter to start or finish it. */
export interface IdpFlow {
  /** Random, unguessable; sent to the IdP as OIDC `state` or SAML `RelayState`, and back again. */
  readonly id: string;
  readonly organizationId: string;
  /** What the adapter returned from `beginLogin`, kept until the callback (nonce, PKCE verifier, request id). */
  readonly adapterState: Record<string, unknown>;
}

/** How the browser is sent to the IdP: a 302, or a page that posts itself (SAML HTTP-POST binding). */
export type IdpHandOff =
  { readonly kind: 'redirect'; readonly url: string } | { readonly kind: 'html'; readonly html: string };

export interface IdpBeginResult {
  readonly handOff: IdpHandOff;
  /** Stored with the flow and handed back to `completeLogin` as `flow.adapterState`. JSON only. */
  readonly adapterState: Record<string, unknown>;
}

/** The IdP's callback as it reached Keyhaven: query and (form-decoded) body, both as sent. */
export interface IdpCallbackRequest {
  readonly method: 'GET' | 'POST';
  /** The full public URL of the callback (`{DOMAIN}/sso/...`), query included. */
  readonly url: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, string>>;
}

/** Who the IdP says logged in, reduced to what Keyhaven uses (§1.5 claim precedence already applied). */
export interface NormalizedClaims {
  /** The provider user id (OIDC `sub` or a configured claim; SAML NameID or a configured attribute). */
  readonly subject: string;
  /** Only a value containing `@`; null when the IdP sent none. */
  readonly email: string | null;
  readonly name: string | null;
  /** Values of the configured groups claim (`groupsClaimType`), empty when none. */
  readonly groups: readonly string[];
}

/**
 * Thrown by an adapter when the IdP is unreachable, misconfigured, or its answer fails a check. The
 * flow logs `logDetail` for the admin (never secrets or tokens) and shows the user `userMessage`.
 */
export class IdpError extends Error {
  constructor(
    readonly userMessage: string,
    readonly logDetail: string,
    readonly kind: 'unreachable' | 'misconfigured' | 'rejected' = 'rejected',
  ) {
    super(logDetail);
  }
}

export interface IdpAdapter {
  readonly type: SsoConfigType;
  /** Checks a configuration at save time (and at prevalidate): throws IdpError when unusable. */
  validate?(config: SsoConfig): Promise<void>;
  beginLogin(config: SsoConfig, flow: Omit<IdpFlow, 'adapterState'>): Promise<IdpBeginResult>;
  completeLogin(config: SsoConfig, request: IdpCallbackRequest, flow: IdpFlow): Promise<NormalizedClaims>;
}

/**
 * The SAML adapter's injection token. The admin-console domain provides the OIDC adapter itself; a
 * module that provides `{ provide: SAML_IDP_ADAPTER, useClass: ... }` (anywhere in the app, the
 * admin-console module is global) plugs SAML in without editing the flow.
 */
export const SAML_IDP_ADAPTER = Symbol('SAML_IDP_ADAPTER');
export const OIDC_IDP_ADAPTER = Symbol('OIDC_IDP_ADAPTER');
