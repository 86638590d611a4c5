import { Inject, Injectable, Logger } from '@nestjs/common';
import { MAILER, type Mailer } from '@keyhaven/mail';
import { OrganizationRepository } from '../organization.repository';

/** The member is told their account was recovered by their organization (Bitwarden's "admin reset" mail). */
@Injectable()
export class AccountRecoveryMail {
  private readonly logger = new Logger('account-recovery');

  constructor(
    private readonly organizations: OrganizationRepository,
    @Inject(MAILER) private readonly mailer: Mailer,
  ) {}

  async reset(to: string, organizationId: string, password: boolean, twoFactor: boolean): Promise<void> {
    const org = (await this.organizations.findById(organizationId))?.name ?? 'your organization';
    const what = [password ? 'master password' : null, twoFactor ? 'two-step login' : null]
      .filter((w) => w !== null)
      .join(' and ');
    try {
      await this.mailer.send({
        to,
        subject: 'Your master password has been reset',
        text:
          `An administrator of ${org} reset the ${what} of your account. ` +
          (password ? 'Log in with the password they give you; you will be asked to choose your own right away.' : ''),
      });
    } catch (error) {
      // The reset is committed; the member also sees it at the next login.
      this.logger.warn(`account recovery mail not sent: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
  }
}
