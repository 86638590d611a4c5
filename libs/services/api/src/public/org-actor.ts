import {
  MemberStatus,
  MemberType,
  PERMISSION_FLAGS,
  type Membership,
  type Permissions,
} from '@keyhaven/domain-admin-console';
import type { Principal } from '@keyhaven/platform-auth';

/** An organization's API key acts with an owner's rights, on its own organization only. */
export function organizationActor(principal: Principal): Membership {
  const now = new Date();
  return {
    id: '00000000-0000-0000-0000-000000000000',
    organizationId: principal.userId,
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
