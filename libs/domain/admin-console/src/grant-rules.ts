import { Injectable } from '@nestjs/common';
import { notFound } from '@keyhaven/contracts';
import { CollectionRepository, type AccessSelection } from './collection.repository';
import { allows, type Membership } from './membership';

/**
 * Handing out access is itself an access decision: whoever assigns collections (to a member or a
 * group) must be able to manage each of them, and nobody below admin may widen their own access.
 */
@Injectable()
export class GrantRules {
  constructor(private readonly collections: CollectionRepository) {}

  async assertMayGrantCollections(actor: Membership, collectionIds: string[]): Promise<void> {
    if (collectionIds.length === 0 || allows(actor, 'editAnyCollection')) return;
    const manageable = await this.manageable(actor);
    if (collectionIds.some((id) => !manageable.has(id))) throw notFound('Collection');
  }

  /**
   * The assignments a replacement leaves in place: someone without org-wide collection rights
   * replaces only what they manage; assignments to collections they cannot manage stay as they are.
   */
  async keepUnmanaged(
    actor: Membership,
    current: readonly AccessSelection[],
    requested: readonly AccessSelection[],
  ): Promise<AccessSelection[]> {
    if (allows(actor, 'editAnyCollection')) return [...requested];
    const manageable = await this.manageable(actor);
    const named = new Set(requested.map((a) => a.id));
    return [...requested, ...current.filter((a) => !manageable.has(a.id) && !named.has(a.id))];
  }

  private async manageable(actor: Membership): Promise<Set<string>> {
    return new Set(
      (await this.collections.listForUser(actor.userId ?? ''))
        .filter((c) => c.organizationId === actor.organizationId && c.manage)
        .map((c) => c.id),
    );
  }

  /** Group membership grants the group's collections: assigning groups needs manageGroups. */
  assertMayAssignGroups(actor: Membership, groupIds: string[]): void {
    if (groupIds.length > 0 && !allows(actor, 'manageGroups')) throw notFound('Organization');
  }

  assertNotSelf(actor: Membership, memberIds: string[]): void {
    if (!allows(actor, 'admin') && memberIds.includes(actor.id)) throw notFound('Member');
  }
}
