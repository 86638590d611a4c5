import { Injectable, Logger } from '@nestjs/common';
import { EventType } from '@keyhaven/contracts';
import { EventRecorder } from '@keyhaven/db';
import {
  AccountRevisionService,
  ExternalAccountsService,
  UserRepository,
  normalizeEmail,
  type User,
} from '@keyhaven/domain-auth';
import { MemberStatus, MemberType } from '../enums';
import { MemberRepository } from '../member.repository';
import type { Membership } from '../membership';
import { csv } from './claims';
import { IdpError, type NormalizedClaims } from './idp-adapter';
import type { SsoConfig } from './sso-config';
import { SsoUserRepository } from './sso-user.repository';

/** Why a person cannot sign in although the IdP vouched for them; the web vault shows these codes. */
export class MembershipRequired extends Error {
  constructor(
    readonly code: 'ssoOrgMembershipRequired' | 'ssoOrgInviteAcceptanceRequired',
    readonly email: string,
  ) {
    super(code);
  }
}

/** A person the IdP vouched for whose membership is revoked or gone: refused, and the failed login is theirs. */
export class MemberRefused extends IdpError {
  constructor(
    readonly userId: string,
    readonly organizationUserId: string | null,
    logDetail: string,
  ) {
    super('Your access to this organization has been revoked. Ask an administrator.', logDetail);
  }
}

/**
 * ENTERPRISE.md §1.8: the IdP subject → a user of the organization. A linked subject is that user;
 * otherwise an existing account with an accepted or confirmed membership is linked, and an unknown
 * person gets an account without master password and an Invited membership (the one an invitation
 * or SCIM made, when there is one). Revoked members are refused. Group mapping applies every time.
 * Runs inside the caller's transaction.
 */
@Injectable()
export class SsoProvisioning {
  private readonly log = new Logger('sso');

  constructor(
    private readonly links: SsoUserRepository,
    private readonly members: MemberRepository,
    private readonly users: UserRepository,
    private readonly accounts: ExternalAccountsService,
    private readonly events: EventRecorder,
    private readonly revisions: AccountRevisionService,
  ) {}

  /**
   * `accessChanged` collects the user when the directory changed their groups or role, so the caller
   * can push SyncOrgKeys once its transaction committed.
   */
  async resolve(config: SsoConfig, claims: NormalizedClaims, accessChanged: string[] = []): Promise<User> {
    const orgId = config.organizationId;
    const linkedId = await this.links.linkedUser(orgId, claims.subject);
    let user = linkedId ? await this.users.findById(linkedId) : null;
    if (!user) user = await this.linkOrCreate(config, claims);
    const membership = await this.members.findByUser(orgId, user.id);
    if (!membership || membership.status === MemberStatus.Revoked) {
      throw new MemberRefused(user.id, membership?.id ?? null, `revoked or removed member ${user.id} tried SSO`);
    }
    const groupsChanged = await this.applyGroups(config, membership, claims);
    const roleChanged = await this.applyRole(config, membership, claims);
    if (groupsChanged || roleChanged) {
      await this.revisions.touchUsers([user.id]);
      accessChanged.push(user.id);
    }
    return user;
  }

  private async linkOrCreate(config: SsoConfig, claims: NormalizedClaims): Promise<User> {
    const orgId = config.organizationId;
    if (!claims.email) {
      throw new IdpError(
        'The identity provider did not send an email address.',
        'no email claim for an unlinked subject',
      );
    }
    const email = normalizeEmail(claims.email);
    const existing = await this.users.findByEmail(email);
    if (existing) {
      const membership = await this.members.findByUser(orgId, existing.id);
      if (!membership) throw new MembershipRequired('ssoOrgMembershipRequired', email);
      if (membership.status === MemberStatus.Invited)
        throw new MembershipRequired('ssoOrgInviteAcceptanceRequired', email);
      if (membership.status === MemberStatus.Revoked) {
        throw new MemberRefused(existing.id, membership.id, `revoked member ${existing.id} tried SSO`);
      }
      const replaced = await this.links.link(orgId, existing.id, claims.subject);
      await this.events.record({
        type: replaced ? EventType.OrganizationUser_ResetSsoLink : EventType.OrganizationUser_FirstSsoLogin,
        organizationId: orgId,
        organizationUserId: membership.id,
        userId: existing.id,
        actingUserId: existing.id,
      });
      return existing;
    }
    const created = await this.accounts.createWithoutPassword({ email, name: claims.name, emailVerified: false });
    if (!created) throw new IdpError('This account could not be created. Please try again.', 'JIT insert lost a race');
    const pending = await this.links.pendingMembership(orgId, email, claims.subject);
    let memberId: string | null;
    if (pending) {
      await this.links.attachUser(orgId, pending, created.id, email);
      memberId = pending;
    } else {
      memberId = await this.members.insert({
        organizationId: orgId,
        userId: created.id,
        email,
        key: null,
        status: MemberStatus.Invited,
        type: MemberType.User,
        permissions: null,
        externalId: claims.subject,
      });
    }
    await this.links.link(orgId, created.id, claims.subject);
    await this.events.record({
      type: EventType.OrganizationUser_FirstSsoLogin,
      organizationId: orgId,
      organizationUserId: memberId,
      userId: created.id,
      actingUserId: created.id,
    });
    this.log.log(`SSO provisioned a new account in organization ${orgId}`);
    return created;
  }

  /**
   * With a groups claim configured, the member's groups follow the directory at every login: the
   * groups whose name (without case) or external id is one of the claim's values, and no others.
   * Event 1504 only when the set changed.
   */
  private async applyGroups(config: SsoConfig, membership: Membership, claims: NormalizedClaims): Promise<boolean> {
    if (!config.data.groupsClaimType) return false;
    const wanted = new Set(await this.links.groupsMatching(config.organizationId, claims.groups));
    const current = new Set(await this.members.groupsOf(membership.id));
    if (wanted.size === current.size && [...wanted].every((id) => current.has(id))) return false;
    await this.members.setGroups(config.organizationId, membership.id, [...wanted]);
    await this.events.record({
      type: EventType.OrganizationUser_UpdatedGroups,
      organizationId: config.organizationId,
      organizationUserId: membership.id,
      userId: membership.userId,
    });
    return true;
  }

  /** With `adminClaimValues` configured, Admin follows the directory (owners untouched); event 1502 on change. */
  private async applyRole(config: SsoConfig, membership: Membership, claims: NormalizedClaims): Promise<boolean> {
    const adminValues = csv(config.data.adminClaimValues).map((v) => v.toLowerCase());
    if (adminValues.length === 0 || membership.type === MemberType.Owner) return false;
    const isAdmin = claims.groups.some((g) => adminValues.includes(g.toLowerCase()));
    const type = isAdmin ? MemberType.Admin : membership.type === MemberType.Admin ? MemberType.User : membership.type;
    if (type === membership.type) return false;
    await this.members.update(config.organizationId, membership.id, { type, permissions: null });
    await this.events.record({
      type: EventType.OrganizationUser_Updated,
      organizationId: config.organizationId,
      organizationUserId: membership.id,
      userId: membership.userId,
    });
    this.log.log(`SSO set member ${membership.id} of organization ${config.organizationId} to role ${type}`);
    return true;
  }
}
