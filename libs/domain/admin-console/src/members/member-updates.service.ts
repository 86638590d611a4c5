import { Injectable } from '@nestjs/common';
import { type z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, badRequest, notFound } from '@keyhaven/contracts';
import { PushPublisher } from '@keyhaven/bus';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { MemberType, normalizePermissions } from '../enums';
import { GrantRules } from '../grant-rules';
import { MemberRepository } from '../member.repository';
import { type Membership } from '../membership';
import { assertMayManageRole, pushOrgKeys } from './member-changes';
import { MemberListingService, type MemberWithAccess } from './member-listing.service';
import { type updateMemberSchema } from './member-schemas';

/** Changing a member's role, permissions, collections, groups or external id. */
@Injectable()
export class MemberUpdatesService {
  constructor(
    private readonly db: Database,
    private readonly members: MemberRepository,
    private readonly revisions: AccountRevisionService,
    private readonly push: PushPublisher,
    private readonly grants: GrantRules,
    private readonly events: EventRecorder,
    private readonly listing: MemberListingService,
  ) {}

  /** Replaces a member's groups, under the same rules as any member update. */
  async setGroups(actor: Membership, memberId: string, groupIds: string[]): Promise<void> {
    const member = await this.members.findInOrg(actor.organizationId, memberId);
    if (!member) throw notFound('Member');
    await this.update(actor, memberId, {
      type: member.type as 0 | 1 | 2 | 4,
      permissions: member.permissions,
      groups: groupIds,
    });
  }

  /** The public API's update: role, access and (when given) the external id; the member as the lists show it. */
  async updateWithExternalId(
    actor: Membership,
    memberId: string,
    body: z.infer<typeof updateMemberSchema> & { externalId?: string | null },
  ): Promise<MemberWithAccess> {
    await this.update(actor, memberId, body, body.externalId);
    return this.listing.getWithAccess(actor.organizationId, memberId);
  }

  /** `externalId` undefined leaves it as it is. */
  async update(
    actor: Membership,
    memberId: string,
    body: z.infer<typeof updateMemberSchema>,
    externalId?: string | null,
  ): Promise<void> {
    const member = await this.members.findInOrg(actor.organizationId, memberId);
    if (!member) throw notFound('Member');
    assertMayManageRole(actor, body.type, member.type);
    this.grants.assertNotSelf(actor, [memberId]);
    if (body.collections)
      await this.grants.assertMayGrantCollections(
        actor,
        body.collections.map((c) => c.id),
      );
    if (body.groups) this.grants.assertMayAssignGroups(actor, body.groups);
    if (
      member.type === MemberType.Owner &&
      body.type !== MemberType.Owner &&
      (await this.members.countOwners(actor.organizationId)) <= 1
    ) {
      throw badRequest('An organization needs at least one owner.');
    }
    await this.db.transaction(async () => {
      await this.members.update(actor.organizationId, memberId, {
        type: body.type,
        permissions: body.type === MemberType.Custom ? JSON.stringify(normalizePermissions(body.permissions)) : null,
        ...(externalId !== undefined ? { external_id: externalId } : {}),
      });
      if (body.collections)
        await this.members.setCollections(
          actor.organizationId,
          memberId,
          await this.grants.keepUnmanaged(actor, await this.members.collectionsOf(memberId), body.collections),
        );
      if (body.groups) await this.members.setGroups(actor.organizationId, memberId, body.groups);
      if (member.userId) await this.revisions.touchUsers([member.userId]);
      const changed = { organizationId: actor.organizationId, organizationUserId: memberId };
      await this.events.record([
        { type: EventType.OrganizationUser_Updated, ...changed },
        ...(body.groups ? [{ type: EventType.OrganizationUser_UpdatedGroups, ...changed }] : []),
      ]);
    });
    pushOrgKeys(this.push, [member]);
  }
}
