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
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
        return this.passwordGrant(form);
      case 'client_credentials':
        await this.throttleIp(ip);
        return this.clientCredentialsGrant(form);
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

  private async accountThrottled(userKey: string): Promise<boolean> {
    const count = (await this.cacheStore.cache.get<number>(`login-failures:${userKey}`)) ?? 0;
    return count >= this.config.LOGIN_FAILURES_PER_ACCOUNT;
  }

  private async recordFailure(userKey: string, user: User | null): Promise<void> {
    const key = `login-failures:${userKey}`;
    const count = ((await this.cacheStore.cache.get<number>(key)) ?? 0) + 1;
    await this.cacheStore.cache.set(key, count, FAILURE_WINDOW_MS);
    if (user) await this.users.recordFailedLogin(user.id);
  }

  private async passwordGrant(form: TokenForm): Promise<Record<string, unknown>> {
    const email = normalizeEmail(form['username'] ?? '');
    const password = form['password'] ?? '';
    if (!email || !password) throw invalidGrant(WRONG_CREDENTIALS);
    if (await this.accountThrottled(email)) throw tooManyRequests();

    const user = await this.users.findByEmail(email);
    const passwordOk = user
      ? await this.hasher.verify(user.masterPasswordHash, password)
      : await this.hasher.verifyNothing(password);
    if (!user || !passwordOk) {
      await this.recordFailure(email, user);
      throw invalidGrant(WRONG_CREDENTIALS);
    }

    const twoFactorToken = await this.checkTwoFactor(user, form);
    const device = await this.deviceFrom(user, form);
    await this.users.clearFailedLogins(user.id);
    await this.cacheStore.cache.delete(`login-failures:${email}`);

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
    if (!token) {
      throw invalidGrant('Two factor required.', {
        TwoFactorProviders: [String(TwoFactorProvider.Authenticator)],
        TwoFactorProviders2: { [String(TwoFactorProvider.Authenticator)]: null },
        MasterPasswordPolicy: null,
      });
    }
    if (await this.accountThrottled(`2fa:${user.id}`)) throw tooManyRequests();
    let ok = false;
    if (provider === TwoFactorProvider.Authenticator)
      ok = await this.twoFactor.verifyTotp(user.id, user.totpSecret, token);
    else if (provider === TwoFactorProvider.Remember) ok = await this.twoFactor.checkRememberToken(user.id, token);
    else if (provider === TwoFactorProvider.RecoveryCode) ok = await this.twoFactor.recover(user, token);
    if (!ok) {
      await this.recordFailure(`2fa:${user.id}`, user);
      throw invalidGrant(WRONG_TWO_FACTOR);
    }
    const remember = form['twofactorremember'] === '1' || form['twofactorremember'] === 'true';
    return remember && provider !== TwoFactorProvider.Remember ? this.twoFactor.issueRememberToken(user.id) : undefined;
  }

  private async deviceFrom(user: User, form: TokenForm): Promise<Device | null> {
    const identifier = form['deviceidentifier'];
    if (!identifier) return null;
    const type = Number(form['devicetype'] ?? 14);
    const name = (form['devicename'] ?? 'unknown').slice(0, 100);
    return this.devices.upsert(user.id, identifier.slice(0, 100), Number.isInteger(type) ? type : 14, name);
  }

  private async clientCredentialsGrant(form: TokenForm): Promise<Record<string, unknown>> {
    const clientId = form['client_id'] ?? '';
    const secret = form['client_secret'] ?? '';
    const invalidClient = new IdentityError(400, 'invalid_client', 'Invalid client credentials.');
    if (clientId.startsWith('organization.')) return this.organizationGrant(clientId, secret, invalidClient);
    if (!clientId.startsWith('user.')) throw invalidClient;
    const userId = clientId.slice('user.'.length);
    if (!UUID.test(userId)) throw invalidClient;
    if (await this.accountThrottled(`api:${userId}`)) throw tooManyRequests();
    const user = await this.users.findById(userId);
    if (!user || !constantTimeEquals(user.apiKey, secret)) {
      await this.recordFailure(`api:${userId}`, user);
      throw invalidClient;
    }
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
  ): Promise<Record<string, unknown>> {
    const organizationId = clientId.slice('organization.'.length);
    if (!UUID.test(organizationId) || !this.organizationCredentials) throw invalidClient;
    if (await this.accountThrottled(`org-api:${organizationId}`)) throw tooManyRequests();
    const stamp = await this.organizationCredentials.verify(organizationId, secret);
    if (!stamp) {
      await this.recordFailure(`org-api:${organizationId}`, null);
      throw invalidClient;
    }
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
