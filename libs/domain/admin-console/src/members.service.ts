import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, EventRecorder } from '@keyhaven/db';
import { badRequest, isWellFormedEncString, notFound, guid, opaqueJsonObject } from '@keyhaven/contracts';
import {
  AccessTokens,
  AccountsService,
  AccountRevisionService,
  UserRepository,
  normalizeEmail,
} from '@keyhaven/domain-auth';
import { MAILER, type Mailer } from '@keyhaven/mail';
import { PushPublisher } from '@keyhaven/bus';
import { EventType, PushType } from '@keyhaven/contracts';
import { MemberStatus, MemberType, PolicyType, normalizePermissions } from './enums';
import { AccountRecoveryService } from './account-recovery/account-recovery.service';
import { GrantRules } from './grant-rules';
import type { AccessSelection } from './collection.repository';
import { MemberRepository, type MemberDetails } from './member.repository';
import { allows, type Membership } from './membership';
import { OrganizationRepository } from './organization.repository';
import { OrganizationsService, SINGLE_ORG_ELSEWHERE } from './organizations.service';
import { PolicyRepository } from './policy.repository';
import { SEAT_LIMIT, type SeatLimit } from './seat-limit';

const INVITE_LIFETIME_S = 5 * 24 * 3600;

const accessSelection = z.object({
  id: guid,
  readOnly: z.boolean().default(false),
  hidePasswords: z.boolean().default(false),
  manage: z.boolean().default(false),
});
const memberType = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(4)]);

export const inviteSchema = z.object({
  emails: z.array(z.email().max(256)).min(1).max(100),
  type: memberType,
  permissions: opaqueJsonObject().nullish(),
  collections: z.array(accessSelection).default([]),
  groups: z.array(guid).default([]),
});

export const updateMemberSchema = z.object({
  type: memberType,
  permissions: opaqueJsonObject().nullish(),
  collections: z.array(accessSelection).nullish(),
  groups: z.array(guid).nullish(),
});

const rsaEnc = z
  .string()
  .refine((v) => isWellFormedEncString(v) && /^[346]\./.test(v), { message: 'must be an RSA-encrypted key' });
export const confirmSchema = z.object({ key: rsaEnc });
export const bulkConfirmSchema = z.object({
  keys: z
    .array(z.object({ id: guid, key: rsaEnc }))
    .min(1)
    .max(500),
});
export const acceptSchema = z.object({ token: z.string().min(1).max(4000), resetPasswordKey: z.string().nullish() });
export const idsSchema = z.object({ ids: z.array(guid).min(1).max(500) });

/** A member as the admin lists show it: account details, direct collection access and groups. */
export interface MemberWithAccess {
  readonly member: MemberDetails;
  readonly collections: AccessSelection[];
  readonly groups: string[];
}

/** Who one invitation call adds, with the same role, collections and groups for all. */
export interface InvitationSpec {
  readonly type: 0 | 1 | 2 | 4;
  readonly permissions?: Record<string, unknown> | null;
  readonly collections: readonly AccessSelection[];
  readonly groups: readonly string[];
}

export interface InviteResult {
  readonly id: string;
  readonly email: string;
  /** Set when mail is not delivered: the admin passes the link on. */
  readonly inviteUrl: string | null;
}

/** Membership lifecycle: invite → accept → confirm, role changes, revoke/restore, removal. */
@Injectable()
export class MembersService {
  private readonly logger = new Logger('members');

  constructor(
    private readonly db: Database,
    private readonly members: MemberRepository,
    private readonly organizations: OrganizationRepository,
    private readonly orgService: OrganizationsService,
    private readonly policies: PolicyRepository,
    private readonly users: UserRepository,
    private readonly revisions: AccountRevisionService,
    private readonly tokens: AccessTokens,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    private readonly push: PushPublisher,
    private readonly grants: GrantRules,
    private readonly accounts: AccountsService,
    private readonly recovery: AccountRecoveryService,
    private readonly events: EventRecorder,
    @Inject(SEAT_LIMIT) private readonly seatLimit: SeatLimit,
  ) {}

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

  /** One invitation with an external id (the public API): the new member as the lists show it. */
  async inviteOne(
    actor: Membership,
    body: InvitationSpec & { email: string; externalId?: string | null },
  ): Promise<MemberWithAccess> {
    const [invited] = await this.db.transaction(() =>
      this.insertInvitations(actor, body, [{ email: normalizeEmail(body.email), externalId: body.externalId ?? null }]),
    );
    if (!invited) throw notFound('Member');
    await this.sendInvites(actor.organizationId, [invited]);
    return this.getWithAccess(actor.organizationId, invited.id);
  }

  /** Members whose access changed re-sync their organization keys and memberships. */
  private pushOrgKeys(members: Membership[]): void {
    this.push.publishToUsers(
      PushType.SyncOrgKeys,
      members.flatMap((m) => (m.userId ? [m.userId] : [])),
    );
  }

