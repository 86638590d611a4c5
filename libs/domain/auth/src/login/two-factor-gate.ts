import { Injectable } from '@nestjs/common';
import { EventType } from '@keyhaven/contracts';
import { EventRecorder } from '@keyhaven/db';
import { EmailLoginService } from '../two-factor/email-login.service';
import { EmailTwoFactorService, redactEmail } from '../two-factor/email-two-factor.service';
import { TwoFactorProvider, TwoFactorService } from '../two-factor/two-factor.service';
import { WebAuthnService } from '../two-factor/webauthn.service';
import type { User } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { AttemptLimiter } from './attempt-limiter';
import { IdentityError, WRONG_TWO_FACTOR, invalidGrant, tooManyRequests } from './identity-error';

type Form = Record<string, string | undefined>;

/** The outcome of a passed second step: a remember-device token when the client asked for one. */
export interface TwoFactorPassed {
  readonly rememberToken?: string;
  /** The provider that passed, or null when no second step was required. */
  readonly provider: number | null;
}

/**
 * The second step of the password grant: the challenge (`TwoFactorProviders2` with every enabled
 * provider's details) and the check of the answer. Email codes are never sent with the challenge:
 * the 2025.5+ clients call `send-email-login` themselves.
 */
@Injectable()
export class TwoFactorGate {
  constructor(
    private readonly twoFactor: TwoFactorService,
    private readonly email: EmailTwoFactorService,
    private readonly emailLogin: EmailLoginService,
    private readonly webAuthn: WebAuthnService,
    private readonly users: UserRepository,
    private readonly limiter: AttemptLimiter,
    private readonly events: EventRecorder,
  ) {}

  /** Throws the challenge or a rejection; resolves once the second step passed or none is required. */
  async check(user: User, form: Form): Promise<TwoFactorPassed> {
    const enabled = await this.twoFactor.enabledProviders(user);
    if (enabled.length === 0) return { provider: null };
    const token = form['twofactortoken'];
    const provider = Number(form['twofactorprovider']);
    if (!token) throw await this.challenge(user, enabled);
    // A remembered device that is no longer remembered (expired, 2FA re-enrolled) gets the challenge,
    // which is what makes clients drop the stale token and ask for a code.
    if (provider === TwoFactorProvider.Remember) {
      if (!(await this.twoFactor.checkRememberToken(user.id, token))) throw await this.challenge(user, enabled);
      return { provider };
    }
    // Reached only with the right password, so an account-wide cap locks out no stranger.
    const attempts = await this.limiter.attempt(`2fa:${user.id}`, null);
    if (!attempts.allowed) throw tooManyRequests(attempts.retryAfterSeconds);
    if (!(await this.verify(user, enabled, provider, token))) {
      await this.users.recordFailedLogin(user.id);
      await this.events.record({ type: EventType.User_FailedLogIn2fa, userId: user.id, actingUserId: user.id });
      throw invalidGrant(WRONG_TWO_FACTOR);
    }
    await this.limiter.succeeded(attempts.keys);
    // The recovery code turned every provider off (event 1004, as Bitwarden records it).
    if (provider === TwoFactorProvider.RecoveryCode) {
      await this.events.record({ type: EventType.User_Recovered2fa, userId: user.id, actingUserId: user.id });
    }
    const remember = form['twofactorremember'] === '1' || form['twofactorremember'] === 'true';
    return remember ? { provider, rememberToken: await this.twoFactor.issueRememberToken(user.id) } : { provider };
  }

  private async verify(user: User, enabled: number[], provider: number, token: string): Promise<boolean> {
    // The recovery code works whatever is enabled; every other answer needs its provider on.
    if (provider === TwoFactorProvider.RecoveryCode) return this.twoFactor.recover(user, token);
    if (!enabled.includes(provider)) return false;
    switch (provider) {
      case TwoFactorProvider.Authenticator:
        return user.totpSecret !== null && this.twoFactor.verifyTotp(user.id, user.totpSecret, token);
      case TwoFactorProvider.Email:
        return this.email.verifyLoginCode(user, token);
      case TwoFactorProvider.WebAuthn:
        return this.webAuthn.verifyLogin(user, token);
      default:
        return false;
    }
  }

  private async challenge(user: User, enabled: number[]): Promise<IdentityError> {
    const details: Record<string, unknown> = {};
    const extra: Record<string, unknown> = {};
    for (const provider of enabled) {
      if (provider === TwoFactorProvider.Email) {
        const address = (await this.email.enabledAddress(user.id)) ?? user.email;
        details[String(provider)] = { Email: redactEmail(address) };
        extra['Email'] = user.email;
        extra['SsoEmail2faSessionToken'] = await this.emailLogin.sessionToken(user);
      } else if (provider === TwoFactorProvider.WebAuthn) {
        details[String(provider)] = await this.webAuthn.loginOptions(user);
      } else {
        details[String(provider)] = null;
      }
    }
    return invalidGrant('Two factor required.', {
      TwoFactorProviders: enabled.map(String),
      TwoFactorProviders2: details,
      MasterPasswordPolicy: null,
      ...extra,
    });
  }
}
