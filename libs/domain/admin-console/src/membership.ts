import { MemberStatus, MemberType, PERMISSION_FLAGS, type PermissionFlag, type Permissions } from './enums';

/** A user's membership in one organization. */
export interface Membership {
  readonly id: string;
  readonly organizationId: string;
  readonly userId: string | null;
  readonly email: string | null;
  readonly key: string | null;
  readonly resetPasswordKey: string | null;
  readonly status: number;
  readonly type: number;
  readonly permissions: Permissions;
  readonly externalId: string | null;
  readonly revokedReason: string | null;
  readonly creationDate: Date;
  readonly revisionDate: Date;
}

export const isConfirmed = (m: Membership): boolean => m.status === MemberStatus.Confirmed;
export const isAdmin = (m: Membership): boolean => m.type === MemberType.Owner || m.type === MemberType.Admin;

/** What an admin-console action needs of the caller. */
export type Need = 'member' | 'joining' | 'owner' | 'admin' | PermissionFlag;

/** Owners and Admins may do every admin action; a Custom member only what its flags allow. */
export function allows(m: Membership, need: Need): boolean {
  if (need === 'joining') return m.userId !== null && m.status !== MemberStatus.Revoked;
  if (!isConfirmed(m)) return false;
  if (need === 'member') return true;
  if (need === 'owner') return m.type === MemberType.Owner;
  if (isAdmin(m)) return true;
  if (need === 'admin') return false;
  return m.type === MemberType.Custom && m.permissions[need];
}

/**
 * A system acting on one organization with an owner's rights (the organization's API key, the SCIM
 * directory): the member and group services apply their usual rules to it. Its id matches no
 * membership, so "not yourself" checks never trip.
 */
export function organizationOwnerActor(organizationId: string): Membership {
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
