import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { Database } from '@keyhaven/db';
import { PushType } from '@keyhaven/contracts';
import { NewDeviceVerification } from '../login/new-device-verification';
import { PasswordHasher } from '../password-hasher';
import { RefreshTokens } from '../tokens/refresh-tokens';
import { TwoFactorService } from '../two-factor/two-factor.service';
import { UserRepository, type UserPatch } from '../users/user.repository';
import type { NewMasterPassword } from './new-master-password';

export interface CredentialReset {
  /** The new password; null for a two-step-only reset. */
  readonly password: NewMasterPassword | null;
  /** Account recovery: the member must choose their own password at the next login. */
  readonly forcePasswordReset: boolean;
  readonly resetTwoFactor: boolean;
  /** Emergency takeover: new-device verification off too, as Bitwarden does (the new holder has no mailbox access). */
  readonly disableDeviceVerification?: boolean;
}

/**
 * A master password set by someone other than the account holder — an organization admin's account
 * recovery or an emergency contact's takeover. Everything it writes is on `app_user` and the
 * account's sessions (this domain's tables); callers run it inside their transaction and call
 * `loggedOut` once that committed.
 */
@Injectable()
export class AdminPasswordResetService {
  constructor(
    private readonly db: Database,
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly refreshTokens: RefreshTokens,
    private readonly twoFactor: TwoFactorService,
    private readonly newDevice: NewDeviceVerification,
    private readonly push: PushPublisher,
  ) {}

  /** Writes the reset; every session of the account ends (new security stamp, no refresh tokens). */
  async apply(userId: string, reset: CredentialReset): Promise<void> {
    const patch: UserPatch = { security_stamp: randomUUID() };
    if (reset.password) {
      patch.master_password_hash = await this.hasher.hash(reset.password.masterPasswordHash);
      patch.key = reset.password.key;
      // The old hint would describe a password the holder no longer has (or never chose).
      patch.master_password_hint = null;
      patch.force_password_reset = reset.forcePasswordReset;
    }
    await this.db.transaction(async () => {
      await this.users.update(userId, patch);
      if (reset.resetTwoFactor) {
        await this.users.update(userId, { totp_secret: null, recovery_code_hash: null });
        await this.twoFactor.removeProviders(userId);
      }
      if (reset.disableDeviceVerification) await this.newDevice.setVerifyDevices(userId, false);
      await this.refreshTokens.revokeAll(userId);
      await this.twoFactor.forgetRememberedDevices(userId);
    });
  }

  /** After commit: every client of the account logs out (the hub then closes their connections). */
  loggedOut(userId: string): void {
    this.push.publishToUsers(PushType.LogOut, [userId]);
  }
}
