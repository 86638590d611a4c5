import { isGuid } from '@keyhaven/contracts';
import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  LOGIN_POLICIES,
  ORGANIZATION_CREDENTIALS,
  type LoginPolicies,
  type OrganizationCredentials,
} from '@keyhaven/platform-auth';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { AccessTokens } from '../tokens/access-tokens';
import { RefreshTokens } from '../tokens/refresh-tokens';
import { DeviceRepository, type Device } from '../devices/device.repository';
import { PasswordHasher } from '../password-hasher';
import { constantTimeEquals } from '../secrets';
import { TwoFactorProvider, TwoFactorService } from '../two-factor/two-factor.service';
import { normalizeEmail, type User } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { IdentityError, WRONG_CREDENTIALS, WRONG_TWO_FACTOR, invalidGrant } from './identity-error';
import { tokenResponse } from './token-response';

export type TokenForm = Record<string, string | undefined>;

const FAILURE_WINDOW_MS = 15 * 60 * 1000;

/** The answer that makes a client ask for a second factor. */
function twoFactorChallenge(): IdentityError {
  return invalidGrant('Two factor required.', {
    TwoFactorProviders: [String(TwoFactorProvider.Authenticator)],
    TwoFactorProviders2: { [String(TwoFactorProvider.Authenticator)]: null },
    MasterPasswordPolicy: null,
  });
}

function tooManyRequests(): IdentityError {
  return new IdentityError(429, 'too_many_requests', 'Too many login attempts. Try again later.');
}

/** The grants of `POST identity/connect/token`. */
@Injectable()
export class LoginService {
  constructor(
    private readonly users: UserRepository,
    private readonly devices: DeviceRepository,
    private readonly hasher: PasswordHasher,
    private readonly accessTokens: AccessTokens,
    private readonly refreshTokens: RefreshTokens,
    private readonly twoFactor: TwoFactorService,
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
    if (!decision.allowed) throw tooManyRequests();
  }

  /**
   * Counts an attempt against each key atomically (before the secret is checked, so parallel guesses
   * all count) and refuses with 429 once any key is over its limit. A success clears the keys.
   * Keys pair the account with the client address, so a stranger elsewhere cannot lock the owner out;
   * a looser account-wide key still caps guessing spread over many addresses.
   */
  private async attempt(account: string, ip: string | null): Promise<string[]> {
    const perAccount = this.config.LOGIN_FAILURES_PER_ACCOUNT;
    const keys: [string, number][] = ip
      ? [
          [`attempts:${account}:${ip}`, perAccount],
          [`attempts:${account}`, perAccount * 10],
        ]
      : [[`attempts:${account}`, perAccount]];
    for (const [key, limit] of keys) {
      const decision = await this.cacheStore.rateLimiter.hit(key, limit, FAILURE_WINDOW_MS);
      if (!decision.allowed) throw tooManyRequests();
    }
    return keys.map(([key]) => key);
  }

  private async succeeded(keys: string[]): Promise<void> {
    for (const key of keys) await this.cacheStore.rateLimiter.reset(key);
  }

