import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { scimPatch, type ScimPatchOperation } from 'scim-patch';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, PushType } from '@keyhaven/contracts';
import { PushPublisher } from '@keyhaven/bus';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { GroupsService } from '../groups.service';
import { asScim, scimActor } from './scim-actor';
import { conflictIfClash, scimBadRequest, scimConflict, scimNotFound } from './scim-error';
import { applyMemberOperations, memberValues } from './scim-group-members';
import { groupLocation, scimBaseUrl, scimGroupJson, scimListJson } from './scim-json';
import { parsePaging } from './scim-paging';
import { normalizeOperations, parseScim, patchBodySchema } from './scim-patch-body';
import { ScimRepository, type ScimGroupRow } from './scim.repository';
import { randomExternalId } from './scim-users.service';

/** A Group as directories send it (property names lower-cased). */
export const scimGroupSchema = z.object({
  displayname: z.string().trim().min(1).max(100).nullish(),
  externalid: z.string().max(300).nullish(),
  members: z.array(z.unknown()).max(100_000).nullish(),
});

/**
 * SCIM Groups over Keyhaven groups (and so over the collections they grant), through GroupsService.
 * Membership changes are computed as sets; the members whose access changed re-sync (their account
 * revision moves and they get SyncOrgKeys), and each gets an UpdatedGroups event.
 */
