import { EventType, isGuid, parseDeviceType } from '@keyhaven/contracts';
import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  LOGIN_POLICIES,
  ORGANIZATION_CREDENTIALS,
  type LoginPolicies,
  type OrganizationCredentials,
} from '@keyhaven/platform-auth';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { EventRecorder } from '@keyhaven/db';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { AuthRequestsService } from '../auth-requests/auth-requests.service';
import { AccessTokens } from '../tokens/access-tokens';
import { RefreshTokens } from '../tokens/refresh-tokens';
import { DeviceRepository, type Device } from '../devices/device.repository';
import { PasswordHasher } from '../password-hasher';
import { constantTimeEquals } from '../secrets';
import { normalizeEmail, type User } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { AttemptLimiter } from './attempt-limiter';
import {
  ACCOUNT_DISABLED,
  IdentityError,
  WRONG_CREDENTIALS,
  invalidGrant,
  ssoRequired,
  tooManyRequests,
} from './identity-error';
import { NewDeviceVerification } from './new-device-verification';
import { TwoFactorGate } from './two-factor-gate';
import { tokenResponse } from './token-response';

export type TokenForm = Record<string, string | undefined>;

/**
 * The `client_id`s of Bitwarden's own applications (its identity server knows no others for the
 * password grant): web vault, browser extension, desktop, mobile, CLI, Directory Connector.
 */
export const KNOWN_CLIENT_IDS: ReadonlySet<string> = new Set([
  'web',
  'browser',
  'desktop',
  'mobile',
  'cli',
  'connector',
]);

/** The scopes a password login may ask for; `api` is required, `offline_access` brings a refresh token. */
const PASSWORD_GRANT_SCOPES: ReadonlySet<string> = new Set(['api', 'offline_access']);
const DEFAULT_PASSWORD_SCOPE = 'api offline_access';

/** The requested scopes, de-duplicated in a fixed order, or null when one is not allowed or `api` is missing. */
function passwordGrantScopes(requested: string | undefined): string[] | null {
  const scopes = new Set((requested ?? DEFAULT_PASSWORD_SCOPE).split(' ').filter(Boolean));
  if (!scopes.has('api') || [...scopes].some((scope) => !PASSWORD_GRANT_SCOPES.has(scope))) return null;
  return [...PASSWORD_GRANT_SCOPES].filter((scope) => scopes.has(scope));
}

/** Every refresh failure is this one answer (the clients log out on it), whatever the cause. */
const refreshRefused = (): IdentityError => invalidGrant('invalid_grant');

/** The grants of `POST identity/connect/token`. */
@Injectable()
export class LoginService {
  constructor(
    private readonly users: UserRepository,
    private readonly devices: DeviceRepository,
    private readonly hasher: PasswordHasher,
    private readonly accessTokens: AccessTokens,
    private readonly refreshTokens: RefreshTokens,
    private readonly twoFactor: TwoFactorGate,
    private readonly newDevice: NewDeviceVerification,
    private readonly limiter: AttemptLimiter,
    private readonly events: EventRecorder,
    private readonly authRequests: AuthRequestsService,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    @Optional() @Inject(ORGANIZATION_CREDENTIALS) private readonly organizationCredentials?: OrganizationCredentials,
    @Optional() @Inject(LOGIN_POLICIES) private readonly loginPolicies?: LoginPolicies,
  ) {}

  async token(rawForm: TokenForm, ip: string): Promise<Record<string, unknown>> {
    // Clients differ in casing (deviceType vs DeviceType); the names are otherwise fixed.
    const form: TokenForm = Object.fromEntries(Object.entries(rawForm).map(([k, v]) => [k.toLowerCase(), v]));
    switch (form['grant_type']) {
      case 'password':
        await this.throttleIp(ip);
        return this.passwordGrant(form, ip);
      case 'client_credentials':
        await this.throttleIp(ip);
        return this.clientCredentialsGrant(form, ip);
      case 'refresh_token':
        return this.refreshGrant(form);
      case undefined:
      default:
        throw new IdentityError(400, 'unsupported_grant_type', 'The grant type is not supported.');
    }
  }

  /** Credential attempts per client address (logins, prelogin): a sliding window in the shared limiter. */
  async throttleIp(ip: string): Promise<void> {
    const decision = await this.cacheStore.rateLimiter.hit(
      `login-ip:${ip}`,
      this.config.LOGIN_RATE_LIMIT_PER_MINUTE,
      60_000,
    );
    if (!decision.allowed) throw tooManyRequests(decision.retryAfterMs / 1000);
  }

  /** Counts an attempt against the account's failed-attempt limits; 429 once over one of them. */
  private async attempt(account: string, ip: string | null): Promise<string[]> {
    const decision = await this.limiter.attempt(account, ip);
    if (!decision.allowed) throw tooManyRequests(decision.retryAfterSeconds);
    return decision.keys;
  }

  private succeeded(keys: string[]): Promise<void> {
    return this.limiter.succeeded(keys);
  }

