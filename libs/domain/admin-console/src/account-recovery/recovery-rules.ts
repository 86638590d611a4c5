import { MemberType } from '../enums';
import { allows, type Membership } from '../membership';

export const NOT_PERMITTED = "You are not permitted to recover this user's account.";

/**
 * Who may recover whom (Bitwarden's RecoverAccountAuthorizationHandler): an Owner's account only
 * Owners; an Admin's Owners and Admins; anyone else's Owners, Admins and Custom members with
 * `manageResetPassword`. Nobody recovers their own account this way, and only confirmed members
 * (the route's permission check) act at all.
 */
export function mayRecover(actor: Membership, target: Membership): boolean {
  if (!allows(actor, 'manageResetPassword')) return false;
  if (target.id === actor.id || (target.userId !== null && target.userId === actor.userId)) return false;
  if (target.type === MemberType.Owner) return actor.type === MemberType.Owner;
  if (target.type === MemberType.Admin) return actor.type === MemberType.Owner || actor.type === MemberType.Admin;
  return true;
}