@Injectable()
export class ScimGroupsService {
  constructor(
    private readonly db: Database,
    private readonly scim: ScimRepository,
    private readonly groups: GroupsService,
    private readonly revisions: AccountRevisionService,
    private readonly push: PushPublisher,
    private readonly events: EventRecorder,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  private base(organizationId: string): string {
    return scimBaseUrl(this.config.DOMAIN, organizationId);
  }

  async list(organizationId: string, query: Record<string, unknown>): Promise<Record<string, unknown>> {
    const paging = parsePaging(query);
    const filter = typeof query['filter'] === 'string' ? query['filter'] : undefined;
    const page = await this.scim.listGroups(organizationId, filter, paging.startIndex - 1, paging.count);
    return scimListJson(
      page.rows.map((r) => scimGroupJson(r, this.base(organizationId))),
      page.total,
      paging.startIndex,
    );
  }

  async get(organizationId: string, id: string): Promise<Record<string, unknown>> {
    return scimGroupJson(await this.require(organizationId, id), this.base(organizationId));
  }

  private async require(organizationId: string, id: string): Promise<ScimGroupRow> {
    const row = await this.scim.findGroup(organizationId, id);
    if (!row) throw scimNotFound('Group');
    return row;
  }

  async create(
    organizationId: string,
    body: z.infer<typeof scimGroupSchema>,
  ): Promise<{ location: string; body: Record<string, unknown> }> {
    if (!body.displayname) throw scimBadRequest('displayName is required.', 'invalidValue');
    const name = body.displayname;
    const externalId = body.externalid ?? randomExternalId();
    const memberIds = await this.orgMembers(organizationId, memberValues(body.members));
    const clash = this.externalIdClash(organizationId, externalId, null);
    const created = await conflictIfClash(
      () =>
        asScim(() =>
          this.db.transaction(async () => {
            const found = await clash();
            if (found) throw scimConflict(found);
            const group = await this.groups.create(scimActor(organizationId), { name, externalId, users: memberIds });
            await this.recordMemberChanges(organizationId, memberIds);
            return group;
          }),
        ),
      clash,
    );
    await this.announce(organizationId, memberIds);
    const row = await this.require(organizationId, created.id);
    return {
      location: groupLocation(this.base(organizationId), row.id),
      body: scimGroupJson(row, this.base(organizationId)),
    };
  }

  /** PUT: the name, and the members when the body lists them (replacing them); externalId stays. */
  async replace(
    organizationId: string,
    id: string,
    body: z.infer<typeof scimGroupSchema>,
  ): Promise<Record<string, unknown>> {
    const group = await this.require(organizationId, id);
    const wanted = body.members ? new Set(await this.orgMembers(organizationId, memberValues(body.members))) : null;
    await this.apply(organizationId, group, body.displayname ?? group.name, group.externalId, wanted);
    return this.get(organizationId, id);
  }

  /** PATCH: member operations as sets, displayName and externalId through scim-patch; one transaction. */
  async patch(organizationId: string, id: string, raw: unknown): Promise<void> {
    const body = parseScim(patchBodySchema, raw);
    const group = await this.require(organizationId, id);
    const current = new Set(await this.scim.groupMemberIds(id));
    const { members, rest } = applyMemberOperations(current, body.operations);
    const operations = normalizeOperations({ operations: [...rest] }, ['displayName', 'externalId']);
    let name = group.name;
    let externalId = group.externalId;
    if (operations.length > 0) {
      const resource = {
        schemas: [],
        meta: { created: group.created, lastModified: group.lastModified },
        displayName: group.name,
        externalId: group.externalId,
      };
      let patched: typeof resource;
      try {
        patched = scimPatch(resource, operations as ScimPatchOperation[], { mutateDocument: false });
      } catch (error) {
        throw scimBadRequest(error instanceof Error ? error.message : 'Invalid patch.', 'invalidSyntax');
      }
      if (typeof patched.displayName !== 'string' || patched.displayName.trim() === '')
        throw scimBadRequest('displayName must be a non-empty string.', 'invalidValue');
      if (patched.displayName.length > 100)
        throw scimBadRequest('displayName is longer than 100 characters.', 'invalidValue');
      name = patched.displayName;
      externalId = typeof patched.externalId === 'string' ? patched.externalId : null;
      if (externalId !== null && externalId.length > 300)
        throw scimBadRequest('externalId is longer than 300 characters.', 'invalidValue');
    }
    const added = [...members].filter((m) => !current.has(m));
    const wanted = added.length > 0 || members.size !== current.size ? members : null;
    const kept = wanted ? new Set(await this.orgMembers(organizationId, [...wanted])) : null;
    await this.apply(organizationId, group, name, externalId, kept);
  }

  async delete(organizationId: string, id: string): Promise<void> {
    await this.require(organizationId, id);
    const memberIds = await this.scim.groupMemberIds(id);
    await asScim(() => this.groups.delete(organizationId, [id]));
    await this.announce(organizationId, memberIds);
  }

  /** Writes what changed (nothing when nothing did: Entra re-sends adds of present members). */
  private async apply(
    organizationId: string,
    group: ScimGroupRow,
    name: string,
    externalId: string | null,
    wanted: ReadonlySet<string> | null,
  ): Promise<void> {
    const current = new Set(await this.scim.groupMemberIds(group.id));
    const changed = wanted
      ? [...[...wanted].filter((m) => !current.has(m)), ...[...current].filter((m) => !wanted.has(m))]
      : [];
    const renamed = name !== group.name || externalId !== group.externalId;
    if (!renamed && changed.length === 0) return;
    const actor = scimActor(organizationId);
    const clash = this.externalIdClash(organizationId, externalId, group.id);
    await conflictIfClash(
      () =>
        asScim(() =>
          this.db.transaction(async () => {
            if (externalId !== group.externalId) {
              const found = await clash();
              if (found) throw scimConflict(found);
            }
            if (renamed) await this.groups.update(actor, group.id, { name, externalId });
            if (wanted && changed.length > 0) {
              await this.groups.setMembers(actor, group.id, [...wanted]);
              await this.recordMemberChanges(organizationId, changed);
            }
          }),
        ),
      clash,
    );
    await this.announce(organizationId, changed);
  }

  /** SCIM's 409 detail when another group of the organization has `externalId`, else null. */
  private externalIdClash(organizationId: string, externalId: string | null, exceptId: string | null) {
    return async (): Promise<string | null> =>
      externalId !== null && (await this.scim.groupExternalIdTaken(organizationId, externalId, exceptId))
        ? 'A group with this externalId already exists in the organization.'
        : null;
  }

  /** Of `ids`, those that are members of the organization (others are ignored, as Bitwarden does). */
  private async orgMembers(organizationId: string, ids: readonly string[]): Promise<string[]> {
    return (await this.scim.membersOf(organizationId, [...new Set(ids)])).map((m) => m.id);
  }

  private async recordMemberChanges(organizationId: string, memberIds: readonly string[]): Promise<void> {
    const members = await this.scim.membersOf(organizationId, memberIds);
    await this.revisions.touchUsers(members.flatMap((m) => (m.userId ? [m.userId] : [])));
    await this.events.record(
      members.map((m) => ({
        type: EventType.OrganizationUser_UpdatedGroups,
        organizationId,
        organizationUserId: m.id,
      })),
    );
  }

  /** After commit: the members whose group access changed re-sync their organizations and items. */
  private async announce(organizationId: string, memberIds: readonly string[]): Promise<void> {
    const members = await this.scim.membersOf(organizationId, memberIds);
    this.push.publishToUsers(
      PushType.SyncOrgKeys,
      members.flatMap((m) => (m.userId ? [m.userId] : [])),
    );
  }
}
