import { currentRequestContext, runWithRequestContext } from '@keyhaven/http';
import { organizationOwnerActor, type Membership } from '../membership';

/** Bitwarden's EventSystemUser number for SCIM: the audit log shows "SCIM" as the actor. */
export const SCIM_SYSTEM_USER = 1;

/**
 * The directory acts with an owner's rights on its own organization only, as the public API's
 * organization key does: the member and group services apply their usual rules (last owner, policy
 * blocks, seat limits) to it.
 */
export function scimActor(organizationId: string): Membership {
  return organizationOwnerActor(organizationId);
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
