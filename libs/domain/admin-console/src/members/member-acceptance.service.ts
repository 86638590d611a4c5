import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { badRequest } from '@keyhaven/contracts';
import { AccessTokens, AccountRevisionService, UserRepository } from '@keyhaven/domain-auth';
import { AccountRecoveryService } from '../account-recovery/account-recovery.service';
import { MemberStatus, MemberType, PolicyType } from '../enums';
import { MemberRepository } from '../member.repository';
import { OrganizationsService } from '../organizations.service';
import { PolicyRepository } from '../policy.repository';

/** The invited user's half of joining: accepting the invitation (the admin confirms afterwards). */
@Injectable()
export class MemberAcceptanceService {
  constructor(
    private readonly db: Database,
    private readonly members: MemberRepository,
    private readonly orgService: OrganizationsService,
    private readonly policies: PolicyRepository,
    private readonly users: UserRepository,
    private readonly revisions: AccountRevisionService,
    private readonly tokens: AccessTokens,
    private readonly recovery: AccountRecoveryService,
  ) {}

  /** The invited user, logged in, presents the token from the mail; it works once and for that email only. */
  /** With automatic account-recovery enrolment, the client sends the wrapped key with the acceptance. */
  async accept(
    organizationId: string,
    memberId: string,
    userId: string,
    token: string,
    resetPasswordKey?: string | null,
  ): Promise<void> {
    const claims = await this.tokens.verifyPurpose('org-invite', token);
    const user = await this.users.require(userId);
    if (
      !claims ||
      claims['organizationId'] !== organizationId ||
      claims['memberId'] !== memberId ||
      claims['email'] !== user.email
    ) {
      throw badRequest('This invitation is invalid or has expired.');
    }
    const member = await this.members.findInOrg(organizationId, memberId);
    if (!member || member.status !== MemberStatus.Invited) throw badRequest('This invitation has already been used.');
    if (await this.members.findByUser(organizationId, userId))
      throw badRequest('You are already a member of this organization.');
    await this.orgService.assertMayJoinAnother(userId, organizationId);
    const orgPolicies = await this.policies.listForOrg(organizationId);
    const enabled = (type: number): boolean => orgPolicies.some((p) => p.type === type && p.enabled);
    const exempt = member.type === MemberType.Owner || member.type === MemberType.Admin;
    if (enabled(PolicyType.TwoFactorAuthentication) && !user.twoFactorEnabled && !exempt) {
      throw badRequest('You cannot join this organization until you enable two-step login on your account.');
    }
    if (enabled(PolicyType.SingleOrg) && member.type !== MemberType.Owner && member.type !== MemberType.Admin) {
      const others = (await this.members.listForUser(userId)).filter(
        (m) => m.organizationId !== organizationId && m.status !== MemberStatus.Revoked,
      );
      if (others.length > 0)
        throw badRequest('You cannot join this organization because you are a member of another one.');
    }
    const recoveryKey = await this.recovery.keyForAcceptance(organizationId, resetPasswordKey);
    const updated = await this.db.transaction(async () => {
      const changed = await this.members.update(organizationId, memberId, {
        user_id: userId,
        email: null,
        status: MemberStatus.Accepted,
        ...(recoveryKey ? { reset_password_key: recoveryKey } : {}),
      });
      await this.revisions.touchUsers([userId]);
      return changed;
    });
    if (!updated) throw badRequest('This invitation has already been used.');
  }
}
