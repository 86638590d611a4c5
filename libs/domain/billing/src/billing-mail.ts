import { Inject, Injectable, Logger } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { MemberRepository, MemberStatus, MemberType, OrganizationRepository } from '@keyhaven/domain-admin-console';
import { MAILER, type Mailer } from '@keyhaven/mail';
import type { BillingStanding } from './billing.repository';

/** The owners of an organization hear of every change in its standing (after commit; a mail failure changes nothing). */
@Injectable()
export class BillingMail {
  private readonly logger = new Logger('billing-mail');

  constructor(
    private readonly members: MemberRepository,
    private readonly organizations: OrganizationRepository,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  async standingChanged(organizationId: string, standing: BillingStanding, graceEnds: Date | null): Promise<void> {
    const org = await this.organizations.findById(organizationId);
    if (!org) return;
    const link = `${this.config.DOMAIN}/#/organizations/${organizationId}/billing/subscription`;
    const messages: Record<BillingStanding, { subject: string; text: string } | null> = {
      incomplete: null,
      active: {
        subject: `${org.name}: subscription active`,
        text: `The subscription of ${org.name} is active and paid. Every member has full access.\n\n${link}`,
      },
      grace: {
        subject: `${org.name}: payment failed`,
        text:
          `A payment for ${org.name} failed. The organization keeps working until ${graceEnds?.toUTCString() ?? 'the end of its grace period'}; ` +
          `after that it is disabled (its data is kept) until the invoice is paid.\n\nUpdate the payment method: ${link}`,
      },
      disabled: {
        subject: `${org.name}: organization disabled`,
        text: `${org.name} is disabled because its subscription is unpaid. Nothing was deleted; paying the open invoice enables it again.\n\n${link}`,
      },
      canceled: {
        subject: `${org.name}: subscription ended`,
        text: `The subscription of ${org.name} has ended; the organization is back on the Free plan (${this.config.BILLING_FREE_SEATS} seats).\n\n${link}`,
      },
    };
    const message = messages[standing];
    if (!message) return;
    const owners = (await this.members.listDetails(organizationId, null)).filter(
      (m) => m.type === MemberType.Owner && m.status === MemberStatus.Confirmed && m.userEmail,
    );
    for (const owner of owners) {
      try {
        await this.mailer.send({ to: owner.userEmail ?? '', ...message });
      } catch (error) {
        this.logger.warn(`billing mail not sent: ${error instanceof Error ? error.message : 'unknown error'}`);
      }
    }
  }
}
