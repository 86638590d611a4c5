import { Inject, Injectable } from '@nestjs/common';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, badRequest, notFound } from '@keyhaven/contracts';
import { PushPublisher } from '@keyhaven/bus';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { MemberStatus, MemberType } from '../enums';
import { MemberRepository } from '../member.repository';
import { type Membership } from '../membership';
import { SEAT_LIMIT, type SeatLimit } from '../seat-limit';
import { assertMayManageRole, pushOrgKeys, recordForEach, userIdsOf } from './member-changes';
import { MemberPolicyBlocks } from './member-policy-blocks.service';

/** Taking members out: revoking (reversible), restoring, and removing. */
@Injectable()
export class MemberStatusService {
  constructor(
    private readonly db: Database,
    private readonly members: MemberRepository,
    private readonly revisions: AccountRevisionService,
    private readonly push: PushPublisher,
    private readonly events: EventRecorder,
    @Inject(SEAT_LIMIT) private readonly seatLimit: SeatLimit,
    private readonly policyBlocks: MemberPolicyBlocks,
  ) {}

  async revoke(actor: Membership, ids: string[], reason: string | null = null): Promise<void> {
    const targets = await this.members.findManyInOrg(actor.organizationId, ids);
    if (targets.length === 0) throw notFound('Member');
    for (const member of targets) {
      if (member.id === actor.id) throw badRequest('You cannot revoke yourself.');
      assertMayManageRole(actor, member.type, member.type);
    }
    await this.db.transaction(async () => {
      await this.members.setStatuses(
        actor.organizationId,
        targets.map((m) => ({ id: m.id, status: MemberStatus.Revoked, revokedReason: reason })),
      );
      await this.revisions.touchUsers(userIdsOf(targets));
      await recordForEach(this.events, EventType.OrganizationUser_Revoked, actor.organizationId, targets);
    });
    pushOrgKeys(this.push, targets);
  }

  /** A restored member returns to where they were: invited, accepted, or confirmed (with their key). */
  async restore(actor: Membership, ids: string[]): Promise<void> {
    const targets = (await this.members.findManyInOrg(actor.organizationId, ids)).filter(
      (m) => m.status === MemberStatus.Revoked,
    );
    if (targets.length === 0) throw notFound('Member');
    const blocked = await this.policyBlocks.reasons(actor.organizationId, targets);
    for (const member of targets) {
      assertMayManageRole(actor, member.type, member.type);
      const reason = blocked.get(member.id);
      if (reason) throw badRequest(reason);
    }
    await this.db.transaction(async () => {
      // In the transaction: the check locks the organization until the statuses are written.
      await this.seatLimit.assertRoomFor(actor.organizationId, targets.length);
      await this.members.setStatuses(
        actor.organizationId,
        targets.map((member) => ({
          id: member.id,
          status: !member.userId ? MemberStatus.Invited : member.key ? MemberStatus.Confirmed : MemberStatus.Accepted,
          revokedReason: null,
        })),
      );
      await this.revisions.touchUsers(userIdsOf(targets));
      await recordForEach(this.events, EventType.OrganizationUser_Restored, actor.organizationId, targets);
    });
    pushOrgKeys(this.push, targets);
  }

  async remove(actor: Membership, ids: string[]): Promise<void> {
    const targets = await this.members.findManyInOrg(actor.organizationId, ids);
    if (targets.length === 0) throw notFound('Member');
    for (const member of targets) assertMayManageRole(actor, member.type, member.type);
    const removingOwners = targets.filter(
      (m) => m.type === MemberType.Owner && m.status === MemberStatus.Confirmed,
    ).length;
    if (removingOwners > 0 && (await this.members.countOwners(actor.organizationId)) - removingOwners < 1) {
      throw badRequest('An organization needs at least one owner.');
    }
    await this.db.transaction(async () => {
      await this.members.delete(
        actor.organizationId,
        targets.map((m) => m.id),
      );
      await this.revisions.touchUsers(userIdsOf(targets));
      await recordForEach(this.events, EventType.OrganizationUser_Removed, actor.organizationId, targets);
    });
    pushOrgKeys(this.push, targets);
  }
}