  private async passwordGrant(form: TokenForm, ip: string): Promise<Record<string, unknown>> {
    const email = normalizeEmail(form['username'] ?? '');
    const password = form['password'] ?? '';
    // Client and scope first: they cost nothing and reveal nothing about the account. A request
    // naming no client is the web vault's, as it always was here; a named one must be a known one.
    const clientId = form['client_id'] ?? 'web';
    if (!KNOWN_CLIENT_IDS.has(clientId)) throw new IdentityError(400, 'invalid_client', 'Invalid client.');
    const scopes = passwordGrantScopes(form['scope']);
    if (!scopes) throw new IdentityError(400, 'invalid_scope', 'The requested scope is not allowed.');
    if (!email || !password) throw invalidGrant(WRONG_CREDENTIALS);
    const attempts = await this.attempt(`login:${email}`, ip);

    const user = await this.users.findByEmail(email);
    // Login with device: the password is the approved auth request's access code.
    const authRequestId = form['authrequest'];
    let passwordOk: boolean;
    if (authRequestId) passwordOk = await this.authRequests.validForLogin(authRequestId, user?.id ?? null, password);
    else
      passwordOk = user
        ? await this.hasher.verify(user.masterPasswordHash, password)
        : await this.hasher.verifyNothing(password);
    if (!user || !passwordOk) {
      if (user) {
        await this.users.recordFailedLogin(user.id);
        await this.events.record({ type: EventType.User_FailedLogIn, userId: user.id, actingUserId: user.id });
      }
      throw invalidGrant(WRONG_CREDENTIALS);
    }
    // Only after the password proved who asks, so a stranger cannot learn which accounts are disabled.
    if (!user.enabled) throw invalidGrant(ACCOUNT_DISABLED);
    // Before the second step, as Bitwarden: a member who must use SSO is sent there, not asked for a code.
    const sso = await this.loginPolicies?.ssoRequired(user.id);
    if (sso) throw ssoRequired(sso.organizationIdentifier);
    // An account imported from Vaultwarden keeps its PBKDF2 hash until this first successful login.
    if (!authRequestId && this.hasher.needsRehash(user.masterPasswordHash)) {
      await this.users.rehashPassword(user.id, user.masterPasswordHash, await this.hasher.hash(password));
    }

    const { rememberToken: twoFactorToken, provider } = await this.twoFactor.check(user, form);
    // A second step already proved the person; a login with device comes from an approved request.
    if (provider === null && !authRequestId) {
      await this.newDevice.check(user, form['deviceidentifier']?.slice(0, 100), form['newdeviceotp']);
    }
    // Used up only once every check passed, so a two-step challenge does not spend it.
    if (authRequestId && !(await this.authRequests.completeLogin(authRequestId))) throw invalidGrant(WRONG_CREDENTIALS);
    const device = await this.deviceFrom(user, form);
    await this.users.clearFailedLogins(user.id);
    await this.events.record({
      type: EventType.User_LoggedIn,
      userId: user.id,
      actingUserId: user.id,
      ...(device ? { deviceType: device.type } : {}),
    });
    await this.succeeded(attempts);

    const access = await this.accessTokens.issue({
      user,
      clientId,
      scopes,
      deviceIdentifier: device?.identifier ?? null,
      deviceId: device?.id ?? null,
      deviceType: device?.type ?? null,
      amr: ['Application'],
    });
    // OAuth: a refresh token only for a client that asked for offline access.
    const refreshToken = scopes.includes('offline_access')
      ? await this.refreshTokens.issue({
          userId: user.id,
          deviceId: device?.id ?? null,
          clientId,
          securityStamp: user.securityStamp,
        })
      : undefined;
    return tokenResponse(user, {
      accessToken: access.token,
      expiresIn: access.expiresIn,
      ...(refreshToken ? { refreshToken } : {}),
      scope: scopes.join(' '),
      masterPasswordPolicy: (await this.loginPolicies?.masterPasswordPolicy(user.id)) ?? null,
      ...(twoFactorToken ? { twoFactorToken } : {}),
    });
  }

  /**
   * The end of an SSO login (`authorization_code` grant), once the SSO flow checked the code and
   * resolved the user: the user's own two-step login still applies (a challenge throws, and the
   * caller keeps the code for the retry), then tokens with `amr: ["external"]` and the decryption
   * options of the organization's configuration.
   */
  async externalLogin(
    user: User,
    rawForm: TokenForm,
    grant: { clientId: string; scopes: string[]; ssoDecryptionOptions: Record<string, unknown> },
  ): Promise<Record<string, unknown>> {
    const form: TokenForm = Object.fromEntries(Object.entries(rawForm).map(([k, v]) => [k.toLowerCase(), v]));
    if (!user.enabled) throw invalidGrant(ACCOUNT_DISABLED);
    const { rememberToken: twoFactorToken } = await this.twoFactor.check(user, form);
    const device = await this.deviceFrom(user, form);
    await this.users.clearFailedLogins(user.id);
    await this.events.record({
      type: EventType.User_LoggedIn,
      userId: user.id,
      actingUserId: user.id,
      ...(device ? { deviceType: device.type } : {}),
    });
    const access = await this.accessTokens.issue({
      user,
      clientId: grant.clientId,
      scopes: grant.scopes,
      deviceIdentifier: device?.identifier ?? null,
      deviceId: device?.id ?? null,
      deviceType: device?.type ?? null,
      amr: ['external'],
    });
    const refreshToken = grant.scopes.includes('offline_access')
      ? await this.refreshTokens.issue({
          userId: user.id,
          deviceId: device?.id ?? null,
          clientId: grant.clientId,
          securityStamp: user.securityStamp,
          amr: 'external',
        })
      : undefined;
    return tokenResponse(user, {
      accessToken: access.token,
      expiresIn: access.expiresIn,
      ...(refreshToken ? { refreshToken } : {}),
      scope: grant.scopes.join(' '),
      masterPasswordPolicy: (await this.loginPolicies?.masterPasswordPolicy(user.id)) ?? null,
      ssoDecryptionOptions: grant.ssoDecryptionOptions,
      ...(twoFactorToken ? { twoFactorToken } : {}),
    });
  }

