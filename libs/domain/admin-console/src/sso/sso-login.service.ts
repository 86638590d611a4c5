import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { EventType, PushType } from '@keyhaven/contracts';
import { PushPublisher } from '@keyhaven/bus';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, EventRecorder } from '@keyhaven/db';
import {
  IdentityError,
  LoginService,
  UserRepository,
  constantTimeEquals,
  invalidGrant,
  type TokenForm,
} from '@keyhaven/domain-auth';
import { MemberStatus, MemberType } from '../enums';
import { MemberRepository } from '../member.repository';
import {
  KEY_CONNECTOR_LOCATOR,
  TRUSTED_DEVICE_OPTIONS,
  type KeyConnectorLocator,
  type TrustedDeviceOptions,
} from './decryption-options';
import { IdpError, type IdpCallbackRequest, type IdpHandOff } from './idp-adapter';
import { IdpAdapterRegistry } from './idp-adapter.registry';
import { allowedRedirectUris, isNativeRedirect, parseRawQuery } from './sso-clients';
import { MemberDecryptionType, type SsoConfig } from './sso-config';
import { SsoConfigRepository } from './sso-config.repository';
import { SsoPendingRepository } from './sso-pending.repository';
import { MemberRefused, MembershipRequired, SsoProvisioning } from './sso-provisioning';
import { SsoUserRepository } from './sso-user.repository';

/** What the browser gets: a hand-off (302 or HTML), or a plain error page with a status. */
export type SsoPageResult = IdpHandOff | { readonly kind: 'error'; readonly status: number; readonly message: string };

interface PendingFlow extends Record<string, unknown> {
  organizationId: string;
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  adapterState: Record<string, unknown>;
}

interface PendingCode extends Record<string, unknown> {
  userId: string;
  organizationId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  expiresAt: number;
}

const page = (status: number, message: string): SsoPageResult => ({ kind: 'error', status, message });
const CLIENT_SCOPES: ReadonlySet<string> = new Set(['api', 'offline_access']);

/**
 * The client-visible SSO flow (ENTERPRISE.md §0–§1), one hop: prevalidate → authorize (to the IdP
 * through the adapter of the organization's configuration) → IdP callback (user resolved, code
 * minted) → `authorization_code` grant. Every pending step is a row in `sso_pending` with an
 * expiry, so each step may run on a different instance.
 */
@Injectable()
export class SsoLoginService {
  private readonly log = new Logger('sso');

  constructor(
    private readonly db: Database,
    private readonly pending: SsoPendingRepository,
    private readonly configs: SsoConfigRepository,
    private readonly adapters: IdpAdapterRegistry,
    private readonly links: SsoUserRepository,
    private readonly provisioning: SsoProvisioning,
    private readonly members: MemberRepository,
    private readonly users: UserRepository,
    private readonly login: LoginService,
    private readonly events: EventRecorder,
    private readonly push: PushPublisher,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    @Optional() @Inject(TRUSTED_DEVICE_OPTIONS) private readonly trustedDevices?: TrustedDeviceOptions,
    @Optional() @Inject(KEY_CONNECTOR_LOCATOR) private readonly keyConnector?: KeyConnectorLocator,
  ) {}

  /** `identity/sso/prevalidate`: the organization must exist, be enabled and have SSO on. */
  async prevalidate(domainHint: string | undefined): Promise<{ token: string } | { error: string }> {
    if (!domainHint?.trim()) return { error: 'No domain hint was provided' };
    const config = await this.enabledConfigFor(domainHint.trim());
    if (!config) return { error: 'Invalid SSO identifier' };
    const token = randomBytes(32).toString('base64url');
    await this.pending.put('prevalidate', token, { organizationId: config.organizationId }, this.ttl('prevalidate'));
    return { token };
  }

