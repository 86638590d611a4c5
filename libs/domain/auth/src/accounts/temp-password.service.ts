import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, badRequest } from '@keyhaven/contracts';
import { MAILER, type Mailer } from '@keyhaven/mail';
import { UserRepository } from '../users/user.repository';
import { AdminPasswordResetService } from './admin-password-reset.service';
import { newMasterPasswordFields, resolveNewMasterPassword } from './new-master-password';

export const updateTempPasswordSchema = z.object({
  ...newMasterPasswordFields,
  masterPasswordHint: z.string().max(50).nullish(),
});

/**
 * `PUT accounts/update-temp-password`: after an admin's account recovery the member chooses their
 * own master password (the web vault's update-temp-password page). Allowed only while the account
 * carries the forced-reset flag, which it clears.
 */
@Injectable()
export class TempPasswordService {
  private readonly logger = new Logger('account-recovery');

  constructor(
    private readonly db: Database,
    private readonly users: UserRepository,
    private readonly reset: AdminPasswordResetService,
    private readonly events: EventRecorder,
    @Inject(MAILER) private readonly mailer: Mailer,
  ) {}

  async update(userId: string, body: z.infer<typeof updateTempPasswordSchema>): Promise<void> {
    const user = await this.users.require(userId);
    if (!user.forcePasswordReset) throw badRequest('User does not have a temporary password to update.');
    const password = resolveNewMasterPassword(user, body);
    await this.db.transaction(async () => {
      await this.reset.apply(user.id, { password, forcePasswordReset: false, resetTwoFactor: false });
      await this.users.update(user.id, { master_password_hint: body.masterPasswordHint ?? null });
      await this.events.record({ type: EventType.User_UpdatedTempPassword, userId: user.id });
    });
    this.reset.loggedOut(user.id);
    try {
      await this.mailer.send({
        to: user.email,
        subject: 'Your master password has been changed',
        text: 'The master password of your account was changed. If this was not you, contact your organization administrator.',
      });
    } catch (error) {
      this.logger.warn(`password change mail not sent: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
  }
}
