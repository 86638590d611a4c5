import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { scimPatch, type ScimPatchOperation } from 'scim-patch';
import { z } from 'zod';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database } from '@keyhaven/db';
import { normalizeEmail } from '@keyhaven/domain-auth';
import { MemberStatus, MemberType } from '../enums';
import { MembersService } from '../members.service';
import { asScim, scimActor } from './scim-actor';
import { ScimError, conflictIfClash, scimBadRequest, scimConflict, scimNotFound } from './scim-error';
import { scimBaseUrl, scimListJson, scimUserJson, userLocation } from './scim-json';
import { parsePaging } from './scim-paging';
import { normalizeOperations, parseScim, patchBodySchema, readBoolean } from './scim-patch-body';
import { ScimRepository, type ScimUserRow } from './scim.repository';
import { ScimSetupService } from './scim-setup.service';

const email = z.object({
  value: z.string().max(256).nullish(),
  primary: z.union([z.boolean(), z.string()]).nullish(),
  type: z.string().nullish(),
});

/** What a directory sends for a User (property names already lower-cased: SCIM ignores their case). */
export const scimUserSchema = z.object({
  username: z.string().max(256).nullish(),
  externalid: z.string().max(300).nullish(),
  active: z.union([z.boolean(), z.string()]).nullish(),
  emails: z.array(email).max(20).nullish(),
  displayname: z.string().max(256).nullish(),
});

/** Which directory is calling, from the request (ENTERPRISE.md §4.4). */
export type ScimProvider = 'entra' | 'okta' | 'default';

export function detectProvider(headers: Record<string, string | string[] | undefined>): ScimProvider {
  if (headers['adscimversion'] !== undefined) return 'entra';
  const agent = headers['user-agent'];
  if (typeof agent === 'string' && agent.startsWith('Okta')) return 'okta';
  return 'default';
}

const isEmail = (v: string | null | undefined): v is string => typeof v === 'string' && /^[^\s@]+@[^\s@]+$/.test(v);

/** Bitwarden's choice of address: primary, then (Entra) userName, then the work one, then the first. */
function chooseEmail(body: z.infer<typeof scimUserSchema>, provider: ScimProvider): string | null {
  const emails = body.emails ?? [];
  const primary = emails.find((e) => e.primary === true || String(e.primary).toLowerCase() === 'true')?.value;
  const candidates = [
    primary,
    provider === 'entra' ? body.username : undefined,
    emails.find((e) => e.type?.toLowerCase() === 'work')?.value,
    emails[0]?.value,
    provider === 'entra' ? undefined : body.username,
  ];
  const chosen = candidates.find(isEmail);
  return chosen ? normalizeEmail(chosen) : null;
}

/** 15 random alphanumerics, for a User or Group that arrives without an externalId (as Bitwarden). */
export function randomExternalId(): string {
  return randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 15);
}

/**
 * SCIM Users over organization memberships (the id is the membership id). Every change goes through
 * MembersService — invitations, revocation, restoration and removal keep their rules (seat limit,
 * policies, last owner), their events and their pushes — with SCIM as the acting system.
 */
