import { notFound } from '@keyhaven/contracts';
import { allows, type Membership, type Need } from '@keyhaven/domain-admin-console';

/**
 * The organization routes declare what they need with `@OrgPermission` and hand the checked
 * membership in; the vault re-checks it in memory (no query), so a route that forgot the declaration
 * fails closed, with the same 404 as an organization the caller is not in.
 */
export function assertActor(actor: Membership, ...needs: Need[]): void {
  if (!needs.some((need) => allows(actor, need))) throw notFound('Organization');
}
