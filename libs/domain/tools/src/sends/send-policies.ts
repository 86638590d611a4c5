import { Injectable } from '@nestjs/common';
import { badRequest } from '@keyhaven/contracts';
import { MemberType, PolicyRepository, PolicyType } from '@keyhaven/domain-admin-console';

/**
 * Disable Send (6) and Send Options (7), enforced on create and edit (deleting is always allowed).
 * As in Bitwarden, owners and admins are exempt, and so are invited and revoked members: accepted
 * and confirmed memberships count.
 */
@Injectable()
export class SendPolicies {
  constructor(private readonly policies: PolicyRepository) {}

  async assertAllowed(userId: string, hideEmail: boolean): Promise<void> {
    const applying = (await this.policies.enabledForUser(userId, true)).filter(
      (p) => p.memberType !== MemberType.Owner && p.memberType !== MemberType.Admin,
    );
    if (applying.some((p) => p.type === PolicyType.DisableSend))
      throw badRequest('Due to an Enterprise Policy, you are only able to delete an existing Send.');
    if (hideEmail && applying.some((p) => p.type === PolicyType.SendOptions && p.data?.['disableHideEmail'] === true))
      throw badRequest(
        'Due to an Enterprise Policy, you are not allowed to hide your email address from recipients when creating or editing a Send.',
      );
  }
}
