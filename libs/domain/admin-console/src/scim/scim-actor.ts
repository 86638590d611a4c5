import { currentRequestContext, runWithRequestContext } from '@keyhaven/http';
import { MemberStatus, MemberType, PERMISSION_FLAGS, type Permissions } from '../enums';
import type { Membership } from '../membership';

/** Bitwarden's EventSystemUser number for SCIM: the audit log shows "SCIM" as the actor. */
export const SCIM_SYSTEM_USER = 1;

/**
 * The directory acts with an owner's rights on its own organization only, as the public API's
 * organization key does: the member and group services apply their usual rules (last owner, policy
 * blocks, seat limits) to it. Its id matches no membership, so "not yourself" checks never trip.
 */
export function scimActor(organizationId: string): Membership {
  const now = new Date();
  return {
    id: '00000000-0000-0000-0000-000000000000',
    organizationId,
    userId: null,
    email: null,
    key: null,
    resetPasswordKey: null,
    status: MemberStatus.Confirmed,
    type: MemberType.Owner,
    permissions: Object.fromEntries(PERMISSION_FLAGS.map((f) => [f, true])) as Permissions,
    externalId: null,
    revokedReason: null,
    creationDate: now,
    revisionDate: now,
  };
}

/** Runs `fn` with SCIM as the acting system of every event it records (no acting person). */
export function asScim<T>(fn: () => Promise<T>): Promise<T> {
  const context = currentRequestContext();
  return runWithRequestContext(
    {
      actingUserId: null,
      deviceType: context?.deviceType ?? null,
      ipAddress: context?.ipAddress ?? null,
      systemUser: SCIM_SYSTEM_USER,
    },
    fn,
  );
}
