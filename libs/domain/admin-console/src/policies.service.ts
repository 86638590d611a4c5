import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { badRequest, opaqueJsonObject } from '@keyhaven/contracts';
import { MAILER, type Mailer } from '@keyhaven/mail';
import { PushPublisher } from '@keyhaven/bus';
import { EventType, PushType } from '@keyhaven/contracts';
import { Inject } from '@nestjs/common';
import { KNOWN_POLICY_TYPES, PolicyType } from './enums';
import { MemberRepository } from './member.repository';
import { PolicyRepository, type Policy } from './policy.repository';

export const policyRequestSchema = z.object({
  enabled: z.boolean(),
  data: opaqueJsonObject().nullish(),
});

const TWO_FACTOR_REASON =
  'The organization requires two-step login; enable it on your account and ask an admin to restore you.';
const SINGLE_ORG_REASON = 'The organization does not allow its members to belong to other organizations.';

/** Policies are stored for every type the clients know; the server enforces the ones it can. */
@Injectable()
export class PoliciesService {
  constructor(
    private readonly db: Database,
    private readonly policies: PolicyRepository,
    private readonly members: MemberRepository,
    @Inject(MAILER) private readonly mailer: Mailer,
    private readonly push: PushPublisher,
    private readonly revisions: AccountRevisionService,
    private readonly events: EventRecorder,
  ) {}

  /** Policy types as the clients number them; anything else is refused before it reaches the store. */
  assertKnownType(type: number): void {
    if (!KNOWN_POLICY_TYPES.includes(type)) throw badRequest('Unknown policy type.');
  }

  list(organizationId: string): Promise<Policy[]> {
    return this.policies.listForOrg(organizationId);
  }

  /** The stored policy of a known type, or null when it was never saved. */
  async find(organizationId: string, type: number): Promise<Policy | null> {
    this.assertKnownType(type);
    return this.policies.find(organizationId, type);
  }

  /** Like find, but a type never saved reads as its disabled default (without an id). */
  async get(organizationId: string, type: number): Promise<Omit<Policy, 'id'> & { readonly id: string | null }> {
    return (await this.find(organizationId, type)) ?? { id: null, organizationId, type, data: null, enabled: false };
  }

  /**
   * A member turned two-step login off: every organization whose policy requires it revokes them
   * (owners and admins are exempt), and they are told why.
   */
  async onTwoFactorDisabled(userId: string, email: string): Promise<void> {
    const affected = await this.db.transaction(async () => {
      const rows = await this.db.rows<{ id: string; organization_id: string }>(
        `UPDATE organization_user m SET status = -1, revoked_reason = $2, revision_date = $3
         FROM policy p
         WHERE m.user_id = $1 AND m.status IN (1, 2) AND m.type NOT IN (0, 1)
           AND p.organization_id = m.organization_id AND p.type = 0 AND p.enabled
         RETURNING m.id, m.organization_id`,
        [userId, TWO_FACTOR_REASON, new Date()],
      );
      if (rows.length > 0) await this.revisions.touchUsers([userId]);
      await this.events.record(
        rows.map((r) => ({
          type: EventType.OrganizationUser_Revoked_TwoFactorNonCompliance,
          organizationId: r.organization_id,
          organizationUserId: r.id,
        })),
      );
      return rows.length;
    });
    if (affected > 0)
      await this.mailer.send({ to: email, subject: 'Your organization access was revoked', text: TWO_FACTOR_REASON });
  }

  async save(organizationId: string, type: number, body: z.infer<typeof policyRequestSchema>): Promise<Policy> {
    this.assertKnownType(type);
    if (type === PolicyType.RequireSso && body.enabled) {
      const singleOrg = await this.policies.find(organizationId, PolicyType.SingleOrg);
      if (!singleOrg?.enabled) throw badRequest('Turn on the Single Organization policy before requiring SSO.');
    }
    if (type === PolicyType.SingleOrg && !body.enabled) {
      const sso = await this.policies.find(organizationId, PolicyType.RequireSso);
      if (sso?.enabled) throw badRequest('Turn off Require SSO before turning off Single Organization.');
    }
    // One statement revokes whoever the newly enabled policy excludes, whatever the organization's size.
    const { policy, revoked, reason } = await this.db.transaction(async () => {
      const saved = await this.policies.upsert(organizationId, type, body.enabled, body.data ?? null);
      await this.events.record({ type: EventType.Policy_Updated, organizationId, policyId: saved.id });
      const rule = !body.enabled
        ? null
        : type === PolicyType.TwoFactorAuthentication
          ? ({ rule: 'without-two-factor', reason: TWO_FACTOR_REASON } as const)
          : type === PolicyType.SingleOrg
            ? ({ rule: 'in-other-organizations', reason: SINGLE_ORG_REASON } as const)
            : null;
      if (!rule) return { policy: saved, revoked: [], reason: '' };
      const revoked = await this.members.revokeExcluded(organizationId, rule.rule, rule.reason);
      const revokedType =
        rule.rule === 'without-two-factor'
          ? EventType.OrganizationUser_Revoked_TwoFactorNonCompliance
          : EventType.OrganizationUser_Revoked_SingleOrganizationNonCompliance;
      await this.events.record(
        revoked.map((r) => ({ type: revokedType, organizationId, organizationUserId: r.memberId })),
      );
      // The revoked members' clients must sync to drop the organization.
      await this.revisions.touchUsers(revoked.map((r) => r.userId));
      return { policy: saved, revoked, reason: rule.reason };
    });
    this.push.publishToUsers(PushType.PolicyChanged, await this.members.userIdsOf(organizationId));
    for (const { email } of revoked) {
      await this.mailer.send({ to: email, subject: 'Your organization access was revoked', text: reason });
    }
    return policy;
  }
}
