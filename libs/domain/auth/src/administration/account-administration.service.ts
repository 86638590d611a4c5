import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { TwoFactorService } from '../two-factor/two-factor.service';

/**
 * What an operator (the admin portal, its API, the `keyhaven` CLI) may do to any account, without the
 * account's master password. Every method writes in the caller's unit of work and publishes nothing:
 * the caller sends `LogOut` once its transaction has committed.
 */
@Injectable()
export class AccountAdministrationService {
  constructor(
    private readonly db: Database,
    private readonly twoFactor: TwoFactorService,
  ) {}

  /** True when the flag changed (so a second disable reports nothing done). */
  async setEnabled(userId: string, enabled: boolean): Promise<boolean> {
    const changed = await this.db.execute(
      'UPDATE app_user SET enabled = $2, revision_date = $3, account_revision_date = $3 WHERE id = $1 AND enabled <> $2',
      [userId, enabled, new Date()],
    );
    return changed === 1;
  }

  /**
   * A new security stamp (every access token dies, the hub closes the connections), and every refresh
   * token and remembered two-step device gone. Answers how many refresh tokens were ended.
   */
  async endAllSessions(userId: string): Promise<number> {
    await this.db.execute('UPDATE app_user SET security_stamp = $2, account_revision_date = $3 WHERE id = $1', [
      userId,
      randomUUID(),
      new Date(),
    ]);
    const ended = await this.db.rows<{ id: string }>('DELETE FROM refresh_token WHERE user_id = $1 RETURNING id', [
      userId,
    ]);
    await this.twoFactor.forgetRememberedDevices(userId);
    return ended.length;
  }

  /** Lost authenticator, confirmed out of band by the operator: two-step login off, recovery code gone. */
  async removeTwoFactor(userId: string): Promise<boolean> {
    const changed = await this.db.execute(
      `UPDATE app_user SET totp_secret = NULL, recovery_code_hash = NULL, revision_date = $2, account_revision_date = $2
       WHERE id = $1 AND (totp_secret IS NOT NULL OR recovery_code_hash IS NOT NULL)`,
      [userId, new Date()],
    );
    // Email, WebAuthn and the other providers' rows too, not only the authenticator.
    const removed = await this.twoFactor.removeProviders(userId);
    await this.twoFactor.forgetRememberedDevices(userId);
    return changed === 1 || removed;
  }

  /** The account and everything it owns (devices, tokens, personal items, memberships) by cascade. */
  async deleteAccount(userId: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM app_user WHERE id = $1', [userId])) === 1;
  }
}
