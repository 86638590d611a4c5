import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, notFound, guid } from '@keyhaven/contracts';
import { GrantRules } from './grant-rules';
import type { AccessSelection } from './collection.repository';
import { GroupRepository, type Group } from './group.repository';
import type { Membership } from './membership';

const access = z.object({
  id: guid,
  readOnly: z.boolean().default(false),
  hidePasswords: z.boolean().default(false),
  manage: z.boolean().default(false),
});

export const groupRequestSchema = z.object({
  name: z.string().min(1).max(100),
  externalId: z.string().max(300).nullish(),
  collections: z.array(access).nullish(),
  users: z.array(guid).nullish(),
});

/** A group with the collections it grants. */
export interface GroupWithCollections extends Group {
  readonly collections: AccessSelection[];
}

@Injectable()
export class GroupsService {
  constructor(
    private readonly db: Database,
    private readonly groups: GroupRepository,
    private readonly grants: GrantRules,
    private readonly events: EventRecorder,
  ) {}

  async require(organizationId: string, id: string): Promise<Group> {
    const group = await this.groups.findInOrg(organizationId, id);
    if (!group) throw notFound('Group');
    return group;
  }

  list(organizationId: string): Promise<Group[]> {
    return this.groups.listForOrg(organizationId);
  }

  /** Every group with its collections: two queries whatever the number of groups. */
  async listWithCollections(organizationId: string): Promise<GroupWithCollections[]> {
    const [groups, collections] = await Promise.all([
      this.groups.listForOrg(organizationId),
      this.groups.collectionsByGroup(organizationId),
    ]);
    return groups.map((g) => ({ ...g, collections: collections.get(g.id) ?? [] }));
  }

  async getWithCollections(organizationId: string, id: string): Promise<GroupWithCollections> {
    const group = await this.require(organizationId, id);
    return { ...group, collections: await this.groups.collectionsOf(id) };
  }

  async memberIds(organizationId: string, id: string): Promise<string[]> {
    await this.require(organizationId, id);
    return this.groups.membersOf(id);
  }

  /** What a group change may hand out: collections the actor manages, and never the actor themself. */
  private async assertMayGrant(
    actor: Membership,
    body: { collections?: { id: string }[] | null; users?: string[] | null },
  ): Promise<void> {
    await this.grants.assertMayGrantCollections(
      actor,
      (body.collections ?? []).map((c) => c.id),
    );
    this.grants.assertNotSelf(actor, body.users ?? []);
  }

  async create(actor: Membership, body: z.infer<typeof groupRequestSchema>): Promise<GroupWithCollections> {
    const organizationId = actor.organizationId;
    await this.assertMayGrant(actor, body);
    const group = await this.db.transaction(async () => {
      const group = await this.groups.insert(organizationId, body.name, body.externalId ?? null);
      await this.groups.setCollections(organizationId, group.id, body.collections ?? []);
      await this.groups.setMembers(organizationId, group.id, body.users ?? []);
      await this.events.record({ type: EventType.Group_Created, organizationId, groupId: group.id });
      return group;
    });
    return { ...group, collections: await this.groups.collectionsOf(group.id) };
  }

  async update(actor: Membership, id: string, body: z.infer<typeof groupRequestSchema>): Promise<GroupWithCollections> {
    const organizationId = actor.organizationId;
    await this.require(organizationId, id);
    await this.assertMayGrant(actor, body);
    await this.db.transaction(async () => {
      await this.groups.update(organizationId, id, body.name, body.externalId ?? null);
      if (body.collections)
        await this.groups.setCollections(
          organizationId,
          id,
          await this.grants.keepUnmanaged(actor, await this.groups.collectionsOf(id), body.collections),
        );
      if (body.users) await this.groups.setMembers(organizationId, id, body.users);
      await this.events.record({ type: EventType.Group_Updated, organizationId, groupId: id });
    });
    return this.getWithCollections(organizationId, id);
  }

  async setMembers(actor: Membership, id: string, memberIds: string[]): Promise<void> {
    const organizationId = actor.organizationId;
    await this.require(organizationId, id);
    this.grants.assertNotSelf(actor, memberIds);
    await this.db.transaction(async () => {
      await this.groups.setMembers(organizationId, id, memberIds);
      await this.events.record({ type: EventType.Group_Updated, organizationId, groupId: id });
    });
  }

  async delete(organizationId: string, ids: string[]): Promise<void> {
    await this.db.transaction(async () => {
      const deleted = await this.groups.delete(organizationId, ids);
      if (deleted.length === 0) throw notFound('Group');
      await this.events.record(deleted.map((groupId) => ({ type: EventType.Group_Deleted, organizationId, groupId })));
    });
  }
}
