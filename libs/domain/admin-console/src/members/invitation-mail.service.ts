import { Inject, Injectable, Logger } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { AccessTokens } from '@keyhaven/domain-auth';
import { MAILER, type Mailer } from '@keyhaven/mail';

const INVITE_LIFETIME_S = 5 * 24 * 3600;

export interface InviteResult {
  readonly id: string;
  readonly email: string;
  /** Set when mail is not delivered: the admin passes the link on. */
  readonly inviteUrl: string | null;
}

/** The invitation link (a signed, 5-day token) and its mail; the admin gets the link when mail is not delivered. */
@Injectable()
export class InvitationMail {
  private readonly logger = new Logger('members');

  constructor(
    private readonly tokens: AccessTokens,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  async send(organizationId: string, organizationName: string, memberId: string, email: string): Promise<InviteResult> {
    const token = await this.tokens.signPurpose('org-invite', { organizationId, memberId, email }, INVITE_LIFETIME_S);
    const params = new URLSearchParams({
      organizationId,
      organizationUserId: memberId,
      email,
      organizationName,
      token,
    });
    const url = `${this.config.DOMAIN}/#/accept-organization?${params.toString()}`;
    const message = {
      to: email,
      subject: `Join ${organizationName} on Keyhaven`,
      text: `You have been invited to join ${organizationName}.\n\nAccept the invitation: ${url}\n\nThe link is valid for 5 days and works once.`,
    };
    let delivered = false;
    try {
      await this.mailer.send(message);
      delivered = this.mailer.delivers;
    } catch (error) {
      // The member is saved either way; an undelivered invitation falls back to the link for the admin.
      this.logger.warn(`invitation mail not sent: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
    return { id: memberId, email, inviteUrl: delivered ? null : url };
  }
}
