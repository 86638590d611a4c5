import { Injectable } from '@nestjs/common';
import { rateLimited } from '@keyhaven/contracts';
import { AccountsService } from '../accounts/accounts.service';
import { PasswordHasher } from '../password-hasher';
import { normalizeEmail } from '../users/user';
import { UserRepository } from '../users/user.repository';
import { AttemptLimiter } from './attempt-limiter';
import { NewDeviceVerification } from './new-device-verification';

/** `accounts/resend-new-device-otp` (anonymous) and `accounts/verify-devices` (the user's opt-out). */
@Injectable()
export class NewDeviceSettingsService {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly limiter: AttemptLimiter,
    private readonly accounts: AccountsService,
    private readonly verification: NewDeviceVerification,
  ) {}

  /**
   * Always answers the same (200), whether the account exists or the password was right, so it
   * reveals nothing; each call counts against the per-account limit, so it cannot flood a mailbox.
   */
  async resend(ip: string, request: { email: string; masterPasswordHash?: string | null | undefined }): Promise<void> {
    const email = normalizeEmail(request.email);
    const attempt = await this.limiter.attempt(`new-device-resend:${email}`, ip);
    if (!attempt.allowed) throw rateLimited(attempt.retryAfterSeconds);
    const user = await this.users.findByEmail(email);
    const hash = request.masterPasswordHash ?? '';
    const ok = user ? await this.hasher.verify(user.masterPasswordHash, hash) : await this.hasher.verifyNothing(hash);
    if (user && ok) await this.verification.resend(user);
  }

  async setVerifyDevices(
    userId: string,
    request: { verifyDevices: boolean; masterPasswordHash?: string | null | undefined },
  ): Promise<void> {
    const user = await this.accounts.verifyMasterPassword(userId, request.masterPasswordHash);
    await this.verification.setVerifyDevices(user.id, request.verifyDevices);
  }
}
