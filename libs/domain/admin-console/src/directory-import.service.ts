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

  /**
   * A fixed number of statements whatever the directory's size: one read of the members and one of
   * the groups, then one bulk statement per kind of change (removals, external ids, invitations,
   * new groups, renamed groups, group members), all in one transaction; mails after commit.
   */
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

      // Members the directory already has keep their row (their external id follows the directory);
      // everyone else with an email is invited as a User.
      const externalIds = new Map<string, string>();
      const invitees: { email: string; externalId: string }[] = [];
      for (const entry of body.members.filter((m) => !m.deleted)) {
        const email = entry.email ? normalizeEmail(entry.email) : null;
        const match = byExternal.get(entry.externalId) ?? (email ? byEmail.get(email) : undefined);
        if (match && !toRemove.has(match.id)) {
          if (match.externalId !== entry.externalId) externalIds.set(match.id, entry.externalId);
          continue;
        }
        if (email) invitees.push({ email, externalId: entry.externalId });
      }
      await this.members.setExternalIds(
        orgId,
        [...externalIds].map(([id, externalId]) => ({ id, externalId })),
      );
      const created = await this.membersService.insertInvitations(
        actor,
        { type: MemberType.User, permissions: null, collections: [], groups: [] },
        invitees,
      );

      // External id → member, as the organization now stands (later rows win, as in a fresh listing).
      const memberByExternal = new Map<string, string>();
      for (const member of existing) {
        if (toRemove.has(member.id)) continue;
        const externalId = externalIds.get(member.id) ?? member.externalId;
        if (externalId) memberByExternal.set(externalId, member.id);
      }
      created.forEach((m, i) => memberByExternal.set(invitees[i]?.externalId ?? '', m.id));

      const existingGroups = new Map(
        (await this.groups.listForOrg(orgId)).filter((g) => g.externalId).map((g) => [g.externalId ?? '', g]),
      );
      const renamed: { id: string; name: string }[] = [];
      const added: { name: string; externalId: string }[] = [];
      const slots: { groupId: string | null; addedIndex: number; memberIds: string[] }[] = [];
      for (const entry of body.groups) {
        const memberIds = entry.memberExternalIds.flatMap((id) => memberByExternal.get(id) ?? []);
        const group = existingGroups.get(entry.externalId);
        if (group) {
          if (group.name !== entry.name) renamed.push({ id: group.id, name: entry.name });
          slots.push({ groupId: group.id, addedIndex: -1, memberIds });
        } else {
          slots.push({ groupId: null, addedIndex: added.length, memberIds });
          added.push({ name: entry.name, externalId: entry.externalId });
        }
      }
      const inserted = await this.groups.insertMany(orgId, added);
      await this.groups.renameMany(orgId, renamed);
      // A group listed twice ends with the members of its last entry.
      const members = new Map<string, string[]>();
      for (const slot of slots) {
        const groupId = slot.groupId ?? inserted[slot.addedIndex]?.id;
        if (groupId) members.set(groupId, slot.memberIds);
      }
      await this.groups.replaceMembers(orgId, members);
      return { removed: toRemove.size, created };
    });
    await this.membersService.sendInvites(orgId, created);
    const invited = created.length;
    return { invited, removed, groups: body.groups.length };
  }
}
