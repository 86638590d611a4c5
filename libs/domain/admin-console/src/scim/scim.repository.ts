import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { filterToSql, type FilterAttributes } from './scim-filter';

/** A member as SCIM shows it (id = the membership id). */
export interface ScimUserRow {
  readonly id: string;
  readonly userId: string | null;
  readonly externalId: string | null;
  readonly email: string;
  readonly name: string | null;
  readonly status: number;
  readonly created: Date;
  readonly lastModified: Date;
}

export interface ScimGroupRow {
  readonly id: string;
  readonly name: string;
  readonly externalId: string | null;
  readonly created: Date;
  readonly lastModified: Date;
}

export interface Page<T> {
  readonly total: number;
  readonly rows: T[];
}

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const EMAIL = 'COALESCE(u.email, m.email)';

/** What `filter` may name on Users; `emails.value` and `userName` are the same address. */
export const USER_FILTER_ATTRIBUTES: FilterAttributes = {
  id: { sql: 'm.id::text', kind: 'string', caseExact: true },
  username: { sql: EMAIL, kind: 'string', caseExact: false },
  'emails.value': { sql: EMAIL, kind: 'string', caseExact: false },
  externalid: { sql: 'm.external_id', kind: 'string', caseExact: true },
  displayname: { sql: 'u.name', kind: 'string', caseExact: false },
  'name.formatted': { sql: 'u.name', kind: 'string', caseExact: false },
  active: { sql: '(m.status <> -1)', kind: 'boolean', caseExact: false },
  'meta.created': { sql: 'm.creation_date', kind: 'date', caseExact: false },
  'meta.lastmodified': { sql: 'm.revision_date', kind: 'date', caseExact: false },
};

export const GROUP_FILTER_ATTRIBUTES: FilterAttributes = {
  id: { sql: 'g.id::text', kind: 'string', caseExact: true },
  displayname: { sql: 'g.name', kind: 'string', caseExact: false },
  externalid: { sql: 'g.external_id', kind: 'string', caseExact: true },
  'meta.created': { sql: 'g.creation_date', kind: 'date', caseExact: false },
  'meta.lastmodified': { sql: 'g.revision_date', kind: 'date', caseExact: false },
};

const USER_COLUMNS = `m.id, m.user_id AS "userId", m.external_id AS "externalId", ${EMAIL} AS email, u.name,
  m.status, m.creation_date AS created, m.revision_date AS "lastModified"`;
const GROUP_COLUMNS = `g.id, g.name, g.external_id AS "externalId", g.creation_date AS created,
  g.revision_date AS "lastModified"`;

/** The SCIM API key type and connection type, as the web vault numbers them. */
export const SCIM_TYPE = 2;

/**
 * SCIM's reads of members and groups (filtered and paged in SQL), and the SCIM key and connection
 * rows it owns. Member and group writes go through MembersService and GroupsService.
 */
@Injectable()
export class ScimRepository {
  constructor(private readonly db: Database) {}

  async listUsers(
    organizationId: string,
    filter: string | undefined,
    offset: number,
    limit: number,
  ): Promise<Page<ScimUserRow>> {
    const params: unknown[] = [organizationId];
    const where = filterToSql(filter, USER_FILTER_ATTRIBUTES, [USER_SCHEMA], params);
    const from = `FROM organization_user m LEFT JOIN app_user u ON u.id = m.user_id WHERE m.organization_id = $1 AND ${where}`;
    const [count] = await this.db.rows<{ n: number }>(`SELECT count(*)::int AS n ${from}`, params);
    const rows =
      limit === 0
        ? []
        : await this.db.rows<ScimUserRow>(
            `SELECT ${USER_COLUMNS} ${from} ORDER BY ${EMAIL}, m.id OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
            [...params, offset, limit],
          );
    return { total: count?.n ?? 0, rows };
  }

  async findUser(organizationId: string, id: string): Promise<ScimUserRow | null> {
    const rows = await this.db.rows<ScimUserRow>(
      `SELECT ${USER_COLUMNS} FROM organization_user m LEFT JOIN app_user u ON u.id = m.user_id
       WHERE m.organization_id = $1 AND m.id = $2`,
      [organizationId, id],
    );
    return rows[0] ?? null;
  }

  /**
   * A member other than `exceptId` with this email (case-insensitive) or external id (exact). Each
   * test is an index lookup (stored addresses are normalised to lower case): a scan of the whole
   * organization per create made provisioning slow down as the organization grew.
   */
  async findUserClash(
    organizationId: string,
    email: string | null,
    externalId: string | null,
    exceptId: string | null = null,
  ): Promise<'userName' | 'externalId' | null> {
    const other = '($4::uuid IS NULL OR m.id <> $4::uuid)';
    const rows = await this.db.rows<{ email_clash: boolean; external_clash: boolean }>(
      `SELECT
         EXISTS (SELECT 1 FROM organization_user m WHERE m.organization_id = $1 AND m.user_id IS NULL
                   AND m.email = lower($2) AND ${other})
         OR EXISTS (SELECT 1 FROM app_user u JOIN organization_user m ON m.user_id = u.id AND m.organization_id = $1
                   WHERE u.email = lower($2) AND ${other}) AS email_clash,
         EXISTS (SELECT 1 FROM organization_user m WHERE m.organization_id = $1 AND m.external_id = $3
                   AND ${other}) AS external_clash`,
      [organizationId, email, externalId, exceptId],
    );
    if (rows[0]?.email_clash) return 'userName';
    if (rows[0]?.external_clash) return 'externalId';
    return null;
  }

  async listGroups(
    organizationId: string,
    filter: string | undefined,
    offset: number,
    limit: number,
  ): Promise<Page<ScimGroupRow>> {
    const params: unknown[] = [organizationId];
    const where = filterToSql(filter, GROUP_FILTER_ATTRIBUTES, [GROUP_SCHEMA], params);
    const from = `FROM org_group g WHERE g.organization_id = $1 AND ${where}`;
    const [count] = await this.db.rows<{ n: number }>(`SELECT count(*)::int AS n ${from}`, params);
    const rows =
      limit === 0
        ? []
        : await this.db.rows<ScimGroupRow>(
            `SELECT ${GROUP_COLUMNS} ${from} ORDER BY g.name, g.id OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
            [...params, offset, limit],
          );
    return { total: count?.n ?? 0, rows };
  }