  /** `identity/connect/authorize`; `rawQuery` is the query string exactly as sent. */
  async authorize(rawQuery: string): Promise<SsoPageResult> {
    const { decoded: q, raw } = parseRawQuery(rawQuery);
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    // An unknown client or redirect URI never gets a redirect: that would make this an open redirector.
    if (!allowedRedirectUris(clientId, this.config.DOMAIN).includes(redirectUri)) {
      return page(400, 'Unknown client or redirect URI.');
    }
    const state = raw.get('state') ?? '';
    if (!state || state.length > 2000 || /[\s"<>\\^`{|}#]/.test(state))
      return page(400, 'The state is missing or malformed.');
    if (q.get('response_type') !== 'code') return page(400, 'Only response_type=code is supported.');
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    if (!scopes.includes('api') || scopes.some((s) => !CLIENT_SCOPES.has(s)))
      return page(400, 'The scope is not allowed.');
    const codeChallenge = q.get('code_challenge') ?? '';
    if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
      return page(400, 'A PKCE code challenge (S256) is required.');
    }
    const hint = q.get('domain_hint') ?? '';
    const config = hint ? await this.enabledConfigFor(hint) : null;
    if (!config) return page(400, 'Single sign-on is not available for this organization identifier.');
    const prevalidated = await this.pending.take<{ organizationId: string }>('prevalidate', q.get('ssoToken') ?? '');
    if (prevalidated?.organizationId !== config.organizationId) {
      return page(401, 'The SSO token has expired or is not valid. Start the sign-in again.');
    }
    const flowId = randomBytes(32).toString('base64url');
    try {
      const begun = await this.adapters
        .for(config.type)
        .beginLogin(config, { id: flowId, organizationId: config.organizationId });
      const flow: PendingFlow = {
        organizationId: config.organizationId,
        clientId,
        redirectUri,
        state,
        codeChallenge,
        adapterState: begun.adapterState,
      };
      await this.pending.put('flow', flowId, flow, this.ttl('flow'));
      return begun.handOff;
    } catch (err) {
      return this.idpFailure(err, config.organizationId);
    }
  }

  /**
   * The IdP's answer (OIDC callback or SAML ACS): `flowId` is what came back as `state`/`RelayState`.
   * The flow is used once; on success the browser goes to the client's redirect URI with a code.
   */
  async completeCallback(flowId: string | undefined, request: IdpCallbackRequest): Promise<SsoPageResult> {
    const flow = flowId ? await this.pending.take<PendingFlow>('flow', flowId) : null;
    if (!flow || !flowId) return page(400, 'This sign-in has expired or was already used. Start again from the app.');
    const config = await this.configs.findByOrganization(flow.organizationId);
    if (!config?.enabled) return page(400, 'Single sign-on is turned off for this organization.');
    try {
      const claims = await this.adapters.for(config.type).completeLogin(config, request, {
        id: flowId,
        organizationId: flow.organizationId,
        adapterState: flow.adapterState,
      });
      const accessChanged: string[] = [];
      const user = await this.db.transaction(() => this.provisioning.resolve(config, claims, accessChanged));
      // The directory moved the member's groups or role: their other devices fetch the new access.
      this.push.publishToUsers(PushType.SyncOrgKeys, accessChanged);
      const code = randomBytes(32).toString('base64url');
      const ttl = this.ttl('code');
      const pendingCode: PendingCode = {
        userId: user.id,
        organizationId: flow.organizationId,
        clientId: flow.clientId,
        redirectUri: flow.redirectUri,
        codeChallenge: flow.codeChallenge,
        expiresAt: Date.now() + ttl,
      };
      await this.pending.put('code', code, pendingCode, ttl);
      const target = `${flow.redirectUri}${flow.redirectUri.includes('?') ? '&' : '?'}code=${code}&state=${flow.state}`;
      return isNativeRedirect(flow.redirectUri)
        ? { kind: 'html', html: nativeHandOff(target) }
        : { kind: 'redirect', url: target };
    } catch (err) {
      if (err instanceof MembershipRequired) {
        const params = new URLSearchParams({ email: err.email, organizationId: flow.organizationId, error: err.code });
        return { kind: 'redirect', url: `${this.config.DOMAIN}/#/login?${params.toString()}` };
      }
      return this.idpFailure(err, flow.organizationId);
    }
  }

  /** `grant_type=authorization_code`: the code survives a two-step challenge and is spent only on success. */
  async codeGrant(rawForm: TokenForm): Promise<Record<string, unknown>> {
    const form: TokenForm = Object.fromEntries(Object.entries(rawForm).map(([k, v]) => [k.toLowerCase(), v]));
    const codeValue = form['code'] ?? '';
    const refused = (): IdentityError => invalidGrant('invalid_grant');
    // Taken (so two concurrent exchanges cannot both win) and put back if the login only stopped at a second step.
    const code = codeValue ? await this.pending.take<PendingCode>('code', codeValue) : null;
    if (!code) throw refused();
    const verifier = form['code_verifier'] ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (
      code.clientId !== form['client_id'] ||
      code.redirectUri !== form['redirect_uri'] ||
      !constantTimeEquals(challenge, code.codeChallenge)
    ) {
      throw refused();
    }
    const user = await this.users.findById(code.userId);
    const membership = user ? await this.members.findByUser(code.organizationId, user.id) : null;
    const config = await this.configs.findByOrganization(code.organizationId);
    if (!user || !membership || membership.status === MemberStatus.Revoked || !config?.enabled) throw refused();
    const scopes = (form['scope'] ?? 'api offline_access').split(' ').filter((s) => CLIENT_SCOPES.has(s));
    try {
      return await this.login.externalLogin(user, form, {
        clientId: code.clientId,
        scopes: scopes.includes('api') ? scopes : ['api', ...scopes],
        ssoDecryptionOptions: await this.decryptionOptions(
          config,
          user.id,
          membership,
          form['deviceidentifier'] ?? null,
        ),
      });
    } catch (err) {
      const remaining = code.expiresAt - Date.now();
      if (err instanceof IdentityError && remaining > 0) await this.pending.put('code', codeValue, code, remaining);
      throw err;
    }
  }

  private async decryptionOptions(
    config: SsoConfig,
    userId: string,
    membership: {
      type: number;
      resetPasswordKey: string | null;
      permissions: { manageResetPassword?: boolean } | null;
    },
    deviceIdentifier: string | null,
  ): Promise<Record<string, unknown>> {
    if (config.memberDecryptionType === MemberDecryptionType.KeyConnector) {
      const url = this.keyConnector?.urlFor(config) ?? config.data.keyConnectorUrl ?? null;
      return url ? { KeyConnectorOption: { KeyConnectorUrl: url } } : {};
    }
    if (config.memberDecryptionType === MemberDecryptionType.TrustedDeviceEncryption) {
      const option = this.trustedDevices
        ? await this.trustedDevices.trustedDeviceOption({
            userId,
            deviceIdentifier,
            organizationId: config.organizationId,
          })
        : {
            HasAdminApproval: membership.resetPasswordKey !== null,
            HasLoginApprovingDevice: false,
            HasManageResetPasswordPermission:
              membership.type === MemberType.Owner ||
              membership.type === MemberType.Admin ||
              membership.permissions?.manageResetPassword === true,
            IsTdeOffboarding: false,
          };
      return { TrustedDeviceOption: option };
    }
    return {};
  }

  private async enabledConfigFor(identifier: string): Promise<SsoConfig | null> {
    const org = await this.links.organizationByIdentifier(identifier);
    if (!org?.enabled) return null;
    const config = await this.configs.findByOrganization(org.id);
    return config?.enabled ? config : null;
  }

  private async idpFailure(err: unknown, organizationId: string): Promise<SsoPageResult> {
    if (!(err instanceof IdpError)) throw err;
    // The admin's line: what went wrong, never tokens or secrets (adapters keep those out of logDetail).
    this.log.warn(`SSO for organization ${organizationId} failed (${err.kind}): ${err.logDetail}`);
    // A refused member's failed login is also in their own event trail.
    const who =
      err instanceof MemberRefused
        ? { userId: err.userId, organizationUserId: err.organizationUserId, actingUserId: err.userId }
        : { actingUserId: null };
    await this.events.record({ type: EventType.User_FailedLogIn, organizationId, ...who });
    return page(err.kind === 'unreachable' ? 502 : 400, err.userMessage);
  }

  private ttl(kind: 'prevalidate' | 'flow' | 'code'): number {
    const seconds =
      kind === 'prevalidate'
        ? this.config.SSO_PREVALIDATE_TTL_SECONDS
        : kind === 'flow'
          ? this.config.SSO_FLOW_TTL_SECONDS
          : this.config.SSO_CODE_TTL_SECONDS;
    return seconds * 1000;
  }
}

const escapeAttr = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** For native redirect URIs (`bitwarden://…`): a page that sends the browser on, as the official server does. */
function nativeHandOff(target: string): string {
  const href = escapeAttr(target);
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>Signing in</title></head><body><p>Returning to the application… <a href="${href}">Continue</a></p></body></html>`;
}
