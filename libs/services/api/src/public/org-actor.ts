import { organizationOwnerActor, type Membership } from '@keyhaven/domain-admin-console';
import type { Principal } from '@keyhaven/platform-auth';

/** An organization's API key acts with an owner's rights, on its own organization only. */
export function organizationActor(principal: Principal): Membership {
  return organizationOwnerActor(principal.userId);
}
