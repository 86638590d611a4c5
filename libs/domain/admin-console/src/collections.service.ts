import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { PushPublisher } from '@keyhaven/bus';
import { EventType, PushType, isWellFormedEncString, notFound, guid } from '@keyhaven/contracts';
import { MemberRepository } from './member.repository';
import {
  CollectionRepository,
  type AccessSelection,
  type Collection,
  type CollectionForUser,
} from './collection.repository';
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

/** A collection with the members and groups that may use it. */
export interface CollectionWithAccess extends Collection {
  readonly users: AccessSelection[];
  readonly groups: AccessSelection[];
}

/** With the caller's own effective access, when they have any (the admin console's details list). */
export interface CollectionAccessDetails extends CollectionWithAccess {
  readonly mine: AccessSelection | undefined;
}

/** Org-wide collection rights: whoever holds one sees every collection of the organization. */
const COLLECTION_ADMIN = ['admin', 'createNewCollections', 'editAnyCollection', 'deleteAnyCollection'] as const;

@Injectable()
export class CollectionsService {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionRepository,
    private readonly revisions: AccountRevisionService,
    private readonly members: MemberRepository,
    private readonly push: PushPublisher,
    private readonly events: EventRecorder,
  ) {}

  /** The caller's collections across every organization, with the access they really have. */
  listForUser(userId: string): Promise<CollectionForUser[]> {
    return this.collections.listForUser(userId);
  }

  /** Admins (or Custom collection managers) see all; other members see the ones assigned to them. */
  async listVisible(actor: Membership): Promise<Collection[]> {
    if (COLLECTION_ADMIN.some((n) => allows(actor, n))) return this.collections.listForOrg(actor.organizationId);
    return (await this.collections.listForUser(actor.userId ?? '')).filter(
      (c) => c.organizationId === actor.organizationId,
    );
  }

  async getVisible(actor: Membership, collectionId: string): Promise<Collection> {
    const collection = COLLECTION_ADMIN.some((n) => allows(actor, n))
      ? await this.collections.findInOrg(actor.organizationId, collectionId)
      : (await this.collections.listForUser(actor.userId ?? '')).find(
          (c) => c.id === collectionId && c.organizationId === actor.organizationId,
        );
    if (!collection) throw notFound('Collection');
    return collection;
  }

  /** Every collection with who may use it and the caller's own access: four queries whatever the size. */
  async listAccessDetails(actor: Membership): Promise<CollectionAccessDetails[]> {
    const [all, access, mine] = await Promise.all([
      this.collections.listForOrg(actor.organizationId),
      this.collections.accessByCollection(actor.organizationId),
      this.collections.listForUser(actor.userId ?? ''),
    ]);
    const mineById = new Map(mine.map((c) => [c.id, c]));
    return all.map((c) => ({
      ...c,
      users: access.get(c.id)?.users ?? [],
      groups: access.get(c.id)?.groups ?? [],
      mine: mineById.get(c.id),
    }));
  }

  listForOrg(organizationId: string): Promise<Collection[]> {
    return this.collections.listForOrg(organizationId);
  }

  /** Every collection with who may use it (the public API). */
  async listWithAccess(organizationId: string): Promise<CollectionWithAccess[]> {
    const [all, access] = await Promise.all([
      this.collections.listForOrg(organizationId),
      this.collections.accessByCollection(organizationId),
    ]);
    return all.map((c) => ({ ...c, users: access.get(c.id)?.users ?? [], groups: access.get(c.id)?.groups ?? [] }));
  }

  async getWithAccess(organizationId: string, collectionId: string): Promise<CollectionWithAccess> {
    const collection = await this.collections.findInOrg(organizationId, collectionId);
    if (!collection) throw notFound('Collection');
    return this.withAccess(collection);
  }

  /** One collection with its access, for a caller who manages it (or holds editAnyCollection). */
  async getManageable(actor: Membership, collectionId: string): Promise<CollectionWithAccess> {
    return this.withAccess(await this.requireManageable(actor, collectionId, 'editAnyCollection'));
  }

  /** The public API changes a collection's external id and group access; names are encrypted client-side. */
  async updateExternal(
    actor: Membership,
    collectionId: string,
    change: { externalId: string | null; groups: AccessSelection[] },
  ): Promise<CollectionWithAccess> {
    const current = await this.getWithAccess(actor.organizationId, collectionId);
    return this.update(actor, collectionId, {
      name: current.name,
      externalId: change.externalId,
      users: current.users,
      groups: change.groups,
    });
  }

  private async withAccess(collection: Collection): Promise<CollectionWithAccess> {
    return { ...collection, ...(await this.collections.accessOf(collection.id)) };
  }

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

  async create(actor: Membership, body: z.infer<typeof collectionRequestSchema>): Promise<CollectionWithAccess> {
    const created = await this.db.transaction(async () => {
      const collection = await this.collections.insert(actor.organizationId, body.name, body.externalId ?? null);
      const users: AccessSelection[] = body.users ?? [];
      // A creator without org-wide rights must be able to manage what they just made.
      if (!allows(actor, 'editAnyCollection') && !users.some((u) => u.id === actor.id)) {
        users.push({ id: actor.id, readOnly: false, hidePasswords: false, manage: true });
      }
      await this.collections.setAccess(actor.organizationId, collection.id, users, body.groups ?? []);
      await this.touchOrg(actor.organizationId);
      await this.events.record({
        type: EventType.Collection_Created,
        organizationId: actor.organizationId,
        collectionId: collection.id,
      });
      return collection;
    });
    return this.withAccess(created);
  }

  async update(
    actor: Membership,
    collectionId: string,
    body: z.infer<typeof collectionRequestSchema>,
  ): Promise<CollectionWithAccess> {
    await this.requireManageable(actor, collectionId, 'editAnyCollection');
    const updated = await this.db.transaction(async () => {
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
      await this.events.record({
        type: EventType.Collection_Updated,
        organizationId: actor.organizationId,
        collectionId,
      });
      const updated = await this.collections.findInOrg(actor.organizationId, collectionId);
      if (!updated) throw notFound('Collection');
      return updated;
    });
    return this.withAccess(updated);
  }

  async delete(actor: Membership, collectionIds: string[]): Promise<void> {
    // Every id must be the org's and, without org-wide rights, one the actor manages: two queries at most.
    const inOrg = new Set(await this.collections.existingInOrg(actor.organizationId, collectionIds));
    const manageable = allows(actor, 'deleteAnyCollection')
      ? null
      : new Set((await this.collections.listForUser(actor.userId ?? '')).filter((c) => c.manage).map((c) => c.id));
    if (collectionIds.some((id) => !inOrg.has(id) || (manageable !== null && !manageable.has(id))))
      throw notFound('Collection');
    await this.db.transaction(async () => {
      await this.collections.delete(actor.organizationId, collectionIds);
      await this.touchOrg(actor.organizationId);
      await this.events.record(
        collectionIds.map((collectionId) => ({
          type: EventType.Collection_Deleted,
          organizationId: actor.organizationId,
          collectionId,
        })),
      );
    });
    // Items may have left the members' view with the collections: their clients run a full sync.
    this.push.publishToUsers(PushType.SyncVault, await this.members.userIdsOf(actor.organizationId));
  }

  /** Collections and access changed: every confirmed member's clients should sync. */
  private async touchOrg(organizationId: string): Promise<void> {
    await this.revisions.touchOrganizationMembers(organizationId);
  }
}