  /** Only owners grant or touch the owner role; a Custom manager cannot make admins. */
  private assertMayManageRole(actor: Membership, targetType: number, currentType?: number): void {
    const involvesOwner = targetType === MemberType.Owner || currentType === MemberType.Owner;
    if (involvesOwner && !allows(actor, 'owner')) throw notFound('Organization');
    const involvesAdmin =
      targetType === MemberType.Admin ||
      targetType === MemberType.Custom ||
      currentType === MemberType.Admin ||
      currentType === MemberType.Custom;
    if (involvesAdmin && !allows(actor, 'admin')) throw notFound('Organization');
  }

  async invite(actor: Membership, body: z.infer<typeof inviteSchema>): Promise<InviteResult[]> {
    const invited = await this.db.transaction(() => this.insertInvites(actor, body));
    return this.sendInvites(actor.organizationId, invited);
  }

  /**
   * The database half of an invitation, inside the caller's transaction; `sendInvites` after commit
   * delivers them. The same address twice counts once.
   */
  async insertInvites(actor: Membership, body: z.infer<typeof inviteSchema>): Promise<{ id: string; email: string }[]> {
    const emails = [...new Set(body.emails.map(normalizeEmail))];
    return this.insertInvitations(
      actor,
      body,
      emails.map((email) => ({ email, externalId: null })),
    );
  }

  /**
   * Invites every address (already normalised) with the same role, collections and groups, in a
   * number of statements that does not grow with the list (the directory import sends thousands).
   * An address that is already a member, already invited, or listed twice refuses the whole call.
   */
  async insertInvitations(
    actor: Membership,
    spec: InvitationSpec,
    invitees: readonly { email: string; externalId: string | null }[],
  ): Promise<{ id: string; email: string }[]> {
    this.assertMayManageRole(actor, spec.type);
    await this.grants.assertMayGrantCollections(
      actor,
      spec.collections.map((c) => c.id),
    );
    this.grants.assertMayAssignGroups(actor, [...spec.groups]);
    if (invitees.length === 0) return [];
    const orgId = actor.organizationId;
    if (!(await this.organizations.findById(orgId))) throw notFound('Organization');
    await this.seatLimit.assertRoomFor(orgId, invitees.length);
    const seen = new Set<string>();
    for (const { email } of invitees) {
      if (seen.has(email)) throw badRequest(`${email} is already a member of this organization.`);
      seen.add(email);
    }
    const [taken] = await this.members.findByEmails(
      orgId,
      invitees.map((i) => i.email),
    );
    if (taken) throw badRequest(`${taken.email} is already a member of this organization.`);
    const inserted = await this.members.insertInvitations(
      orgId,
      spec.type,
      spec.type === MemberType.Custom ? normalizePermissions(spec.permissions) : null,
      invitees,
    );
    if (inserted.length < invitees.length) {
      const done = new Set(inserted.map((m) => m.email));
      const skipped = invitees.find((i) => !done.has(i.email));
      throw badRequest(`${skipped?.email ?? 'An address'} is already invited.`);
    }
    await this.members.grantToMany(
      orgId,
      inserted.map((m) => m.id),
      spec.collections,
      spec.groups,
    );
    await this.events.record(
      inserted.map((m) => ({
        type: EventType.OrganizationUser_Invited,
        organizationId: orgId,
        organizationUserId: m.id,
      })),
    );
    // In the order asked for (RETURNING does not promise one).
    const idByEmail = new Map(inserted.map((m) => [m.email, m.id]));
    return invitees.map((i) => ({ id: idByEmail.get(i.email) ?? '', email: i.email }));
  }

  async sendInvites(organizationId: string, invited: { id: string; email: string }[]): Promise<InviteResult[]> {
    const org = await this.organizations.findById(organizationId);
    if (!org) throw notFound('Organization');
    return Promise.all(invited.map((m) => this.sendInvite(org.id, org.name, m.id, m.email)));
  }

  async reinvite(actor: Membership, ids: string[]): Promise<InviteResult[]> {
    const org = await this.organizations.findById(actor.organizationId);
    if (!org) throw notFound('Organization');
    const pending = (await this.members.findManyInOrg(actor.organizationId, ids)).filter(
      (m) => m.status === MemberStatus.Invited && m.email,
    );
    if (pending.length === 0) throw notFound('Member');
    for (const member of pending) this.assertMayManageRole(actor, member.type, member.type);
    return Promise.all(pending.map((m) => this.sendInvite(org.id, org.name, m.id, m.email ?? '')));
  }

  /** The operator (admin portal, CLI) sends an invitation again: no acting member, any organization. */
  async resendInvitation(organizationId: string, memberId: string): Promise<InviteResult> {
    const org = await this.organizations.findById(organizationId);
    const member = await this.members.findInOrg(organizationId, memberId);
    if (!org || member?.status !== MemberStatus.Invited || !member.email) throw notFound('Member');
    return this.sendInvite(org.id, org.name, member.id, member.email);
  }

