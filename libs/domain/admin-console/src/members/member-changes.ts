import { type EventRecorder } from '@keyhaven/db';
import { type EventType, PushType, notFound } from '@keyhaven/contracts';
import { type PushPublisher } from '@keyhaven/bus';
import { MemberType } from '../enums';
import { allows, type Membership } from '../membership';

// What every change to memberships shares: who may make it, and what is told afterwards.

/** Only owners grant or touch the owner role; a Custom manager cannot make admins. */
export function assertMayManageRole(actor: Membership, targetType: number, currentType?: number): void {
  const involvesOwner = targetType === MemberType.Owner || currentType === MemberType.Owner;
  if (involvesOwner && !allows(actor, 'owner')) throw notFound('Organization');
  const involvesAdmin =
    targetType === MemberType.Admin ||
    targetType === MemberType.Custom ||
    currentType === MemberType.Admin ||
    currentType === MemberType.Custom;
  if (involvesAdmin && !allows(actor, 'admin')) throw notFound('Organization');
}

/** The accounts behind members (an invitation has none yet). */
export function userIdsOf(members: readonly Membership[]): string[] {
  return members.flatMap((m) => (m.userId ? [m.userId] : []));
}

/** Members whose access changed re-sync their organization keys and memberships. */
export function pushOrgKeys(push: PushPublisher, members: readonly Membership[]): void {
  push.publishToUsers(PushType.SyncOrgKeys, userIdsOf(members));
}

/** One event per member, in one insert, in the caller's transaction. */
export function recordForEach(
  events: EventRecorder,
  type: EventType,
  organizationId: string,
  members: readonly Membership[],
): Promise<void> {
  return events.record(members.map((m) => ({ type, organizationId, organizationUserId: m.id })));
}