  async findGroup(organizationId: string, id: string): Promise<ScimGroupRow | null> {
    const rows = await this.db.rows<ScimGroupRow>(
      `SELECT ${GROUP_COLUMNS} FROM org_group g WHERE g.organization_id = $1 AND g.id = $2`,
      [organizationId, id],
    );
    return rows[0] ?? null;
  }

  async groupExternalIdTaken(organizationId: string, externalId: string, exceptId: string | null): Promise<boolean> {
    const rows = await this.db.rows<{ id: string }>(
      `SELECT id FROM org_group WHERE organization_id = $1 AND external_id = $2 AND ($3::uuid IS NULL OR id <> $3::uuid) LIMIT 1`,
      [organizationId, externalId, exceptId],
    );
    return rows.length > 0;
  }

  async groupMemberIds(groupId: string): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      'SELECT organization_user_id AS id FROM group_user WHERE group_id = $1',
      [groupId],
    );
    return rows.map((r) => r.id);
  }

  /** Of `ids`, the members of the organization, with their accounts (for pushes). */
  async membersOf(organizationId: string, ids: readonly string[]): Promise<{ id: string; userId: string | null }[]> {
    if (ids.length === 0) return [];
    return this.db.rows<{ id: string; userId: string | null }>(
      `SELECT id, user_id AS "userId" FROM organization_user WHERE organization_id = $1 AND id = ANY($2::uuid[])`,
      [organizationId, ids],
    );
  }

  // --- the SCIM key and connection ---

  /** The key when the organization is enabled and its SCIM connection is on; else null. */
  async activeKey(organizationId: string): Promise<string | null> {
    const rows = await this.db.rows<{ api_key: string }>(
      `SELECT k.api_key FROM organization_api_key k
       JOIN organization o ON o.id = k.organization_id AND o.enabled
       JOIN organization_connection c ON c.organization_id = k.organization_id AND c.type = $2 AND c.enabled
         AND COALESCE((c.config ->> 'enabled')::boolean, TRUE)
       WHERE k.organization_id = $1 AND k.type = $2`,
      [organizationId, SCIM_TYPE],
    );
    return rows[0]?.api_key ?? null;
  }

  async findKey(organizationId: string, type: number): Promise<{ apiKey: string; revisionDate: Date } | null> {
    const rows = await this.db.rows<{ apiKey: string; revisionDate: Date }>(
      `SELECT api_key AS "apiKey", revision_date AS "revisionDate" FROM organization_api_key
       WHERE organization_id = $1 AND type = $2`,
      [organizationId, type],
    );
    return rows[0] ?? null;
  }

  /** Sets the key (`rotate`) or creates it when missing; returns the key now stored. */
  async upsertKey(
    organizationId: string,
    type: number,
    apiKey: string,
    rotate: boolean,
  ): Promise<{ apiKey: string; revisionDate: Date }> {
    const rows = await this.db.rows<{ apiKey: string; revisionDate: Date }>(
      `INSERT INTO organization_api_key (id, organization_id, type, api_key, revision_date) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (organization_id, type) DO UPDATE SET
         api_key = CASE WHEN $6 THEN EXCLUDED.api_key ELSE organization_api_key.api_key END,
         revision_date = CASE WHEN $6 THEN EXCLUDED.revision_date ELSE organization_api_key.revision_date END
       RETURNING api_key AS "apiKey", revision_date AS "revisionDate"`,
      [randomUUID(), organizationId, type, apiKey, new Date(), rotate],
    );
    const row = rows[0];
    if (!row) throw new Error('key upsert returned nothing');
    return row;
  }

  async findConnection(organizationId: string, type: number): Promise<ScimConnection | null> {
    const rows = await this.db.rows<ScimConnection>(
      `SELECT id, organization_id AS "organizationId", type, enabled, config FROM organization_connection
       WHERE organization_id = $1 AND type = $2`,
      [organizationId, type],
    );
    return rows[0] ?? null;
  }

  async findConnectionById(id: string): Promise<ScimConnection | null> {
    const rows = await this.db.rows<ScimConnection>(
      `SELECT id, organization_id AS "organizationId", type, enabled, config FROM organization_connection WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** One connection per organization and type: a second create updates the first. */
  async saveConnection(
    organizationId: string,
    type: number,
    enabled: boolean,
    config: Record<string, unknown>,
  ): Promise<ScimConnection> {
    const rows = await this.db.rows<ScimConnection>(
      `INSERT INTO organization_connection (id, organization_id, type, enabled, config, revision_date)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6)
       ON CONFLICT (organization_id, type) DO UPDATE SET enabled = EXCLUDED.enabled, config = EXCLUDED.config,
         revision_date = EXCLUDED.revision_date
       RETURNING id, organization_id AS "organizationId", type, enabled, config`,
      [randomUUID(), organizationId, type, enabled, JSON.stringify(config), new Date()],
    );
    const row = rows[0];
    if (!row) throw new Error('connection upsert returned nothing');
    return row;
  }
}

export interface ScimConnection {
  readonly id: string;
  readonly organizationId: string;
  readonly type: number;
  readonly enabled: boolean;
  readonly config: Record<string, unknown> | null;
}
