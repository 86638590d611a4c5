import { Injectable } from '@nestjs/common';
import { badRequest } from '@keyhaven/contracts';
import { MemberType, PolicyRepository, PolicyType } from '@keyhaven/domain-admin-console';

/** The organization data ownership policy: members it applies to keep items in the organization only. */
@Injectable()
export class PersonalOwnership {
  constructor(private readonly policies: PolicyRepository) {}

  async assertAllowed(userId: string): Promise<void> {
    const policies = await this.policies.enabledForUser(userId);
    if (
      policies.some(
        (p) =>
          p.type === PolicyType.OrganizationDataOwnership &&
          p.memberType !== MemberType.Owner &&
          p.memberType !== MemberType.Admin,
      )
    ) {
      throw badRequest('Due to an Enterprise Policy, you are restricted from saving items to your personal vault.');
    }
  }
}