  private async deviceFrom(user: User, form: TokenForm): Promise<Device | null> {
    const identifier = form['deviceidentifier'];
    if (!identifier) return null;
    const type = parseDeviceType(form['devicetype'], 14);
    const name = (form['devicename'] ?? 'unknown').slice(0, 100);
    return this.devices.upsert(user.id, identifier.slice(0, 100), type, name);
  }

  private async clientCredentialsGrant(form: TokenForm, ip: string): Promise<Record<string, unknown>> {
    const clientId = form['client_id'] ?? '';
    const secret = form['client_secret'] ?? '';
    const invalidClient = new IdentityError(400, 'invalid_client', 'Invalid client credentials.');
    if (clientId.startsWith('organization.')) return this.organizationGrant(clientId, secret, invalidClient, ip);
    if (!clientId.startsWith('user.')) throw invalidClient;
    // Lower case, so that the rate-limit key cannot be varied by case.
    const userId = clientId.slice('user.'.length).toLowerCase();
    if (!isGuid(userId)) throw invalidClient;
    const attempts = await this.attempt(`api:${userId}`, ip);
    const user = await this.users.findById(userId);
    if (!user || !constantTimeEquals(user.apiKey, secret)) {
      if (user) await this.users.recordFailedLogin(user.id);
      throw invalidClient;
    }
    if (!user.enabled) throw invalidGrant(ACCOUNT_DISABLED);
    await this.succeeded(attempts);
    const device = await this.deviceFrom(user, form);
    const scope = form['scope'] ?? 'api';
    const access = await this.accessTokens.issue({
      user,
      clientId,
      scopes: scope.split(' ').filter(Boolean),
      deviceIdentifier: device?.identifier ?? null,
      deviceId: device?.id ?? null,
      deviceType: device?.type ?? null,
      amr: ['Application'],
    });
    return tokenResponse(user, { accessToken: access.token, expiresIn: access.expiresIn, scope });
  }

  private async organizationGrant(
    clientId: string,
    secret: string,
    invalidClient: IdentityError,
    ip: string,
  ): Promise<Record<string, unknown>> {
    const organizationId = clientId.slice('organization.'.length).toLowerCase();
    if (!isGuid(organizationId) || !this.organizationCredentials) throw invalidClient;
    const attempts = await this.attempt(`org-api:${organizationId}`, ip);
    const stamp = await this.organizationCredentials.verify(organizationId, secret);
    if (!stamp) throw invalidClient;
    await this.succeeded(attempts);
    const access = await this.accessTokens.issueForOrganization(organizationId, stamp, clientId);
    return {
      access_token: access.token,
      expires_in: access.expiresIn,
      token_type: 'Bearer',
      scope: 'api.organization',
    };
  }

  /**
   * Bound to the client the token was issued to: another (or no) `client_id` is refused. A token
   * replaced less than the grace period ago answers its same successor (see RefreshTokens).
   */
  private async refreshGrant(form: TokenForm): Promise<Record<string, unknown>> {
    const grant = await this.refreshTokens.consume(form['refresh_token'] ?? '', form['client_id'] ?? '');
    if (!grant) throw refreshRefused();
    const user = await this.users.findById(grant.userId);
    if (!user?.enabled || user.securityStamp !== grant.securityStamp) throw refreshRefused();
    // The device row the login named: its identifier is what pushes carry as ContextId, its type what the
    // audit log records.
    const device = grant.deviceId ? await this.devices.identityOf(grant.deviceId) : null;
    const access = await this.accessTokens.issue({
      user,
      clientId: grant.clientId,
      scopes: ['api', 'offline_access'],
      deviceIdentifier: device?.identifier ?? null,
      deviceId: grant.deviceId,
      deviceType: device?.type ?? null,
      // The login's method, not the refresh's: an SSO session stays `external` (Duende keeps it too).
      amr: [grant.amr ?? 'Application'],
    });
    return {
      access_token: access.token,
      expires_in: access.expiresIn,
      token_type: 'Bearer',
      refresh_token: grant.successor,
      scope: 'api offline_access',
    };
  }
}
