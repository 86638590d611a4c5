import { MemberStatus, MemberType, type PermissionFlag, type Permissions } from './enums';

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
export type Need = 'member' | 'owner' | 'admin' | PermissionFlag;

/** Owners and Admins may do every admin action; a Custom member only what its flags allow. */
export function allows(m: Membership, need: Need): boolean {
  if (!isConfirmed(m)) return false;
  if (need === 'member') return true;
  if (need === 'owner') return m.type === MemberType.Owner;
  if (isAdmin(m)) return true;
  if (need === 'admin') return false;
  return m.type === MemberType.Custom && m.permissions[need];
}
