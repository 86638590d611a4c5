import { Injectable } from '@nestjs/common';
import { notFound } from '@keyhaven/contracts';
import type { AccessSelection } from '../collection.repository';
import { MemberRepository, type MemberDetails } from '../member.repository';

/** A member as the admin lists show it: account details, direct collection access and groups. */
export interface MemberWithAccess {
  readonly member: MemberDetails;
  readonly collections: AccessSelection[];
  readonly groups: string[];
}

/** Reading members: the admin lists, one member, their groups, and the public keys to confirm them with. */
@Injectable()
export class MemberListingService {
  constructor(private readonly members: MemberRepository) {}

  /** Every member with account details, collections and groups: three queries whatever the size. */
  async listWithAccess(organizationId: string, memberIds: string[] | null = null): Promise<MemberWithAccess[]> {
    const [details, collections, groups] = await Promise.all([
      this.members.listDetails(organizationId, memberIds),
      this.members.collectionsByMember(organizationId, memberIds),
      this.members.groupsByMember(organizationId, memberIds),
    ]);
    return details.map((member) => ({
      member,
      collections: collections.get(member.id) ?? [],
      groups: groups.get(member.id) ?? [],
    }));
  }

  async getWithAccess(organizationId: string, memberId: string): Promise<MemberWithAccess> {
    const [found] = await this.listWithAccess(organizationId, [memberId]);
    if (!found) throw notFound('Member');
    return found;
  }

  async groupIds(organizationId: string, memberId: string): Promise<string[]> {
    if (!(await this.members.findInOrg(organizationId, memberId))) throw notFound('Member');
    return this.members.groupsOf(memberId);
  }

  async publicKeys(organizationId: string, ids: string[]): Promise<{ id: string; userId: string; key: string }[]> {
    const details = await this.members.listDetails(organizationId, ids);
    return details
      .filter((m) => ids.includes(m.id) && m.userId && m.publicKey)
      .map((m) => ({ id: m.id, userId: m.userId ?? '', key: m.publicKey ?? '' }));
  }
}
