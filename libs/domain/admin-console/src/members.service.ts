import { Injectable } from '@nestjs/common';
import { type z } from 'zod';
import { type Membership } from './membership';
import { type InviteResult } from './members/invitation-mail.service';
import { MemberAcceptanceService } from './members/member-acceptance.service';
import { MemberConfirmationsService } from './members/member-confirmations.service';
import { MemberInvitationsService, type InvitationSpec } from './members/member-invitations.service';
import { MemberListingService, type MemberWithAccess } from './members/member-listing.service';
import { type inviteSchema, type updateMemberSchema } from './members/member-schemas';
import { MemberStatusService } from './members/member-status.service';
import { MemberUpdatesService } from './members/member-updates.service';

export * from './members/member-schemas';
export type { InviteResult, InvitationSpec, MemberWithAccess };

/**
 * Membership lifecycle: invite → accept → confirm, role changes, revoke/restore, removal. One entry point
 * for the controllers, SCIM, the directory import and the operator; each part lives in its own service
 * under ./members, and this class only hands the calls on.
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly listing: MemberListingService,
    private readonly invitations: MemberInvitationsService,
    private readonly acceptance: MemberAcceptanceService,
    private readonly confirmations: MemberConfirmationsService,
    private readonly updates: MemberUpdatesService,
    private readonly statuses: MemberStatusService,
  ) {}

  listWithAccess(organizationId: string, memberIds: string[] | null = null): Promise<MemberWithAccess[]> {
    return this.listing.listWithAccess(organizationId, memberIds);
  }

  getWithAccess(organizationId: string, memberId: string): Promise<MemberWithAccess> {
    return this.listing.getWithAccess(organizationId, memberId);
  }

  groupIds(organizationId: string, memberId: string): Promise<string[]> {
    return this.listing.groupIds(organizationId, memberId);
  }

  publicKeys(organizationId: string, ids: string[]): Promise<{ id: string; userId: string; key: string }[]> {
    return this.listing.publicKeys(organizationId, ids);
  }

  inviteOne(
    actor: Membership,
    body: InvitationSpec & { email: string; externalId?: string | null },
  ): Promise<MemberWithAccess> {
    return this.invitations.inviteOne(actor, body);
  }

  invite(actor: Membership, body: z.infer<typeof inviteSchema>): Promise<InviteResult[]> {
    return this.invitations.invite(actor, body);
  }

  insertInvites(actor: Membership, body: z.infer<typeof inviteSchema>): Promise<{ id: string; email: string }[]> {
    return this.invitations.insertInvites(actor, body);
  }

  insertInvitations(
    actor: Membership,
    spec: InvitationSpec,
    invitees: readonly { email: string; externalId: string | null }[],
  ): Promise<{ id: string; email: string }[]> {
    return this.invitations.insertInvitations(actor, spec, invitees);
  }

  sendInvites(organizationId: string, invited: { id: string; email: string }[]): Promise<InviteResult[]> {
    return this.invitations.sendInvites(organizationId, invited);
  }

  reinvite(actor: Membership, ids: string[]): Promise<InviteResult[]> {
    return this.invitations.reinvite(actor, ids);
  }

  resendInvitation(organizationId: string, memberId: string): Promise<InviteResult> {
    return this.invitations.resendInvitation(organizationId, memberId);
  }

  accept(
    organizationId: string,
    memberId: string,
    userId: string,
    token: string,
    resetPasswordKey?: string | null,
  ): Promise<void> {
    return this.acceptance.accept(organizationId, memberId, userId, token, resetPasswordKey);
  }

  confirm(actor: Membership, memberId: string, key: string): Promise<void> {
    return this.confirmations.confirm(actor, memberId, key);
  }

  confirmMany(actor: Membership, keys: { id: string; key: string }[]): Promise<{ id: string; error: string }[]> {
    return this.confirmations.confirmMany(actor, keys);
  }

  setGroups(actor: Membership, memberId: string, groupIds: string[]): Promise<void> {
    return this.updates.setGroups(actor, memberId, groupIds);
  }

  updateWithExternalId(
    actor: Membership,
    memberId: string,
    body: z.infer<typeof updateMemberSchema> & { externalId?: string | null },
  ): Promise<MemberWithAccess> {
    return this.updates.updateWithExternalId(actor, memberId, body);
  }

  update(
    actor: Membership,
    memberId: string,
    body: z.infer<typeof updateMemberSchema>,
    externalId?: string | null,
  ): Promise<void> {
    return this.updates.update(actor, memberId, body, externalId);
  }

  revoke(actor: Membership, ids: string[], reason: string | null = null): Promise<void> {
    return this.statuses.revoke(actor, ids, reason);
  }

  restore(actor: Membership, ids: string[]): Promise<void> {
    return this.statuses.restore(actor, ids);
  }

  remove(actor: Membership, ids: string[]): Promise<void> {
    return this.statuses.remove(actor, ids);
  }
}
