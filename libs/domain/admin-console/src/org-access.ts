import { Injectable } from '@nestjs/common';
import { notFound } from '@keyhaven/contracts';
import type { OrgMembershipLookup, OrgPermissionName } from '@keyhaven/platform-auth';
import { MemberRepository } from './member.repository';
import { allows, type Membership, type Need } from './membership';

/**
 * The check every org-scoped route passes: a confirmed membership with the role or Custom flag the
 * action needs. Anything less answers 404, exactly like an organization that does not exist.
 * `@OrgPermission(...)` routes reach it through `membershipFor` (ORG_MEMBERSHIP_LOOKUP).
 */
@Injectable()
export class OrgAccess implements OrgMembershipLookup {
  constructor(private readonly members: MemberRepository) {}

  async require(organizationId: string, userId: string, ...needs: Need[]): Promise<Membership> {
    const membership = await this.find(organizationId, userId, ...needs);
    if (!membership) throw this.denied();
    return membership;
  }

  /** Like require, but returns null instead of throwing. */
  async find(organizationId: string, userId: string, ...needs: Need[]): Promise<Membership | null> {
    const membership = await this.members.findByUser(organizationId, userId);
    if (!membership || !(needs.length === 0 ? allows(membership, 'member') : needs.some((n) => allows(membership, n))))
      return null;
    return membership;
  }

  membershipFor(
    organizationId: string,
    userId: string,
    needs: readonly OrgPermissionName[],
  ): Promise<Membership | null> {
    return this.find(organizationId, userId, ...needs);
  }

  denied(): Error {
    return notFound('Organization');
  }
}
