import { randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, badRequest, guid, notFound } from '@keyhaven/contracts';
import { AccountsService, UserRepository, constantTimeEquals } from '@keyhaven/domain-auth';
import { allows, type Membership } from '../membership';
import { OrgAccess } from '../org-access';
import { OrganizationRepository } from '../organization.repository';
import { SCIM_TYPE, ScimRepository, type ScimConnection } from './scim.repository';

/** `POST/PUT api/organizations/connections`: only the SCIM type (2) is served. */
export const connectionSchema = z.object({
  type: z.literal(SCIM_TYPE, { message: 'Only SCIM connections (type 2) are supported.' }),
  organizationId: guid,
  enabled: z.boolean().default(false),
  config: z
    .object({
      enabled: z.boolean().default(false),
      scimProvider: z.number().int().min(0).max(100).nullish(),
      inviteUsersAfterProvisioning: z.boolean().nullish(),
    })
    .nullish(),
});

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Bitwarden's SCIM keys are 30 random alphanumerics. */
export function newScimKey(): string {
  let key = '';
  for (let i = 0; i < 30; i += 1) key += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)] ?? 'A';
  return key;
}

export interface ConnectionView {
  readonly id: string | null;
  readonly type: number;
  readonly organizationId: string | null;
  readonly enabled: boolean;
  readonly config: Record<string, unknown> | null;
}

/**
 * Turning SCIM on for an organization: its connection (the web vault's `organizations/connections`,
 * type 2) and its SCIM key (`api-key` type 2, rotation), as the admin console and the operator CLI
 * do it; and the check every SCIM request passes.
 */
@Injectable()
export class ScimSetupService {
  constructor(
    private readonly db: Database,
    private readonly scim: ScimRepository,
    private readonly organizations: OrganizationRepository,
    private readonly users: UserRepository,
    private readonly accounts: AccountsService,
    private readonly events: EventRecorder,
    private readonly access: OrgAccess,
  ) {}

  /** `POST connections`: the organization is named in the body, so the permission is checked here. */
  async createConnectionAs(userId: string, body: z.infer<typeof connectionSchema>): Promise<Record<string, unknown>> {
    await this.access.require(body.organizationId, userId, 'manageScim');
    return connectionJson(await this.saveConnection(body.organizationId, body));
  }

  /** `PUT connections/{id}`: the connection must belong to the organization named in the body. */
  async updateConnectionAs(
    userId: string,
    connectionId: string,
    body: z.infer<typeof connectionSchema>,
  ): Promise<Record<string, unknown>> {
    await this.access.require(body.organizationId, userId, 'manageScim');
    return connectionJson(await this.updateConnection(connectionId, body.organizationId, body));
  }

  /** True when `presented` is the organization's SCIM key and SCIM is on; compared in constant time. */
  async verifyKey(organizationId: string, presented: string): Promise<boolean> {
    const key = await this.scim.activeKey(organizationId);
    return key !== null && constantTimeEquals(key, presented);
  }

  /** The web vault reads a missing connection as 200 with nulls, not 404. */
  async connectionJson(organizationId: string, type: number): Promise<Record<string, unknown>> {
    const found = type === SCIM_TYPE ? await this.scim.findConnection(organizationId, type) : null;
    return connectionJson(found ?? { id: null, type, organizationId: null, enabled: false, config: null });
  }

  async saveConnection(organizationId: string, body: z.infer<typeof connectionSchema>): Promise<ScimConnection> {
    if (body.organizationId.toLowerCase() !== organizationId.toLowerCase()) throw notFound('Organization');
    const config = { enabled: body.config?.enabled ?? false, ...configExtras(body.config) };
    return this.db.transaction(async () => {
      const saved = await this.scim.saveConnection(organizationId, SCIM_TYPE, body.enabled, config);
      await this.events.record({ type: EventType.Organization_Updated, organizationId });
      return saved;
    });
  }

  /** `PUT connections/{id}`: the connection must be of the organization named in the body. */
  async updateConnection(
    connectionId: string,
    organizationId: string,
    body: z.infer<typeof connectionSchema>,
  ): Promise<ScimConnection> {
    const existing = await this.scim.findConnectionById(connectionId);
    if (existing?.organizationId !== organizationId) throw notFound('Connection');
    return this.saveConnection(organizationId, body);
  }

  /** The owner's view of the SCIM key (created when missing), or a new one; needs their master password. */
  async apiKey(
    organizationId: string,
    actorUserId: string,
    secret: { masterPasswordHash?: string | null | undefined },
    rotate: boolean,
  ): Promise<{ apiKey: string; revisionDate: Date }> {
    await this.accounts.requireMasterPassword(await this.users.require(actorUserId), secret.masterPasswordHash);
    return this.issueKey(organizationId, rotate);
  }

  /** The operator's path (CLI): no acting member. */
  async issueKey(organizationId: string, rotate: boolean): Promise<{ apiKey: string; revisionDate: Date }> {
    if (!(await this.organizations.findById(organizationId))) throw notFound('Organization');
    return this.db.transaction(async () => {
      const key = await this.scim.upsertKey(organizationId, SCIM_TYPE, newScimKey(), rotate);
      if (rotate) await this.events.record({ type: EventType.Organization_Updated, organizationId });
      return key;
    });
  }

  /** `keyhaven scim enable`: the connection on and a key (kept when there is one). */
  async enableForOperator(organizationId: string): Promise<{ apiKey: string }> {
    if (!(await this.organizations.findById(organizationId))) throw notFound('Organization');
    await this.saveConnection(organizationId, {
      type: SCIM_TYPE,
      organizationId,
      enabled: true,
      config: { enabled: true },
    });
    return this.issueKey(organizationId, false);
  }

  /** Whether new SCIM users get an invitation mail (the default) or are only staged. */
  async invitesByMail(organizationId: string): Promise<boolean> {
    const connection = await this.scim.findConnection(organizationId, SCIM_TYPE);
    return connection?.config?.['inviteUsersAfterProvisioning'] !== false;
  }
}

function configExtras(config: z.infer<typeof connectionSchema>['config']): Record<string, unknown> {
  if (!config) return {};
  const extras: Record<string, unknown> = {};
  if (config.scimProvider !== undefined && config.scimProvider !== null) extras['scimProvider'] = config.scimProvider;
  if (config.inviteUsersAfterProvisioning !== undefined && config.inviteUsersAfterProvisioning !== null) {
    extras['inviteUsersAfterProvisioning'] = config.inviteUsersAfterProvisioning;
  }
  return extras;
}

export function connectionJson(c: ConnectionView): Record<string, unknown> {
  return {
    id: c.id,
    type: c.type,
    organizationId: c.organizationId,
    enabled: c.enabled,
    config: c.config,
    object: 'organizationConnection',
  };
}

/**
 * `api-key` / `rotate-api-key` bodies: type 0 is the public-API key, 2 the SCIM key; others are refused.
 * As Bitwarden: the SCIM key is for whoever may manage SCIM (Owner, Admin, or Custom with `manageScim`;
 * the route checks that), the public-API key for owners only — anyone else gets the organization's 404.
 */
export function apiKeyTypeFor(actor: Membership, body: unknown): 0 | 2 {
  const type = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;
  if (type === SCIM_TYPE) return SCIM_TYPE;
  if (type !== undefined && type !== null && type !== 0) throw badRequest('Unknown API key type.');
  if (!allows(actor, 'owner')) throw notFound('Organization');
  return 0;
}
