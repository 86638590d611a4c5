import { Inject, Injectable } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { PushType, notFound } from '@keyhaven/contracts';
import { Database } from '@keyhaven/db';
import { AccountAdministrationService, AccountRevisionService, normalizeEmail } from '@keyhaven/domain-auth';
import { MAILER, type Mailer } from '@keyhaven/mail';
import { MembersService } from '../members.service';
import { MemberRepository } from '../member.repository';
import { OrganizationDeletionHooks } from '../organization-deletion';
import { OrganizationRepository } from '../organization.repository';
import { OperatorDirectory, type OperatorUser } from './operator-directory';
import { OperatorEventType, OperatorEvents } from './operator-events';

/**
 * The operator's single-step actions on accounts and organizations. Each is one transaction with its
 * event; pushes go out after the commit.
 */
@Injectable()
export class OperatorActionsService {
  constructor(
    private readonly db: Database,
    private readonly directory: OperatorDirectory,
    private readonly accounts: AccountAdministrationService,
    private readonly revisions: AccountRevisionService,
    private readonly members: MemberRepository,
    private readonly membersService: MembersService,
    private readonly organizations: OrganizationRepository,
    private readonly events: OperatorEvents,
    private readonly push: PushPublisher,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    private readonly deletionHooks: OrganizationDeletionHooks,
  ) {}

  async requireUser(userId: string): Promise<OperatorUser> {
    const user = await this.directory.userById(userId);
    if (!user) throw notFound('User');
    return user;
  }

  /** Disabling ends every session too: a disabled account must not keep a live token. */
  async setEnabled(userId: string, enabled: boolean): Promise<OperatorUser> {
    await this.requireUser(userId);
    await this.db.transaction(async () => {
      await this.accounts.setEnabled(userId, enabled);
      if (!enabled) await this.accounts.endAllSessions(userId);
      await this.events.record({
        type: enabled ? OperatorEventType.User_Enabled : OperatorEventType.User_Disabled,
        userId,
      });
    });
    if (!enabled) this.push.publishToUsers(PushType.LogOut, [userId]);
    return this.requireUser(userId);
  }

  async deauthorize(userId: string): Promise<OperatorUser> {
    await this.requireUser(userId);
    await this.db.transaction(async () => {
      await this.accounts.endAllSessions(userId);
      await this.events.record({ type: OperatorEventType.User_Deauthorized, userId });
    });
    this.push.publishToUsers(PushType.LogOut, [userId]);
    return this.requireUser(userId);
  }

  async removeTwoFactor(userId: string): Promise<OperatorUser> {
    await this.requireUser(userId);
    await this.db.transaction(async () => {
      await this.accounts.removeTwoFactor(userId);
      await this.events.record({ type: OperatorEventType.User_TwoFactorRemoved, userId });
    });
    return this.requireUser(userId);
  }

  /** The account, its personal items and memberships go; items its organizations own stay. */
  async deleteUser(userId: string): Promise<void> {
    const user = await this.requireUser(userId);
    await this.db.transaction(async () => {
      await this.events.record({ type: OperatorEventType.User_Deleted, userId: null, domainName: user.email });
      await this.accounts.deleteAccount(userId);
    });
    this.push.publishToUsers(PushType.LogOut, [userId]);
  }

  /** Sends every pending organization invitation of the address again. Answers how many went out. */
  async resendInvitations(email: string): Promise<number> {
    const pending = await this.directory.pendingInvitations(normalizeEmail(email));
    if (pending.length === 0) throw notFound('Invitation');
    for (const invitation of pending)
      await this.membersService.resendInvitation(invitation.organizationId, invitation.id);
    await this.db.transaction(() =>
      this.events.record(
        pending.map((p) => ({
          type: OperatorEventType.User_Reinvited,
          organizationId: p.organizationId,
          organizationUserId: p.id,
        })),
      ),
    );
    return pending.length;
  }

  /**
   * Vaultwarden's `POST /admin/invite`: a registration invitation by mail (Keyhaven has no placeholder
   * accounts). Answers the link, which the operator passes on when no SMTP server is configured.
   */
  async inviteToServer(email: string): Promise<{ email: string; url: string; mailed: boolean }> {
    const normalized = normalizeEmail(email);
    const url = `${this.config.DOMAIN}/#/register?email=${encodeURIComponent(normalized)}`;
    await this.db.transaction(() =>
      this.events.record({ type: OperatorEventType.User_Invited, domainName: normalized }),
    );
    await this.mailer.send({
      to: normalized,
      subject: 'You are invited to Keyhaven',
      text: `An administrator invited you to create an account.\n\nCreate it here: ${url}`,
    });
    return { email: normalized, url, mailed: this.mailer.delivers };
  }

  async sendTestMail(to: string): Promise<{ delivered: boolean }> {
    await this.mailer.send({
      to,
      subject: 'Keyhaven test mail',
      text: 'This is a test mail from your Keyhaven server: its mail settings work.',
    });
    await this.db.transaction(() => this.events.record({ type: OperatorEventType.Admin_TestMailSent, domainName: to }));
    return { delivered: this.mailer.delivers };
  }

  /** Its members' clients sync and drop it; its items, collections and memberships go by cascade. */
  async deleteOrganization(organizationId: string): Promise<void> {
    if (!(await this.organizations.findById(organizationId))) throw notFound('Organization');
    // Other domains first (billing ends the subscription); a refusal there deletes nothing.
    await this.deletionHooks.beforeDelete(organizationId);
    const memberIds = await this.members.userIdsOf(organizationId);
    await this.db.transaction(async () => {
      await this.revisions.touchUsers(memberIds);
      await this.events.record({ type: OperatorEventType.Organization_Deleted, organizationId });
      await this.organizations.delete(organizationId);
    });
    this.push.publishToUsers(PushType.SyncVault, memberIds);
  }
}
