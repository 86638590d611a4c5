import { Injectable } from '@nestjs/common';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, badRequest } from '@keyhaven/contracts';
import { PushPublisher } from '@keyhaven/bus';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { MemberStatus } from '../enums';
import { MemberRepository } from '../member.repository';
import { type Membership } from '../membership';
import { assertMayManageRole, pushOrgKeys, userIdsOf } from './member-changes';
import { MemberPolicyBlocks } from './member-policy-blocks.service';

/** The admin's half of joining: confirming accepted members with the organization key wrapped for each. */
@Injectable()
export class MemberConfirmationsService {
  constructor(
    private readonly db: Database,
    private readonly members: MemberRepository,
    private readonly revisions: AccountRevisionService,
    private readonly push: PushPublisher,
    private readonly events: EventRecorder,
    private readonly policyBlocks: MemberPolicyBlocks,
  ) {}

  /** The admin's client wrapped the org key with the member's public key; the server stores it. */
  async confirm(actor: Membership, memberId: string, key: string): Promise<void> {
    const [result] = await this.confirmMany(actor, [{ id: memberId, key }]);
    if (result?.error) throw badRequest(result.error);
  }

  /**
   * Confirms each accepted member with its key, in one transaction and a fixed number of
   * statements; every id gets its own answer (empty error: confirmed), as the clients expect.
   */
  async confirmMany(actor: Membership, keys: { id: string; key: string }[]): Promise<{ id: string; error: string }[]> {
    const orgId = actor.organizationId;
    const { results, confirmed } = await this.db.transaction(async () => {
      const targets = new Map(
        (await this.members.findManyInOrg(orgId, [...new Set(keys.map((k) => k.id))])).map((m) => [m.id, m]),
      );
      const blocked = await this.policyBlocks.reasons(orgId, [...targets.values()]);
      const results: { id: string; error: string }[] = [];
      const accepted: { id: string; key: string }[] = [];
      const confirmed: Membership[] = [];
      for (const { id, key } of keys) {
        const member = targets.get(id);
        try {
          if (!member || member.status !== MemberStatus.Accepted || !member.userId)
            throw badRequest('The member has not accepted the invitation yet.');
          assertMayManageRole(actor, member.type, member.type);
          const reason = blocked.get(member.id);
          if (reason) throw badRequest(reason);
          // Listed twice: the second one finds the member confirmed already.
          targets.delete(id);
          accepted.push({ id, key });
          confirmed.push(member);
          results.push({ id, error: '' });
        } catch (error) {
          results.push({ id, error: error instanceof Error ? error.message : 'failed' });
        }
      }
      await this.members.confirmMany(orgId, accepted);
      await this.events.record(
        accepted.map((a) => ({
          type: EventType.OrganizationUser_Confirmed,
          organizationId: orgId,
          organizationUserId: a.id,
        })),
      );
      await this.revisions.touchUsers(userIdsOf(confirmed));
      return { results, confirmed };
    });
    pushOrgKeys(this.push, confirmed);
    return results;
  }
}
