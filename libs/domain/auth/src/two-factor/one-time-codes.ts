import { randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { ServerSecrets } from '../tokens/server-secrets';
import type { User } from '../users/user';

/** What a mailed code is for; a code of one purpose never passes for another. */
export type CodePurpose = 'email-setup' | 'email-login' | 'new-device';

const LIFETIME_MS = 5 * 60 * 1000;
/** Wrong guesses one code survives; then it is gone and a new one must be mailed. */
const MAX_FAILED_ATTEMPTS = 5;

export type CodeCheck = 'ok' | 'wrong';

/**
 * Six-digit codes mailed for email two-step login, its setup and new-device verification: one live
 * code per user and purpose in `two_factor_code`, stored as an HMAC under a server secret (a
 * database reader cannot try the million codes offline), valid 5 minutes, bound to the security
 * stamp and the address it went to, used once, and dropped after too many wrong guesses.
 */
@Injectable()
export class OneTimeCodes {
  constructor(
    private readonly db: Database,
    private readonly secrets: ServerSecrets,
  ) {}

  private async digest(userId: string, purpose: CodePurpose, code: string): Promise<string> {
    return (await this.secrets.hmac('two-factor-code', `${userId}:${purpose}:${code}`)).toString('hex');
  }

  /** A fresh code replacing any earlier one of the purpose; the caller mails it. */
  async issue(user: User, purpose: CodePurpose, email: string): Promise<string> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await this.db.execute(
      `INSERT INTO two_factor_code (user_id, purpose, code_digest, email, security_stamp, expires_at, failed_attempts)
       VALUES ($1, $2, $3, $4, $5, $6, 0)
       ON CONFLICT (user_id, purpose) DO UPDATE SET code_digest = EXCLUDED.code_digest, email = EXCLUDED.email,
         security_stamp = EXCLUDED.security_stamp, expires_at = EXCLUDED.expires_at, failed_attempts = 0`,
      [
        user.id,
        purpose,
        await this.digest(user.id, purpose, code),
        email,
        user.securityStamp,
        new Date(Date.now() + LIFETIME_MS),
      ],
    );
    return code;
  }

  /**
   * Consumes the code when it matches (so a replay finds nothing); a wrong one counts against it.
   * `email`, when given, must be the address the code was mailed to.
   */
  async consume(user: User, purpose: CodePurpose, code: string, email?: string): Promise<CodeCheck> {
    const normalized = code.replace(/\s+/g, '');
    const digest = /^\d{6}$/.test(normalized) ? await this.digest(user.id, purpose, normalized) : '';
    // DELETE … RETURNING decides atomically: of two concurrent uses of one code, one wins.
    const used = await this.db.rows<{ email: string }>(
      `DELETE FROM two_factor_code WHERE user_id = $1 AND purpose = $2 AND code_digest = $3
         AND security_stamp = $4 AND expires_at > $5 RETURNING email`,
      [user.id, purpose, digest, user.securityStamp, new Date()],
    );
    const row = used[0];
    if (row && (email === undefined || row.email === email)) return 'ok';
    await this.db.execute(
      'UPDATE two_factor_code SET failed_attempts = failed_attempts + 1 WHERE user_id = $1 AND purpose = $2',
      [user.id, purpose],
    );
    await this.db.execute(
      'DELETE FROM two_factor_code WHERE user_id = $1 AND purpose = $2 AND (failed_attempts >= $3 OR expires_at <= $4)',
      [user.id, purpose, MAX_FAILED_ATTEMPTS, new Date()],
    );
    return 'wrong';
  }
}
