import { Injectable } from '@nestjs/common';
import { MemberStatus, MemberType, PolicyType } from '../enums';
import { MemberRepository } from '../member.repository';
import { type Membership } from '../membership';
import { SINGLE_ORG_ELSEWHERE } from '../organizations.service';
import { PolicyRepository } from '../policy.repository';

/** The policies that may keep a member from being confirmed or restored. */
@Injectable()
export class MemberPolicyBlocks {
  constructor(
    private readonly members: MemberRepository,
    private readonly policies: PolicyRepository,
  ) {}

  /**
   * What confirming or restoring members must respect, for many at once (a fixed number of
   * queries): this org's two-step and single-org policies, and the single-org policies of each
   * member's other organizations. Owners and admins are exempt. The refusal reason by member id.
   */
  async reasons(organizationId: string, members: readonly Membership[]): Promise<Map<string, string>> {
    const subject = members.filter(
      (m) => m.userId !== null && m.type !== MemberType.Owner && m.type !== MemberType.Admin,
    );
    const blocked = new Map<string, string>();
    if (subject.length === 0) return blocked;
    const userIds = subject.map((m) => m.userId ?? '');
    // One after another: inside a transaction they share one connection.
    const policies = await this.policies.listForOrg(organizationId);
    const details = await this.members.listDetails(
      organizationId,
      subject.map((m) => m.id),
    );
    const memberships = await this.members.listForUsers(userIds);
    const elsewhere = await this.policies.enabledForUsers(userIds, true);
    const enabled = (type: number): boolean => policies.some((p) => p.type === type && p.enabled);
    const twoFactor = new Map(details.map((d) => [d.id, d.twoFactorEnabled]));
    for (const member of subject) {
      const userId = member.userId ?? '';
      if (enabled(PolicyType.TwoFactorAuthentication) && twoFactor.get(member.id) !== true) {
        blocked.set(member.id, 'This member has not enabled two-step login, which the organization requires.');
      } else if (
        enabled(PolicyType.SingleOrg) &&
        memberships.some(
          (m) => m.userId === userId && m.organizationId !== organizationId && m.status !== MemberStatus.Revoked,
        )
      ) {
        blocked.set(
          member.id,
          'This member belongs to another organization, which the Single Organization policy does not allow.',
        );
      } else if (
        elsewhere.some(
          (p) =>
            p.userId === userId &&
            p.type === PolicyType.SingleOrg &&
            p.organizationId !== organizationId &&
            p.memberType !== MemberType.Owner &&
            p.memberType !== MemberType.Admin,
        )
      ) {
        blocked.set(member.id, SINGLE_ORG_ELSEWHERE);
      }
    }
    return blocked;
  }
}
