import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database } from '@keyhaven/db';
import { badRequest, isWellFormedEncString, notFound, guid } from '@keyhaven/contracts';
import { AccessTokens, UserRepository, normalizeEmail } from '@keyhaven/domain-auth';
import { MAILER, type Mailer } from '@keyhaven/mail';
import { PushPublisher } from '@keyhaven/bus';
import { PushType } from '@keyhaven/contracts';
import { MemberStatus, MemberType, PolicyType, normalizePermissions } from './enums';
import { GrantRules } from './grant-rules';
import { MemberRepository } from './member.repository';
import { allows, type Membership } from './membership';
import { OrganizationRepository } from './organization.repository';
import { OrganizationsService } from './organizations.service';
import { PolicyRepository } from './policy.repository';

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
  permissions: z.record(z.string(), z.unknown()).nullish(),
  collections: z.array(accessSelection).default([]),
  groups: z.array(guid).default([]),
});

export const updateMemberSchema = z.object({
  type: memberType,
  permissions: z.record(z.string(), z.unknown()).nullish(),
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
    private readonly tokens: AccessTokens,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    private readonly push: PushPublisher,
    private readonly grants: GrantRules,
  ) {}

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
   * The database half of an invitation, inside the caller's transaction (the directory import runs
   * several steps in one); `sendInvites` after commit delivers them.
   */
  async insertInvites(actor: Membership, body: z.infer<typeof inviteSchema>): Promise<{ id: string; email: string }[]> {
    this.assertMayManageRole(actor, body.type);
    await this.grants.assertMayGrantCollections(
      actor,
      body.collections.map((c) => c.id),
    );
    this.grants.assertMayAssignGroups(actor, body.groups);
    const orgId = actor.organizationId;
    const org = await this.organizations.findById(orgId);
    if (!org) throw notFound('Organization');
    const emails = [...new Set(body.emails.map(normalizeEmail))];
    if (org.seats !== null && (await this.members.countSeatsUsed(orgId)) + emails.length > org.seats) {
      throw badRequest(`This organization has ${org.seats} seats; remove members or raise the limit first.`);
    }
    const existing = await this.members.listDetails(orgId);
    const results: { id: string; email: string }[] = [];
    for (const email of emails) {
      if (existing.some((m) => (m.userEmail ?? m.email) === email))
        throw badRequest(`${email} is already a member of this organization.`);
      const id = await this.members.insert({
        organizationId: orgId,
        userId: null,
        email,
        key: null,
        status: MemberStatus.Invited,
        type: body.type,
        permissions: body.type === MemberType.Custom ? normalizePermissions(body.permissions) : null,
      });
      if (!id) throw badRequest(`${email} is already invited.`);
      await this.members.setCollections(orgId, id, body.collections);
      await this.members.setGroups(orgId, id, body.groups);
      results.push({ id, email });
    }
    return results;
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
  async accept(organizationId: string, memberId: string, userId: string, token: string): Promise<void> {
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
    if (enabled(PolicyType.TwoFactorAuthentication) && !user.totpSecret && !exempt) {
      throw badRequest('You cannot join this organization until you enable two-step login on your account.');
    }
    if (enabled(PolicyType.SingleOrg) && member.type !== MemberType.Owner && member.type !== MemberType.Admin) {
      const others = (await this.members.listForUser(userId)).filter(
        (m) => m.organizationId !== organizationId && m.status !== MemberStatus.Revoked,
      );
      if (others.length > 0)
        throw badRequest('You cannot join this organization because you are a member of another one.');
    }
    const updated = await this.db.transaction(async () => {
      const changed = await this.members.update(organizationId, memberId, {
        user_id: userId,
        email: null,
        status: MemberStatus.Accepted,
      });
      await this.users.touchAccountRevision(userId);
      return changed;
    });
    if (!updated) throw badRequest('This invitation has already been used.');
  }

  /** The admin's client wrapped the org key with the member's public key; the server stores it. */
  async confirm(actor: Membership, memberId: string, key: string): Promise<void> {
    const member = await this.members.findInOrg(actor.organizationId, memberId);
    if (!member || member.status !== MemberStatus.Accepted || !member.userId)
      throw badRequest('The member has not accepted the invitation yet.');
    this.assertMayManageRole(actor, member.type, member.type);
    await this.assertPoliciesAllow(member);
    await this.db.transaction(async () => {
      await this.members.update(actor.organizationId, memberId, { key, status: MemberStatus.Confirmed });
      await this.users.touchAccountRevision(member.userId ?? '');
    });
    this.pushOrgKeys([member]);
  }

  async confirmMany(actor: Membership, keys: { id: string; key: string }[]): Promise<{ id: string; error: string }[]> {
    const results: { id: string; error: string }[] = [];
    for (const { id, key } of keys) {
      try {
        await this.confirm(actor, id, key);
        results.push({ id, error: '' });
      } catch (error) {
        results.push({ id, error: error instanceof Error ? error.message : 'failed' });
      }
    }
    return results;
  }

  async update(actor: Membership, memberId: string, body: z.infer<typeof updateMemberSchema>): Promise<void> {
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
      });
      if (body.collections) await this.members.setCollections(actor.organizationId, memberId, body.collections);
      if (body.groups) await this.members.setGroups(actor.organizationId, memberId, body.groups);
      if (member.userId) await this.users.touchAccountRevision(member.userId);
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
      for (const member of targets) {
        await this.members.update(actor.organizationId, member.id, {
          status: MemberStatus.Revoked,
          revoked_reason: reason,
        });
        if (member.userId) await this.users.touchAccountRevision(member.userId);
      }
    });
    this.pushOrgKeys(targets);
  }

  /** A restored member returns to where they were: invited, accepted, or confirmed (with their key). */
  async restore(actor: Membership, ids: string[]): Promise<void> {
    const targets = (await this.members.findManyInOrg(actor.organizationId, ids)).filter(
      (m) => m.status === MemberStatus.Revoked,
    );
    if (targets.length === 0) throw notFound('Member');
    for (const member of targets) {
      this.assertMayManageRole(actor, member.type, member.type);
      await this.assertPoliciesAllow(member);
    }
    await this.db.transaction(async () => {
      for (const member of targets) {
        const status = !member.userId
          ? MemberStatus.Invited
          : member.key
            ? MemberStatus.Confirmed
            : MemberStatus.Accepted;
        await this.members.update(actor.organizationId, member.id, { status, revoked_reason: null });
        if (member.userId) await this.users.touchAccountRevision(member.userId);
      }
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
      for (const member of targets) if (member.userId) await this.users.touchAccountRevision(member.userId);
    });
    this.pushOrgKeys(targets);
  }

  private async inOtherOrganizations(userId: string, organizationId: string): Promise<boolean> {
    const memberships = await this.members.listForUser(userId);
    return memberships.some((m) => m.organizationId !== organizationId && m.status !== MemberStatus.Revoked);
  }

  /**
   * What confirming or restoring a member must respect: this org's two-step and single-org policies,
   * and the single-org policies of the member's other organizations. Owners and admins are exempt.
   */
  private async assertPoliciesAllow(member: Membership): Promise<void> {
    if (!member.userId || member.type === MemberType.Owner || member.type === MemberType.Admin) return;
    const policies = await this.policies.listForOrg(member.organizationId);
    const enabled = (type: number): boolean => policies.some((p) => p.type === type && p.enabled);
    const user = await this.users.require(member.userId);
    if (enabled(PolicyType.TwoFactorAuthentication) && !user.totpSecret) {
      throw badRequest('This member has not enabled two-step login, which the organization requires.');
    }
    if (enabled(PolicyType.SingleOrg) && (await this.inOtherOrganizations(member.userId, member.organizationId))) {
      throw badRequest(
        'This member belongs to another organization, which the Single Organization policy does not allow.',
      );
    }
    await this.orgService.assertMayJoinAnother(member.userId, member.organizationId);
  }

  async publicKeys(organizationId: string, ids: string[]): Promise<{ id: string; userId: string; key: string }[]> {
    const details = await this.members.listDetails(organizationId, ids);
    return details
      .filter((m) => ids.includes(m.id) && m.userId && m.publicKey)
      .map((m) => ({ id: m.id, userId: m.userId ?? '', key: m.publicKey ?? '' }));
  }
}
