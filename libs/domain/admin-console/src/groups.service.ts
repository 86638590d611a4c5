import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database } from '@keyhaven/db';
import { notFound, guid } from '@keyhaven/contracts';
import { GrantRules } from './grant-rules';
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

@Injectable()
export class GroupsService {
  constructor(
    private readonly db: Database,
    private readonly groups: GroupRepository,
    private readonly grants: GrantRules,
  ) {}

  async require(organizationId: string, id: string): Promise<Group> {
    const group = await this.groups.findInOrg(organizationId, id);
    if (!group) throw notFound('Group');
    return group;
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

  async create(actor: Membership, body: z.infer<typeof groupRequestSchema>): Promise<Group> {
    const organizationId = actor.organizationId;
    await this.assertMayGrant(actor, body);
    return this.db.transaction(async () => {
      const group = await this.groups.insert(organizationId, body.name, body.externalId ?? null);
      await this.groups.setCollections(organizationId, group.id, body.collections ?? []);
      await this.groups.setMembers(organizationId, group.id, body.users ?? []);
      return group;
    });
  }

  async update(actor: Membership, id: string, body: z.infer<typeof groupRequestSchema>): Promise<Group> {
    const organizationId = actor.organizationId;
    await this.require(organizationId, id);
    await this.assertMayGrant(actor, body);
    await this.db.transaction(async () => {
      await this.groups.update(organizationId, id, body.name, body.externalId ?? null);
      if (body.collections) await this.groups.setCollections(organizationId, id, body.collections);
      if (body.users) await this.groups.setMembers(organizationId, id, body.users);
    });
    return this.require(organizationId, id);
  }

  async setMembers(actor: Membership, id: string, memberIds: string[]): Promise<void> {
    const organizationId = actor.organizationId;
    await this.require(organizationId, id);
    this.grants.assertNotSelf(actor, memberIds);
    await this.db.transaction(() => this.groups.setMembers(organizationId, id, memberIds));
  }

  async delete(organizationId: string, ids: string[]): Promise<void> {
    const deleted = await this.groups.delete(organizationId, ids);
    if (deleted.length === 0) throw notFound('Group');
  }
}
