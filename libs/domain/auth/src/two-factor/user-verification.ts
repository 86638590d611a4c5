import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { badRequest } from '@keyhaven/contracts';
import { tokenDigest } from '../secrets';
import { ServerSecrets } from '../tokens/server-secrets';
import type { User } from '../users/user';

/** The 2026 clients carry it for 30 minutes of two-step settings changes after one `get-*`. */
const LIFETIME_MS = 30 * 60 * 1000;

interface Claims {
  /** user id */
  u: string;
  /** provider type */
  p: number;
  /** digest of the security stamp: a password change or "log out everywhere" ends the token */
  s: string;
  /** digest of the authenticator key the token was issued with (provider 0 only) */
  k?: string;
  /** expiry, ms since the epoch */
  e: number;
}

export const verificationFailed = (): Error =>
  badRequest('User verification failed.', { UserVerificationToken: ['User verification failed.'] });

const keyDigest = (key: string): string => tokenDigest(`authenticator:${key.toUpperCase().replace(/=+$/, '')}`);

/**
 * The user-verification token of the 2026 two-step management flow: stateless (an HMAC under a
 * server secret kept in the database), so every instance accepts what another issued and nothing
 * lives in process memory. Bound to the user, the provider, the security stamp and, for the
 * authenticator, the key it was issued with.
 */
@Injectable()
export class UserVerificationTokens {
  constructor(private readonly secrets: ServerSecrets) {}

  async issue(user: User, provider: number, authenticatorKey?: string): Promise<string> {
    const claims: Claims = {
      u: user.id,
      p: provider,
      s: tokenDigest(user.securityStamp).slice(0, 16),
      ...(authenticatorKey ? { k: keyDigest(authenticatorKey) } : {}),
      e: Date.now() + LIFETIME_MS,
    };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${payload}.${(await this.secrets.hmac('user-verification', payload)).toString('base64url')}`;
  }

  /** Throws the clients' "User verification failed." unless the token fits this user and provider. */
  async require(
    user: User,
    provider: number,
    token: string | null | undefined,
    authenticatorKey?: string,
  ): Promise<void> {
    const [payload, mac] = (token ?? '').split('.');
    if (!payload || !mac) throw verificationFailed();
    const expected = await this.secrets.hmac('user-verification', payload);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw verificationFailed();
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
    } catch {
      throw verificationFailed();
    }
    const fits =
      claims.u === user.id &&
      claims.p === provider &&
      claims.s === tokenDigest(user.securityStamp).slice(0, 16) &&
      typeof claims.e === 'number' &&
      claims.e > Date.now() &&
      (authenticatorKey === undefined || claims.k === keyDigest(authenticatorKey));
    if (!fits) throw verificationFailed();
  }
}