  private async passwordGrant(form: TokenForm, ip: string): Promise<Record<string, unknown>> {
    const email = normalizeEmail(form['username'] ?? '');
    const password = form['password'] ?? '';
    if (!email || !password) throw invalidGrant(WRONG_CREDENTIALS);
    const attempts = await this.attempt(`login:${email}`, ip);

    const user = await this.users.findByEmail(email);
    const passwordOk = user
      ? await this.hasher.verify(user.masterPasswordHash, password)
      : await this.hasher.verifyNothing(password);
    if (!user || !passwordOk) {
      if (user) await this.users.recordFailedLogin(user.id);
      throw invalidGrant(WRONG_CREDENTIALS);
    }

    const twoFactorToken = await this.checkTwoFactor(user, form);
    const device = await this.deviceFrom(user, form);
    await this.users.clearFailedLogins(user.id);
    await this.succeeded(attempts);

    const clientId = form['client_id'] ?? 'web';
    const scope = form['scope'] ?? 'api offline_access';
    const access = await this.accessTokens.issue({
      user,
      clientId,
      scopes: scope.split(' ').filter(Boolean),
      deviceIdentifier: device?.identifier ?? null,
      deviceId: device?.id ?? null,
      deviceType: device?.type ?? null,
      amr: ['Application'],
    });
    const refreshToken = await this.refreshTokens.issue({
      userId: user.id,
      deviceId: device?.id ?? null,
      clientId,
      securityStamp: user.securityStamp,
    });
    return tokenResponse(user, {
      accessToken: access.token,
      expiresIn: access.expiresIn,
      refreshToken,
      scope,
      masterPasswordPolicy: (await this.loginPolicies?.masterPasswordPolicy(user.id)) ?? null,
      ...(twoFactorToken ? { twoFactorToken } : {}),
    });
  }

  /** Returns a remember-device token when the client asked for one. Throws the challenge or a rejection. */
  private async checkTwoFactor(user: User, form: TokenForm): Promise<string | undefined> {
    if (!user.totpSecret) return undefined;
    const token = form['twofactortoken'];
    const provider = Number(form['twofactorprovider']);
    if (!token) throw twoFactorChallenge();
    // A remembered device that is no longer remembered (expired, 2FA re-enrolled) gets the challenge,
    // which is what makes clients drop the stale token and ask for a code.
    if (provider === TwoFactorProvider.Remember) {
      if (!(await this.twoFactor.checkRememberToken(user.id, token))) throw twoFactorChallenge();
      return undefined;
    }
    // Reached only with the right password, so an account-wide cap locks out no stranger.
    const attempts = await this.attempt(`2fa:${user.id}`, null);
    let ok = false;
    if (provider === TwoFactorProvider.Authenticator)
      ok = await this.twoFactor.verifyTotp(user.id, user.totpSecret, token);
    else if (provider === TwoFactorProvider.RecoveryCode) ok = await this.twoFactor.recover(user, token);
    if (!ok) {
      await this.users.recordFailedLogin(user.id);
      throw invalidGrant(WRONG_TWO_FACTOR);
    }
    await this.succeeded(attempts);
    const remember = form['twofactorremember'] === '1' || form['twofactorremember'] === 'true';
    return remember ? this.twoFactor.issueRememberToken(user.id) : undefined;
  }

  private async deviceFrom(user: User, form: TokenForm): Promise<Device | null> {
    const identifier = form['deviceidentifier'];
    if (!identifier) return null;
    const type = Number(form['devicetype'] ?? 14);
    const name = (form['devicename'] ?? 'unknown').slice(0, 100);
    return this.devices.upsert(user.id, identifier.slice(0, 100), Number.isInteger(type) ? type : 14, name);
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

  private async refreshGrant(form: TokenForm): Promise<Record<string, unknown>> {
    const grant = await this.refreshTokens.consume(form['refresh_token'] ?? '');
    if (!grant) throw invalidGrant('invalid_grant');
    const user = await this.users.findById(grant.userId);
    if (!user || user.securityStamp !== grant.securityStamp) throw invalidGrant('invalid_grant');
    const device = grant.deviceId ? { id: grant.deviceId } : null;
    const access = await this.accessTokens.issue({
      user,
      clientId: grant.clientId,
      scopes: ['api', 'offline_access'],
      deviceIdentifier: null,
      deviceId: device?.id ?? null,
      deviceType: null,
      amr: ['Application'],
    });
    const refreshToken = await this.refreshTokens.issue({ ...grant });
    return {
      access_token: access.token,
      expires_in: access.expiresIn,
      token_type: 'Bearer',
      refresh_token: refreshToken,
      scope: 'api offline_access',
    };
  }
}
