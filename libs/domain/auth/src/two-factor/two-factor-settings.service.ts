import { Inject, Injectable } from '@nestjs/common';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { EventType, KeyhavenError, badRequest, rateLimited } from '@keyhaven/contracts';
import { EventRecorder } from '@keyhaven/db';
import { AccountsService } from '../accounts/accounts.service';
import { AttemptLimiter } from '../login/attempt-limiter';
import { PasswordHasher } from '../password-hasher';
import { normalizeEmail, type User } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { TwoFactorProvider, TwoFactorService } from './two-factor.service';
import { UserVerificationTokens, verificationFailed } from './user-verification';

type Secret = string | null | undefined;

/** The secret a `get-*` call proves: the master password hash (an OTP only where no password exists). */
export interface SecretVerification {
  masterPasswordHash?: Secret;
  otp?: Secret;
}

/**
 * The signed-in user's authenticator, the recovery code and its way out, and the user-verification
 * step every `get-*` call of the 2026 management flow starts with.
 */
@Injectable()
export class TwoFactorSettingsService {
  constructor(
    private readonly twoFactor: TwoFactorService,
    private readonly accounts: AccountsService,
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly limiter: AttemptLimiter,
    private readonly verification: UserVerificationTokens,
    private readonly events: EventRecorder,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** The providers the user has turned on. */
  async enabledProviders(userId: string): Promise<number[]> {
    return this.twoFactor.enabledProviders(await this.users.require(userId));
  }

  /**
   * Proves the caller with the master password (on the per-account failed-attempt limiter).
   * Every account here has a master password, so an OTP alone never verifies.
   */
  async verifySecret(userId: string, secret: SecretVerification | Secret): Promise<User> {
    const masterPasswordHash = typeof secret === 'object' && secret !== null ? secret.masterPasswordHash : secret;
    if (!masterPasswordHash) throw verificationFailed();
    try {
      return await this.accounts.verifyMasterPassword(userId, masterPasswordHash);
    } catch (error) {
      if (error instanceof KeyhavenError && error.code === 'bad_request') throw verificationFailed();
      throw error;
    }
  }

  /** The user behind a token-carrying call: the token must fit this user and provider. */
  async verifiedUser(userId: string, provider: number, token: Secret, authenticatorKey?: string): Promise<User> {
    const user = await this.users.require(userId);
    await this.verification.require(user, provider, token, authenticatorKey);
    return user;
  }

  /** `POST get-*`: the secret proves the caller; the token then carries the proof for 30 minutes. */
  async issueToken(user: User, provider: number, authenticatorKey?: string): Promise<string> {
    return this.verification.issue(user, provider, authenticatorKey);
  }

  /** The enrolled secret, or a fresh one to enrol with (stored only once a code from it is proven). */
  async authenticator(
    userId: string,
    secret: SecretVerification | Secret,
  ): Promise<{ enabled: boolean; key: string; userVerificationToken: string }> {
    const user = await this.verifySecret(userId, secret);
    const key = user.totpSecret ?? this.twoFactor.newAuthenticatorKey();
    return {
      enabled: user.totpSecret !== null,
      key,
      userVerificationToken: await this.issueToken(user, TwoFactorProvider.Authenticator, key),
    };
  }

  /**
   * Enrolment completes only with a valid code from the new secret; answers the normalised secret.
   * The 2026 clients carry the user-verification token (bound to this key); older ones the password.
   */
  async enableAuthenticator(
    userId: string,
    request: { masterPasswordHash?: Secret; userVerificationToken?: Secret; key: string; token: string },
  ): Promise<string> {
    const key = request.key.toUpperCase().replace(/=+$/, '');
    const user = request.userVerificationToken
      ? await this.verifiedUser(userId, TwoFactorProvider.Authenticator, request.userVerificationToken, key)
      : await this.accounts.verifyMasterPassword(userId, request.masterPasswordHash);
    if (!(await this.twoFactor.verifyTotp(user.id, key, request.token))) {
      throw badRequest('Invalid token.', { Token: ['Invalid token.'] });
    }
    await this.twoFactor.enableAuthenticator(user, key);
    await this.recordChange(EventType.User_Updated2fa, user.id);
    return key;
  }

  /** `DELETE authenticator`: the token must have been issued for the enrolled key. */
  async deleteAuthenticator(
    userId: string,
    request: { key: string; userVerificationToken?: Secret },
  ): Promise<User | null> {
    const user = await this.verifiedUser(
      userId,
      TwoFactorProvider.Authenticator,
      request.userVerificationToken,
      request.key,
    );
    if (!user.totpSecret) return null;
    await this.twoFactor.disableAuthenticator(user);
    await this.recordChange(EventType.User_Disabled2fa, user.id);
    return user;
  }

  /**
   * The pre-2026 `PUT disable` (master password on the call), kept for older clients; the
   * authenticator only, as before. The account when two-step login really went off, else null.
   */
  async disable(userId: string, request: { masterPasswordHash?: Secret; type: number }): Promise<User | null> {
    const user = await this.accounts.verifyMasterPassword(userId, request.masterPasswordHash);
    if (request.type !== TwoFactorProvider.Authenticator || !user.totpSecret) return null;
    await this.twoFactor.disableAuthenticator(user);
    await this.recordChange(EventType.User_Disabled2fa, user.id);
    return user;
  }

  async recoveryCode(userId: string, secret: SecretVerification | Secret): Promise<string> {
    return this.twoFactor.newRecoveryCode(await this.verifySecret(userId, secret));
  }

  /** Lost second factor: email + master password + recovery code turn two-step login off. */
  async recover(ip: string, input: { email: string; masterPasswordHash: string; recoveryCode: string }): Promise<User> {
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
    await this.recordChange(EventType.User_Recovered2fa, user.id);
    return user;
  }

  /** The audit log's record of a two-step login change (the acting user is the account itself). */
  recordChange(type: EventType, userId: string): Promise<void> {
    return this.events.record({ type, userId, actingUserId: userId });
  }
}
