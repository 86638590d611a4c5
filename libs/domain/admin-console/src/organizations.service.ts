import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { PushPublisher } from '@keyhaven/bus';
import { EventType, PushType, badRequest, isWellFormedEncString, notFound } from '@keyhaven/contracts';
import { AccountsService, AccountRevisionService, UserRepository, newApiKey } from '@keyhaven/domain-auth';
import { CollectionRepository } from './collection.repository';
import { MemberStatus, MemberType, PolicyType } from './enums';
import { MemberRepository } from './member.repository';
import type { Membership } from './membership';
import { OrganizationDeletionHooks } from './organization-deletion';
import { OrganizationRepository, type Organization } from './organization.repository';
import { PolicyRepository } from './policy.repository';
import { NO_SSO, SsoProfileReader, type OrganizationSsoState } from './sso/sso-profile';

const enc = z.string().refine(isWellFormedEncString, { message: 'must be a valid encrypted string' });

export const createOrganizationSchema = z.object({
  name: z.string().min(1).max(50),
  billingEmail: z.string().max(256),
  key: enc,
  keys: z.object({ publicKey: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/), encryptedPrivateKey: enc }).nullish(),
  collectionName: enc.nullish(),
});

export const updateOrganizationSchema = z.object({
  name: z.string().min(1).max(50).nullish(),
  billingEmail: z.string().max(256).nullish(),
});

/** Why a member of an org with a Single Organization policy that applies to them cannot join another. */
export const SINGLE_ORG_ELSEWHERE =
  'You may not join or create another organization: a Single Organization policy applies to you.';

export const secretSchema = z.object({ masterPasswordHash: z.string().nullish(), otp: z.string().nullish() });

@Injectable()
export class OrganizationsService {
  constructor(
    private readonly db: Database,
    private readonly organizations: OrganizationRepository,
    private readonly members: MemberRepository,
    private readonly collections: CollectionRepository,
    private readonly policies: PolicyRepository,
    private readonly users: UserRepository,
    private readonly revisions: AccountRevisionService,
    private readonly accounts: AccountsService,
    private readonly push: PushPublisher,
    private readonly events: EventRecorder,
    private readonly deletionHooks: OrganizationDeletionHooks,
    private readonly ssoProfiles: SsoProfileReader,
  ) {}

  /** The creator becomes its confirmed owner with the org key the client wrapped for them. */
  async create(userId: string, body: z.infer<typeof createOrganizationSchema>): Promise<Organization> {
    await this.assertMayJoinAnother(userId);
    const id = randomUUID();
    await this.db.transaction(async () => {
      await this.organizations.insert({
        id,
        name: body.name,
        billingEmail: body.billingEmail,
        publicKey: body.keys?.publicKey ?? null,
        privateKey: body.keys?.encryptedPrivateKey ?? null,
        apiKey: newApiKey(),
        seats: null,
        maxCollections: null,
      });
      const ownerId = await this.members.insert({
        organizationId: id,
        userId,
        email: null,
        key: body.key,
        status: MemberStatus.Confirmed,
        type: MemberType.Owner,
        permissions: null,
      });
      if (body.collectionName && ownerId) {
        const collection = await this.collections.insert(id, body.collectionName, null);
        await this.members.setCollections(id, ownerId, [
          { id: collection.id, readOnly: false, hidePasswords: false, manage: true },
        ]);
      }
      await this.revisions.touchUsers([userId]);
    });
    const org = await this.organizations.findById(id);
    if (!org) throw new Error('organization vanished');
    return org;
  }

  /** A member of an org whose Single Organization policy applies to them cannot join or create another. */
  async assertMayJoinAnother(userId: string, joining?: string): Promise<void> {
    const policies = await this.policies.enabledForUser(userId, true);
    const blocking = policies.find(
      (p) =>
        p.type === PolicyType.SingleOrg &&
        p.organizationId !== joining &&
        p.memberType !== MemberType.Owner &&
        p.memberType !== MemberType.Admin,
    );
    if (blocking) throw badRequest(SINGLE_ORG_ELSEWHERE);
  }

  async require(id: string): Promise<Organization> {
    const org = await this.organizations.findById(id);
    if (!org) throw notFound('Organization');
    return org;
  }

  async update(id: string, body: z.infer<typeof updateOrganizationSchema>): Promise<Organization> {
    await this.db.transaction(async () => {
      await this.organizations.update(id, {
        ...(body.name ? { name: body.name } : {}),
        ...(body.billingEmail ? { billingEmail: body.billingEmail } : {}),
      });
      await this.events.record({ type: EventType.Organization_Updated, organizationId: id });
    });
    // Members' clients show the organization's name: they re-read their organizations.
    this.push.publishToUsers(PushType.SyncOrganizations, await this.members.userIdsOf(id));
    return this.require(id);
  }

  async delete(id: string, actorId: string, secret: z.infer<typeof secretSchema>): Promise<void> {
    await this.accounts.requireMasterPassword(await this.users.require(actorId), secret.masterPasswordHash);
    // Other domains first (billing ends the subscription); a refusal there deletes nothing.
    await this.deletionHooks.beforeDelete(id);
    // Read before the rows cascade away: the members' clients sync and drop the organization.
    const memberIds = await this.members.userIdsOf(id);
    await this.db.transaction(async () => {
      await this.revisions.touchUsers(memberIds);
      await this.organizations.delete(id);
    });
    this.push.publishToUsers(PushType.SyncVault, memberIds);
  }

  async leave(membership: Membership): Promise<void> {
    if (membership.type === MemberType.Owner && (await this.members.countOwners(membership.organizationId)) <= 1) {
      throw badRequest('The last owner cannot leave the organization.');
    }
    // A membership reached through the caller's own token always has a user.
    const leaver = membership.userId ? [membership.userId] : [];
    await this.db.transaction(async () => {
      await this.members.delete(membership.organizationId, [membership.id]);
      await this.revisions.touchUsers(leaver);
      await this.events.record({
        type: EventType.OrganizationUser_Left,
        organizationId: membership.organizationId,
        organizationUserId: membership.id,
      });
    });
    // The leaver's other clients drop the organization and its items.
    this.push.publishToUsers(PushType.SyncOrganizations, leaver);
  }

  async apiKey(id: string, actorId: string, secret: z.infer<typeof secretSchema>, rotate: boolean): Promise<string> {
    await this.accounts.requireMasterPassword(await this.users.require(actorId), secret.masterPasswordHash);
    if (rotate) {
      const apiKey = newApiKey();
      await this.organizations.update(id, { apiKey });
      return apiKey;
    }
    return (await this.require(id)).apiKey;
  }

  /**
   * For sync: the user's confirmed memberships with their organizations and SSO state: three set-based
   * statements whatever the number of organizations (the SSO one runs beside the memberships).
   */
  async forUser(userId: string): Promise<{ org: Organization; membership: Membership; sso: OrganizationSsoState }[]> {
    const [all, sso] = await Promise.all([this.members.listForUser(userId), this.ssoProfiles.forUser(userId)]);
    const memberships = all.filter((m) => m.status === MemberStatus.Confirmed);
    const orgs = new Map(
      (await this.organizations.findManyByIds(memberships.map((m) => m.organizationId))).map((o) => [o.id, o]),
    );
    return memberships.flatMap((membership) => {
      const org = orgs.get(membership.organizationId);
      return org ? [{ org, membership, sso: sso.get(org.id) ?? NO_SSO }] : [];
    });
  }
}