@Injectable()
export class ScimUsersService {
  constructor(
    private readonly db: Database,
    private readonly scim: ScimRepository,
    private readonly members: MembersService,
    private readonly setup: ScimSetupService,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  baseUrl(organizationId: string): string {
    return scimBaseUrl(this.config.DOMAIN, organizationId);
  }

  async list(organizationId: string, query: Record<string, unknown>): Promise<Record<string, unknown>> {
    const paging = parsePaging(query);
    const filter = typeof query['filter'] === 'string' ? query['filter'] : undefined;
    const page = await this.scim.listUsers(organizationId, filter, paging.startIndex - 1, paging.count);
    const base = this.baseUrl(organizationId);
    return scimListJson(
      page.rows.map((r) => scimUserJson(r, base)),
      page.total,
      paging.startIndex,
    );
  }

  async get(organizationId: string, id: string): Promise<Record<string, unknown>> {
    return scimUserJson(await this.require(organizationId, id), this.baseUrl(organizationId));
  }

  private async require(organizationId: string, id: string): Promise<ScimUserRow> {
    const row = await this.scim.findUser(organizationId, id);
    if (!row) throw scimNotFound('User');
    return row;
  }

  /** An invitation (or, with `inviteUsersAfterProvisioning: false`, the same member without the mail). */
  async create(
    organizationId: string,
    body: z.infer<typeof scimUserSchema>,
    provider: ScimProvider,
  ): Promise<{ location: string; body: Record<string, unknown> }> {
    if (body.active !== undefined && body.active !== null && readBoolean(body.active) === false)
      throw scimBadRequest('A new user must be active.', 'invalidValue');
    const address = chooseEmail(body, provider);
    if (!address) throw scimBadRequest('The user needs an email address.', 'invalidValue');
    const externalId = body.externalid ?? body.username ?? randomExternalId();
    const clash = async (): Promise<string | null> => {
      const taken = await this.scim.findUserClash(organizationId, address, externalId);
      return taken ? `A user with this ${taken} already exists in the organization.` : null;
    };
    const found = await clash();
    if (found) throw scimConflict(found);
    const actor = scimActor(organizationId);
    const spec = { type: MemberType.User, permissions: null, collections: [], groups: [] } as const;
    const id = await conflictIfClash(
      () =>
        asScim(async () => {
          if (await this.setup.invitesByMail(organizationId)) {
            return (await this.members.inviteOne(actor, { ...spec, email: address, externalId })).member.id;
          }
          const [staged] = await this.db.transaction(() =>
            this.members.insertInvitations(actor, spec, [{ email: address, externalId }]),
          );
          return staged?.id ?? '';
        }),
      clash,
    );
    const row = await this.require(organizationId, id);
    return {
      location: userLocation(this.baseUrl(organizationId), id),
      body: scimUserJson(row, this.baseUrl(organizationId)),
    };
  }

  /** PUT honours `active` only (as Bitwarden): name, email and externalId stay as they are. */
  async replace(
    organizationId: string,
    id: string,
    body: z.infer<typeof scimUserSchema>,
  ): Promise<Record<string, unknown>> {
    const row = await this.require(organizationId, id);
    if (body.active !== undefined && body.active !== null) {
      const active = readBoolean(body.active);
      if (active === null) throw scimBadRequest('active must be a boolean.', 'invalidValue');
      await this.setActive(organizationId, row, active);
    }
    return this.get(organizationId, id);
  }

  /**
   * PATCH through scim-patch over `{active, externalId}`: `replace` or `add` in any case, with or
   * without a path, string booleans (Entra's "False"). Other attributes are accepted and ignored.
   */
  async patch(organizationId: string, id: string, raw: unknown): Promise<void> {
    const operations = normalizeOperations(parseScim(patchBodySchema, raw), ['active', 'externalId']);
    const row = await this.require(organizationId, id);
    const before = { active: row.status !== MemberStatus.Revoked, externalId: row.externalId };
    const resource = {
      schemas: [],
      meta: { created: row.created, lastModified: row.lastModified },
      ...before,
    };
    let after: typeof resource;
    try {
      after = scimPatch(resource, operations as ScimPatchOperation[], { mutateDocument: false });
    } catch (error) {
      throw scimBadRequest(error instanceof Error ? error.message : 'Invalid patch.', 'invalidSyntax');
    }
    const active = readBoolean(after.active);
    if (active === null) throw scimBadRequest('active must be a boolean.', 'invalidValue');
    const externalId = typeof after.externalId === 'string' ? after.externalId : null;
    if (externalId !== null && externalId.length > 300)
      throw scimBadRequest('externalId is longer than 300 characters.', 'invalidValue');
    const clash = async (): Promise<string | null> =>
      externalId !== null && (await this.scim.findUserClash(organizationId, null, externalId, id)) !== null
        ? 'A user with this externalId already exists in the organization.'
        : null;
    await conflictIfClash(
      () =>
        this.db.transaction(async () => {
          if (externalId !== null && externalId !== before.externalId) {
            const found = await clash();
            if (found) throw scimConflict(found);
            await this.setExternalId(organizationId, id, externalId);
          }
          if (active !== before.active) await this.setActive(organizationId, row, active);
        }),
      clash,
    );
  }

  /** Removes the membership; the account stays. */
  async delete(organizationId: string, id: string): Promise<void> {
    await this.require(organizationId, id);
    await asScim(() => this.members.remove(scimActor(organizationId), [id]));
  }

  /** `false` revokes (the prior status is derivable and restored); `true` restores. */
  private async setActive(organizationId: string, row: ScimUserRow, active: boolean): Promise<void> {
    const revoked = row.status === MemberStatus.Revoked;
    const actor = scimActor(organizationId);
    if (active && revoked) await asScim(() => this.members.restore(actor, [row.id]));
    if (!active && !revoked) await asScim(() => this.members.revoke(actor, [row.id]));
  }

  private async setExternalId(organizationId: string, id: string, externalId: string): Promise<void> {
    const actor = scimActor(organizationId);
    const [current] = await this.members.listWithAccess(organizationId, [id]);
    if (!current) throw scimNotFound('User');
    await asScim(() =>
      this.members.update(
        actor,
        id,
        { type: current.member.type as 0 | 1 | 2 | 4, permissions: current.member.permissions },
        externalId,
      ),
    );
  }
}

export const isScimError = (e: unknown): e is ScimError => e instanceof ScimError;
