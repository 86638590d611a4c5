import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Secret, TOTP } from 'otpauth';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { Database } from '@keyhaven/db';
import { constantTimeEquals, randomToken, tokenDigest } from '../secrets';
import type { User } from '../users/user';
import { UserRepository } from '../users/user.repository';

/** Bitwarden's two-factor provider numbers. */
export const TwoFactorProvider = {
  Authenticator: 0,
  Email: 1,
  Duo: 2,
  YubiKey: 3,
  Remember: 5,
  OrganizationDuo: 6,
  WebAuthn: 7,
  RecoveryCode: 8,
} as const;

const REMEMBER_LIFETIME_MS = 30 * 24 * 3600 * 1000;
const TOTP_PERIOD_S = 30;

function totpFor(secret: string): TOTP {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_S });
}

@Injectable()
export class TwoFactorService {
  constructor(
    private readonly db: Database,
    private readonly users: UserRepository,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
  ) {}

  /** A fresh base32 secret for enrolment; it is stored only once the user proves a code from it. */
  newAuthenticatorKey(): string {
    return new Secret({ size: 20 }).base32;
  }

  /**
   * A code is accepted once: the time step it was valid for is remembered, so a shoulder-surfed or
   * intercepted code cannot be replayed within its window.
   */
  async verifyTotp(userId: string, secret: string, code: string): Promise<boolean> {
    const normalized = code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(normalized)) return false;
    const delta = totpFor(secret).validate({ token: normalized, window: 1 });
    if (delta === null) return false;
    const step = Math.floor(Date.now() / 1000 / TOTP_PERIOD_S) + delta;
    return this.cacheStore.cache.setIfAbsent(`totp-used:${userId}:${step}`, true, 3 * TOTP_PERIOD_S * 1000);
  }

  /**
   * The providers a login must pass one of: the authenticator from `app_user`, the others from
   * their rows (Duo and YubiKey are never enabled here: they need outside services).
   */
  async enabledProviders(user: User): Promise<number[]> {
    const rows = await this.db.rows<{ type: number }>(
      'SELECT type FROM two_factor_provider WHERE user_id = $1 AND enabled AND type IN ($2, $3) ORDER BY type',
      [user.id, TwoFactorProvider.Email, TwoFactorProvider.WebAuthn],
    );
    return [...(user.totpSecret ? [TwoFactorProvider.Authenticator] : []), ...rows.map((r) => r.type)];
  }

  async enableAuthenticator(user: User, secret: string): Promise<void> {
    await this.users.update(user.id, { totp_secret: secret });
  }

  async disableAuthenticator(user: User): Promise<void> {
    await this.users.update(user.id, { totp_secret: null });
    await this.forgetRememberedDevices(user.id);
  }

  /** Remembered devices skip the second step; credential changes and sign-outs must end that. */
  async forgetRememberedDevices(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM two_factor_remember WHERE user_id = $1', [userId]);
  }

  /** The recovery code is shown once; only its digest is kept. */
  async newRecoveryCode(user: User): Promise<string> {
    const code = randomBytes(20)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 24)
      .toUpperCase();
    await this.users.update(user.id, { recovery_code_hash: tokenDigest(code) });
    return code;
  }

  /** Using the recovery code turns every two-step provider off, as Bitwarden does. */
  async recover(user: User, code: string): Promise<boolean> {
    if (!user.recoveryCodeHash) return false;
    const normalized = code.replace(/\s+/g, '').toUpperCase();
    if (!constantTimeEquals(tokenDigest(normalized), user.recoveryCodeHash)) return false;
    await this.users.update(user.id, { totp_secret: null, recovery_code_hash: null });
    await this.removeProviders(user.id);
    await this.forgetRememberedDevices(user.id);
    return true;
  }

  /** Email, WebAuthn and the stored Duo/YubiKey settings (the authenticator lives on `app_user`); true when any went. */
  async removeProviders(userId: string): Promise<boolean> {
    const providers = await this.db.execute('DELETE FROM two_factor_provider WHERE user_id = $1', [userId]);
    const keys = await this.db.execute('DELETE FROM webauthn_credential WHERE user_id = $1', [userId]);
    return providers + keys > 0;
  }

  async issueRememberToken(userId: string): Promise<string> {
    const token = randomToken(32);
    await this.db.execute('INSERT INTO two_factor_remember (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [
      tokenDigest(token),
      userId,
      new Date(Date.now() + REMEMBER_LIFETIME_MS),
    ]);
    return token;
  }

  async checkRememberToken(userId: string, token: string): Promise<boolean> {
    const rows = await this.db.rows(
      'SELECT 1 FROM two_factor_remember WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3',
      [tokenDigest(token), userId, new Date()],
    );
    return rows.length > 0;
  }
}
