import { Injectable } from '@nestjs/common';
import { notFound } from '@keyhaven/contracts';
import { CollectionRepository } from './collection.repository';
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
    const manageable = new Set(
      (await this.collections.listForUser(actor.userId ?? ''))
        .filter((c) => c.organizationId === actor.organizationId && c.manage)
        .map((c) => c.id),
    );
    if (collectionIds.some((id) => !manageable.has(id))) throw notFound('Collection');
  }

  /** Group membership grants the group's collections: assigning groups needs manageGroups. */
  assertMayAssignGroups(actor: Membership, groupIds: string[]): void {
    if (groupIds.length > 0 && !allows(actor, 'manageGroups')) throw notFound('Organization');
  }

  assertNotSelf(actor: Membership, memberIds: string[]): void {
    if (!allows(actor, 'admin') && memberIds.includes(actor.id)) throw notFound('Member');
  }
}
