import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database } from '@keyhaven/db';
import { isWellFormedEncString, notFound, guid } from '@keyhaven/contracts';
import { CollectionRepository, type AccessSelection, type Collection } from './collection.repository';
import { allows, type Membership } from './membership';

const access = z.object({
  id: guid,
  readOnly: z.boolean().default(false),
  hidePasswords: z.boolean().default(false),
  manage: z.boolean().default(false),
});

export const collectionRequestSchema = z.object({
  name: z.string().refine(isWellFormedEncString, { message: 'must be a valid encrypted string' }),
  externalId: z.string().max(300).nullish(),
  users: z.array(access).nullish(),
  groups: z.array(access).nullish(),
});

@Injectable()
export class CollectionsService {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionRepository,
  ) {}

  /** What the actor may do with one collection: org-wide rights, or `manage` on that collection. */
  async requireManageable(
    actor: Membership,
    collectionId: string,
    orgWide: 'editAnyCollection' | 'deleteAnyCollection',
  ): Promise<Collection> {
    const collection = await this.collections.findInOrg(actor.organizationId, collectionId);
    if (!collection) throw notFound('Collection');
    if (allows(actor, orgWide)) return collection;
    const mine = (await this.collections.listForUser(actor.userId ?? '')).find((c) => c.id === collectionId);
    if (!mine?.manage) throw notFound('Collection');
    return collection;
  }

  async create(actor: Membership, body: z.infer<typeof collectionRequestSchema>): Promise<Collection> {
    return this.db.transaction(async () => {
      const collection = await this.collections.insert(actor.organizationId, body.name, body.externalId ?? null);
      const users: AccessSelection[] = body.users ?? [];
      // A creator without org-wide rights must be able to manage what they just made.
      if (!allows(actor, 'editAnyCollection') && !users.some((u) => u.id === actor.id)) {
        users.push({ id: actor.id, readOnly: false, hidePasswords: false, manage: true });
      }
      await this.collections.setAccess(actor.organizationId, collection.id, users, body.groups ?? []);
      await this.touchOrg(actor.organizationId);
      return collection;
    });
  }

  async update(
    actor: Membership,
    collectionId: string,
    body: z.infer<typeof collectionRequestSchema>,
  ): Promise<Collection> {
    await this.requireManageable(actor, collectionId, 'editAnyCollection');
    return this.db.transaction(async () => {
      await this.collections.update(actor.organizationId, collectionId, body.name, body.externalId ?? null);
      if (body.users || body.groups) {
        const current = await this.collections.accessOf(collectionId);
        await this.collections.setAccess(
          actor.organizationId,
          collectionId,
          body.users ?? current.users,
          body.groups ?? current.groups,
        );
      }
      await this.touchOrg(actor.organizationId);
      const updated = await this.collections.findInOrg(actor.organizationId, collectionId);
      if (!updated) throw notFound('Collection');
      return updated;
    });
  }

  async delete(actor: Membership, collectionIds: string[]): Promise<void> {
    for (const id of collectionIds) await this.requireManageable(actor, id, 'deleteAnyCollection');
    await this.db.transaction(async () => {
      await this.collections.delete(actor.organizationId, collectionIds);
      await this.touchOrg(actor.organizationId);
    });
  }

  /** Collections and access changed: every confirmed member's clients should sync. */
  private async touchOrg(organizationId: string): Promise<void> {
    await this.db.execute(
      'UPDATE app_user SET account_revision_date = $2 WHERE id IN (SELECT user_id FROM organization_user WHERE organization_id = $1 AND user_id IS NOT NULL)',
      [organizationId, new Date()],
    );
  }
}