  private async sendInvite(
    organizationId: string,
    organizationName: string,
    memberId: string,
    email: string,
  ): Promise<InviteResult> {
    const token = await this.tokens.signPurpose('org-invite', { organizationId, memberId, email }, INVITE_LIFETIME_S);
    const params = new URLSearchParams({
      organizationId,
      organizationUserId: memberId,
      email,
      organizationName,
      token,
    });
    const url = `${this.config.DOMAIN}/#/accept-organization?${params.toString()}`;
    const message = {
      to: email,
      subject: `Join ${organizationName} on Keyhaven`,
      text: `You have been invited to join ${organizationName}.\n\nAccept the invitation: ${url}\n\nThe link is valid for 5 days and works once.`,
    };
    let delivered = false;
    try {
      await this.mailer.send(message);
      delivered = this.mailer.delivers;
    } catch (error) {
      // The member is saved either way; an undelivered invitation falls back to the link for the admin.
      this.logger.warn(`invitation mail not sent: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
    return { id: memberId, email, inviteUrl: delivered ? null : url };
  }

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
      const blocked = await this.policyBlocks(orgId, [...targets.values()]);
      const results: { id: string; error: string }[] = [];
      const accepted: { id: string; key: string }[] = [];
      const confirmed: Membership[] = [];
      for (const { id, key } of keys) {
        const member = targets.get(id);
        try {
          if (!member || member.status !== MemberStatus.Accepted || !member.userId)
            throw badRequest('The member has not accepted the invitation yet.');
          this.assertMayManageRole(actor, member.type, member.type);
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
      await this.revisions.touchUsers(confirmed.flatMap((m) => (m.userId ? [m.userId] : [])));
      return { results, confirmed };
    });
    this.pushOrgKeys(confirmed);
    return results;
  }

  /** The public API's update: role, access and (when given) the external id; the member as the lists show it. */
  async updateWithExternalId(
    actor: Membership,
    memberId: string,
    body: z.infer<typeof updateMemberSchema> & { externalId?: string | null },
  ): Promise<MemberWithAccess> {
    await this.update(actor, memberId, body, body.externalId);
    return this.getWithAccess(actor.organizationId, memberId);
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
    this.assertMayManageRole(actor, body.type, member.type);
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
    this.pushOrgKeys([member]);
  }

  async revoke(actor: Membership, ids: string[], reason: string | null = null): Promise<void> {
    const targets = await this.members.findManyInOrg(actor.organizationId, ids);
    if (targets.length === 0) throw notFound('Member');
    for (const member of targets) {
      if (member.id === actor.id) throw badRequest('You cannot revoke yourself.');
      this.assertMayManageRole(actor, member.type, member.type);
    }
    await this.db.transaction(async () => {
      await this.members.setStatuses(
        actor.organizationId,
        targets.map((m) => ({ id: m.id, status: MemberStatus.Revoked, revokedReason: reason })),
      );
      await this.revisions.touchUsers(targets.flatMap((m) => (m.userId ? [m.userId] : [])));
      await this.recordForEach(EventType.OrganizationUser_Revoked, actor.organizationId, targets);
    });
    this.pushOrgKeys(targets);
  }

  /** A restored member returns to where they were: invited, accepted, or confirmed (with their key). */
  async restore(actor: Membership, ids: string[]): Promise<void> {
    const targets = (await this.members.findManyInOrg(actor.organizationId, ids)).filter(
      (m) => m.status === MemberStatus.Revoked,
    );
    if (targets.length === 0) throw notFound('Member');
    const blocked = await this.policyBlocks(actor.organizationId, targets);
    for (const member of targets) {
      this.assertMayManageRole(actor, member.type, member.type);
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
      await this.revisions.touchUsers(targets.flatMap((m) => (m.userId ? [m.userId] : [])));
      await this.recordForEach(EventType.OrganizationUser_Restored, actor.organizationId, targets);
    });
    this.pushOrgKeys(targets);
  }

  async remove(actor: Membership, ids: string[]): Promise<void> {
    const targets = await this.members.findManyInOrg(actor.organizationId, ids);
    if (targets.length === 0) throw notFound('Member');
    for (const member of targets) this.assertMayManageRole(actor, member.type, member.type);
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
      await this.revisions.touchUsers(targets.flatMap((m) => (m.userId ? [m.userId] : [])));
      await this.recordForEach(EventType.OrganizationUser_Removed, actor.organizationId, targets);
    });
    this.pushOrgKeys(targets);
  }

  /** One event per member, in one insert, in the caller's transaction. */
  private recordForEach(type: EventType, organizationId: string, members: readonly Membership[]): Promise<void> {
    return this.events.record(members.map((m) => ({ type, organizationId, organizationUserId: m.id })));
  }

  /**
   * What confirming or restoring members must respect, for many at once (a fixed number of
   * queries): this org's two-step and single-org policies, and the single-org policies of each
   * member's other organizations. Owners and admins are exempt. The refusal reason by member id.
   */
  private async policyBlocks(organizationId: string, members: readonly Membership[]): Promise<Map<string, string>> {
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

  async publicKeys(organizationId: string, ids: string[]): Promise<{ id: string; userId: string; key: string }[]> {
    const details = await this.members.listDetails(organizationId, ids);
    return details
      .filter((m) => ids.includes(m.id) && m.userId && m.publicKey)
      .map((m) => ({ id: m.id, userId: m.userId ?? '', key: m.publicKey ?? '' }));
  }
}
