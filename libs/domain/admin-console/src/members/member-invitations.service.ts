import { Inject, Injectable } from '@nestjs/common';
import { type z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, badRequest, notFound } from '@keyhaven/contracts';
import { normalizeEmail } from '@keyhaven/domain-auth';
import { MemberStatus, MemberType, normalizePermissions } from '../enums';
import { GrantRules } from '../grant-rules';
import type { AccessSelection } from '../collection.repository';
import { MemberRepository } from '../member.repository';
import { type Membership } from '../membership';
import { OrganizationRepository } from '../organization.repository';
import { SEAT_LIMIT, type SeatLimit } from '../seat-limit';
import { InvitationMail, type InviteResult } from './invitation-mail.service';
import { assertMayManageRole } from './member-changes';
import { MemberListingService, type MemberWithAccess } from './member-listing.service';
import { type inviteSchema } from './member-schemas';

/** Who one invitation call adds, with the same role, collections and groups for all. */
export interface InvitationSpec {
  readonly type: 0 | 1 | 2 | 4;
  readonly permissions?: Record<string, unknown> | null;
  readonly collections: readonly AccessSelection[];
  readonly groups: readonly string[];
}

/** Inviting members (web vault, public API, directory import, SCIM) and sending invitations again. */
@Injectable()
export class MemberInvitationsService {
  constructor(
    private readonly db: Database,
    private readonly members: MemberRepository,
    private readonly organizations: OrganizationRepository,
    private readonly grants: GrantRules,
    private readonly events: EventRecorder,
    @Inject(SEAT_LIMIT) private readonly seatLimit: SeatLimit,
    private readonly mail: InvitationMail,
    private readonly listing: MemberListingService,
  ) {}

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
    return this.listing.getWithAccess(actor.organizationId, invited.id);
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
    assertMayManageRole(actor, spec.type);
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
    return Promise.all(invited.map((m) => this.mail.send(org.id, org.name, m.id, m.email)));
  }

  async reinvite(actor: Membership, ids: string[]): Promise<InviteResult[]> {
    const org = await this.organizations.findById(actor.organizationId);
    if (!org) throw notFound('Organization');
    const pending = (await this.members.findManyInOrg(actor.organizationId, ids)).filter(
      (m) => m.status === MemberStatus.Invited && m.email,
    );
    if (pending.length === 0) throw notFound('Member');
    for (const member of pending) assertMayManageRole(actor, member.type, member.type);
    return Promise.all(pending.map((m) => this.mail.send(org.id, org.name, m.id, m.email ?? '')));
  }

  /** The operator (admin portal, CLI) sends an invitation again: no acting member, any organization. */
  async resendInvitation(organizationId: string, memberId: string): Promise<InviteResult> {
    const org = await this.organizations.findById(organizationId);
    const member = await this.members.findInOrg(organizationId, memberId);
    if (!org || member?.status !== MemberStatus.Invited || !member.email) throw notFound('Member');
    return this.mail.send(org.id, org.name, member.id, member.email);
  }
}
