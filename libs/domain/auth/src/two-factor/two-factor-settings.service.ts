import { Inject, Injectable } from '@nestjs/common';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { badRequest, rateLimited } from '@keyhaven/contracts';
import { AccountsService } from '../accounts/accounts.service';
import { AttemptLimiter } from '../login/attempt-limiter';
import { PasswordHasher } from '../password-hasher';
import { normalizeEmail, type User } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { TwoFactorProvider, TwoFactorService } from './two-factor.service';

type Secret = string | null | undefined;

/** The signed-in user's two-step login settings (`api/two-factor/*`) and the recovery-code way out. */
@Injectable()
export class TwoFactorSettingsService {
  constructor(
    private readonly twoFactor: TwoFactorService,
    private readonly accounts: AccountsService,
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly limiter: AttemptLimiter,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** The providers the user has turned on. */
  async enabledProviders(userId: string): Promise<number[]> {
    const user = await this.users.require(userId);
    return user.totpSecret ? [TwoFactorProvider.Authenticator] : [];
  }

  /** The enrolled secret, or a fresh one to enrol with (stored only once a code from it is proven). */
  async authenticator(userId: string, masterPasswordHash: Secret): Promise<{ enabled: boolean; key: string }> {
    const user = await this.accounts.verifyMasterPassword(userId, masterPasswordHash);
    return { enabled: user.totpSecret !== null, key: user.totpSecret ?? this.twoFactor.newAuthenticatorKey() };
  }

  /** Enrolment completes only with a valid code from the new secret; answers the normalised secret. */
  async enableAuthenticator(
    userId: string,
    request: { masterPasswordHash?: Secret; key: string; token: string },
  ): Promise<string> {
    const user = await this.accounts.verifyMasterPassword(userId, request.masterPasswordHash);
    const key = request.key.toUpperCase().replace(/=+$/, '');
    if (!(await this.twoFactor.verifyTotp(user.id, key, request.token))) {
      throw badRequest('Invalid token.', { token: ['Invalid token.'] });
    }
    await this.twoFactor.enableAuthenticator(user, key);
    return key;
  }

  /**
   * Turns a provider off. The account when two-step login really went off (organizations that
   * require it must then revoke the membership: the caller tells the admin console), else null.
   */
  async disable(userId: string, request: { masterPasswordHash?: Secret; type: number }): Promise<User | null> {
    const user = await this.accounts.verifyMasterPassword(userId, request.masterPasswordHash);
    if (request.type !== TwoFactorProvider.Authenticator || !user.totpSecret) return null;
    await this.twoFactor.disableAuthenticator(user);
    return user;
  }

  async recoveryCode(userId: string, masterPasswordHash: Secret): Promise<string> {
    return this.twoFactor.newRecoveryCode(await this.accounts.verifyMasterPassword(userId, masterPasswordHash));
  }

  /** Lost authenticator: email + master password + recovery code turn two-step login off. */
  async recover(ip: string, input: { email: string; masterPasswordHash: string; recoveryCode: string }): Promise<void> {
    const decision = await this.cacheStore.rateLimiter.hit(
      `2fa-recover:${ip}`,
      this.config.LOGIN_RATE_LIMIT_PER_MINUTE,
      60_000,
    );
    if (!decision.allowed) throw rateLimited(Math.ceil(decision.retryAfterMs / 1000));
    const email = normalizeEmail(input.email);
    // The per-account failed-attempt limit too (per address and account-wide), as for logins.
    const attempt = await this.limiter.attempt(`2fa-recover:${email}`, ip);
    if (!attempt.allowed) throw rateLimited(attempt.retryAfterSeconds);
    const user = await this.users.findByEmail(email);
    const passwordOk = user
      ? await this.hasher.verify(user.masterPasswordHash, input.masterPasswordHash)
      : await this.hasher.verifyNothing(input.masterPasswordHash);
    if (!user || !passwordOk || !(await this.twoFactor.recover(user, input.recoveryCode))) {
      throw badRequest('Invalid information. Try again.');
    }
    await this.limiter.succeeded(attempt.keys);
  }
}
