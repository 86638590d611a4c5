import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database } from '@keyhaven/db';
import { normalizeEmail } from '@keyhaven/domain-auth';
import { MemberType } from './enums';
import { GroupRepository } from './group.repository';
import { MemberRepository } from './member.repository';
import type { Membership } from './membership';
import { MembersService } from './members.service';

export const directoryImportSchema = z.object({
  groups: z
    .array(
      z.object({
        name: z.string().min(1).max(100),
        externalId: z.string().min(1).max(300),
        memberExternalIds: z.array(z.string()).default([]),
      }),
    )
    .default([]),
  members: z
    .array(
      z.object({
        email: z.string().max(256).nullish(),
        externalId: z.string().min(1).max(300),
        deleted: z.boolean().default(false),
      }),
    )
    .default([]),
  overwriteExisting: z.boolean().default(false),
  largeImport: z.boolean().default(false),
});

export interface DirectoryImportResult {
  readonly invited: number;
  readonly removed: number;
  readonly groups: number;
}

/**
 * `POST public/organization/import` (the Directory Connector): members are matched by external id,
 * then email; new ones are invited as Users, deleted ones removed; groups are matched by external id
 * and their members replaced. With overwriteExisting, members the directory no longer has are removed
 * (owners never are).
 */
@Injectable()
export class DirectoryImportService {
  constructor(
    private readonly db: Database,
    private readonly members: MemberRepository,
    private readonly groups: GroupRepository,
    private readonly membersService: MembersService,
  ) {}

  async import(actor: Membership, body: z.infer<typeof directoryImportSchema>): Promise<DirectoryImportResult> {
    const orgId = actor.organizationId;
    // One transaction for removals, invitations and groups: a failure anywhere leaves the org as it was.
    const { removed, created } = await this.db.transaction(async () => {
      const existing = await this.members.listDetails(orgId);
      const byExternal = new Map(existing.filter((m) => m.externalId).map((m) => [m.externalId ?? '', m]));
      const byEmail = new Map(existing.map((m) => [m.userEmail ?? m.email ?? '', m]));

      const toRemove = new Set<string>();
      for (const entry of body.members.filter((m) => m.deleted)) {
        const member =
          byExternal.get(entry.externalId) ?? (entry.email ? byEmail.get(normalizeEmail(entry.email)) : undefined);
        if (member && member.type !== MemberType.Owner) toRemove.add(member.id);
      }
      if (body.overwriteExisting) {
        const listed = new Set(body.members.filter((m) => !m.deleted).map((m) => m.externalId));
        for (const member of existing) {
          if (member.externalId && !listed.has(member.externalId) && member.type !== MemberType.Owner)
            toRemove.add(member.id);
        }
      }
      if (toRemove.size > 0) await this.members.delete(orgId, [...toRemove]);

      const newMembers: { id: string; email: string }[] = [];
      for (const entry of body.members.filter((m) => !m.deleted)) {
        const email = entry.email ? normalizeEmail(entry.email) : null;
        const match = byExternal.get(entry.externalId) ?? (email ? byEmail.get(email) : undefined);
        if (match && !toRemove.has(match.id)) {
          if (match.externalId !== entry.externalId)
            await this.members.update(orgId, match.id, { external_id: entry.externalId });
          continue;
        }
        if (!email) continue;
        const [invited] = await this.membersService.insertInvites(actor, {
          emails: [email],
          type: MemberType.User,
          permissions: null,
          collections: [],
          groups: [],
        });
        if (invited) {
          await this.members.update(orgId, invited.id, { external_id: entry.externalId });
          newMembers.push(invited);
        }
      }

      const current = await this.members.listDetails(orgId);
      const memberByExternal = new Map(current.filter((m) => m.externalId).map((m) => [m.externalId ?? '', m.id]));
      const existingGroups = new Map(
        (await this.groups.listForOrg(orgId)).filter((g) => g.externalId).map((g) => [g.externalId ?? '', g]),
      );
      for (const entry of body.groups) {
        const group =
          existingGroups.get(entry.externalId) ?? (await this.groups.insert(orgId, entry.name, entry.externalId));
        if (group.name !== entry.name) await this.groups.update(orgId, group.id, entry.name, entry.externalId);
        const memberIds = entry.memberExternalIds.flatMap((id) => memberByExternal.get(id) ?? []);
        await this.groups.setMembers(orgId, group.id, memberIds);
      }
      return { removed: toRemove.size, created: newMembers };
    });
    await this.membersService.sendInvites(orgId, created);
    const invited = created.length;
    return { invited, removed, groups: body.groups.length };
  }
}
