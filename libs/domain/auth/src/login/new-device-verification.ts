import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database } from '@keyhaven/db';
import { MAILER, type Mailer } from '@keyhaven/mail';
import { OneTimeCodes } from '../two-factor/one-time-codes';
import type { User } from '../users/user';
import { IdentityError } from './identity-error';

/** Accounts younger than this are not asked: they have just proven their address by signing up. */
const NEW_ACCOUNT_GRACE_MS = 24 * 3600 * 1000;

/** The answer the clients recognise by `ErrorModel.Message`, exactly. */
function deviceError(): IdentityError {
  const error = new IdentityError(400, 'device_error', 'New device verification required');
  error.modelMessage = 'new device verification required';
  return error;
}

function invalidOtp(): IdentityError {
  const error = new IdentityError(400, 'invalid_grant', 'Invalid new device OTP.');
  error.modelMessage = 'invalid new device otp';
  return error;
}

/**
 * New-device verification (`NEW_DEVICE_VERIFICATION`, off by default): a password login from a
 * device the account never used, with no second step configured, must also show a code mailed to
 * the account's address (`newDeviceOtp`). Skipped for accounts younger than 24 hours, accounts with
 * no device yet, and accounts that opted out (`verify_devices`).
 */
@Injectable()
export class NewDeviceVerification {
  constructor(
    private readonly db: Database,
    private readonly codes: OneTimeCodes,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** Throws `device_error` (mailing a code) or the wrong-code answer; resolves when the login may go on. */
  async check(user: User, deviceIdentifier: string | undefined, otp: string | undefined): Promise<void> {
    if (!(await this.required(user, deviceIdentifier))) return;
    if (!otp) {
      await this.sendCode(user);
      throw deviceError();
    }
    if ((await this.codes.consume(user, 'new-device', otp)) !== 'ok') throw invalidOtp();
    // The code went to the account's address, so that address is proven now.
    await this.db.execute('UPDATE app_user SET email_verified = true WHERE id = $1', [user.id]);
  }

  /** `POST accounts/resend-new-device-otp` after the caller proved the password. */
  async resend(user: User): Promise<void> {
    if (this.config.NEW_DEVICE_VERIFICATION) await this.sendCode(user);
  }

  async setVerifyDevices(userId: string, verifyDevices: boolean): Promise<void> {
    await this.db.execute('UPDATE app_user SET verify_devices = $2 WHERE id = $1', [userId, verifyDevices]);
  }

  private async required(user: User, deviceIdentifier: string | undefined): Promise<boolean> {
    if (!this.config.NEW_DEVICE_VERIFICATION || !this.mailer.delivers) return false;
    if (Date.now() - user.creationDate.getTime() < NEW_ACCOUNT_GRACE_MS) return false;
    const rows = await this.db.rows<{ verify_devices: boolean; devices: string | number; known: boolean }>(
      `SELECT u.verify_devices,
              (SELECT count(*) FROM device d WHERE d.user_id = u.id) AS devices,
              EXISTS (SELECT 1 FROM device d WHERE d.user_id = u.id AND d.identifier = $2) AS known
       FROM app_user u WHERE u.id = $1`,
      [user.id, deviceIdentifier ?? ''],
    );
    const row = rows[0];
    if (!row || !row.verify_devices || Number(row.devices) === 0) return false;
    return !row.known;
  }

  private async sendCode(user: User): Promise<void> {
    const code = await this.codes.issue(user, 'new-device', user.email);
    await this.mailer.send({
      to: user.email,
      subject: 'Keyhaven: verify a new device',
      text: `Someone logged in to your account from a device it has not used before. If it was you, enter this code: ${code}\n\nIt is valid for 5 minutes. If it was not you, change your master password now.`,
    });
  }
}
