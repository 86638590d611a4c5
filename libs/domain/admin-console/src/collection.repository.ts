import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

export interface Collection {
  readonly id: string;
  readonly organizationId: string;
  readonly name: string;
  readonly externalId: string | null;
  readonly revisionDate: Date;
}

export interface AccessSelection {
  readonly id: string;
  readonly readOnly: boolean;
  readonly hidePasswords: boolean;
  readonly manage: boolean;
}

/** Access selections as the JSON that `jsonb_to_recordset(… AS a(id, read_only, hide_passwords, manage))` reads. */
export function accessRowsJson(list: readonly AccessSelection[]): string {
  return JSON.stringify(
    list.map((a) => ({ id: a.id, read_only: a.readOnly, hide_passwords: a.hidePasswords, manage: a.manage })),
  );
}

/** A collection as one user sees it: the access that user really has, through assignments and groups. */
export interface CollectionForUser extends Collection {
  readonly readOnly: boolean;
  readonly hidePasswords: boolean;
  readonly manage: boolean;
}

interface CollectionRow {
  id: string;
  organization_id: string;
  name: string;
  external_id: string | null;
  revision_date: Date;
}

const toCollection = (r: CollectionRow): Collection => ({
  id: r.id,
  organizationId: r.organization_id,
  name: r.name,
  externalId: r.external_id,
  revisionDate: new Date(r.revision_date),
});

/**
 * The collections a user may use, with effective access per collection: direct assignments and
 * group assignments of confirmed memberships, plus every collection of orgs the user administers.
 * Read-only and hidden passwords hold only if every path says so; manage if any path grants it.
 */
export const USER_COLLECTION_ACCESS_SQL = `
  WITH member AS (
    SELECT id, organization_id, type FROM organization_user WHERE user_id = $1 AND status = 2
  ), paths AS (
    SELECT cu.collection_id, cu.read_only, cu.hide_passwords, cu.manage
      FROM collection_user cu JOIN member m ON m.id = cu.organization_user_id
    UNION ALL
    SELECT cg.collection_id, cg.read_only, cg.hide_passwords, cg.manage
      FROM collection_group cg JOIN group_user gu ON gu.group_id = cg.group_id JOIN member m ON m.id = gu.organization_user_id
    UNION ALL
    SELECT c.id, false, false, true FROM collection c JOIN member m ON m.organization_id = c.organization_id AND m.type IN (0, 1)
  )
  SELECT collection_id, bool_and(read_only) AS read_only, bool_and(hide_passwords) AS hide_passwords, bool_or(manage) AS manage
  FROM paths GROUP BY collection_id`;

/**
 * The same rules from the other side, for many collections at once: `(collection_id, user_id)` for every
 * confirmed member who reaches each collection of `collections` (SQL naming a relation with a
 * `collection_id` column) directly or through a group. Admins and owners, who reach every collection of
 * their organization, are not listed here: callers add them per organization.
 */
export function collectionReadersSql(collections: string): string {
  return `
    SELECT cu.collection_id, ou.user_id FROM ${collections} x
      JOIN collection_user cu ON cu.collection_id = x.collection_id
      JOIN organization_user ou ON ou.id = cu.organization_user_id AND ou.status = 2
    UNION
    SELECT cg.collection_id, ou.user_id FROM ${collections} x
      JOIN collection_group cg ON cg.collection_id = x.collection_id
      JOIN group_user gu ON gu.group_id = cg.group_id
      JOIN organization_user ou ON ou.id = gu.organization_user_id AND ou.status = 2`;
}

@Injectable()
export class CollectionRepository {
  constructor(private readonly db: Database) {}

  async listForOrg(organizationId: string): Promise<Collection[]> {
    return (
      await this.db.rows<CollectionRow>('SELECT * FROM collection WHERE organization_id = $1 ORDER BY creation_date', [
        organizationId,
      ])
    ).map(toCollection);
  }

  async findInOrg(organizationId: string, id: string): Promise<Collection | null> {
    const rows = await this.db.rows<CollectionRow>('SELECT * FROM collection WHERE organization_id = $1 AND id = $2', [
      organizationId,
      id,
    ]);
    return rows[0] ? toCollection(rows[0]) : null;
  }

  /** Ids among `ids` that belong to the organization. */
  async existingInOrg(organizationId: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.rows<{ id: string }>(
      'SELECT id FROM collection WHERE organization_id = $1 AND id = ANY($2::uuid[])',
      [organizationId, ids],
    );
    return rows.map((r) => r.id);
  }

  async listForUser(userId: string): Promise<CollectionForUser[]> {
    const rows = await this.db.rows<CollectionRow & { read_only: boolean; hide_passwords: boolean; manage: boolean }>(
      `WITH access AS (${USER_COLLECTION_ACCESS_SQL})
       SELECT c.*, a.read_only, a.hide_passwords, a.manage FROM collection c JOIN access a ON a.collection_id = c.id ORDER BY c.creation_date`,
      [userId],
    );
    return rows.map((r) => ({
      ...toCollection(r),
      readOnly: r.read_only,
      hidePasswords: r.hide_passwords,
      manage: r.manage,
    }));
  }

  async insert(organizationId: string, name: string, externalId: string | null): Promise<Collection> {
    const id = randomUUID();
    const now = new Date();
    await this.db.execute(
      'INSERT INTO collection (id, organization_id, name, external_id, creation_date, revision_date) VALUES ($1, $2, $3, $4, $5, $5)',
      [id, organizationId, name, externalId, now],
    );
    return { id, organizationId, name, externalId, revisionDate: now };
  }

  async update(organizationId: string, id: string, name: string, externalId: string | null): Promise<boolean> {
    return (
      (await this.db.execute(
        'UPDATE collection SET name = $3, external_id = $4, revision_date = $5 WHERE organization_id = $1 AND id = $2',
        [organizationId, id, name, externalId, new Date()],
      )) === 1
    );
  }

  async delete(organizationId: string, ids: string[]): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      'DELETE FROM collection WHERE organization_id = $1 AND id = ANY($2::uuid[]) RETURNING id',
      [organizationId, ids],
    );
    return rows.map((r) => r.id);
  }

  /** Replaces who may use a collection; members and groups of other orgs are ignored. */
  async setAccess(
    organizationId: string,
    collectionId: string,
    users: AccessSelection[],
    groups: AccessSelection[],
  ): Promise<void> {
    await this.db.execute('DELETE FROM collection_user WHERE collection_id = $1', [collectionId]);
    await this.db.execute('DELETE FROM collection_group WHERE collection_id = $1', [collectionId]);
    await this.db.execute(
      `INSERT INTO collection_user (collection_id, organization_user_id, read_only, hide_passwords, manage)
       SELECT $2, a.id, a.read_only, a.hide_passwords, a.manage
       FROM jsonb_to_recordset($3::jsonb) AS a(id uuid, read_only boolean, hide_passwords boolean, manage boolean)
       JOIN organization_user m ON m.id = a.id AND m.organization_id = $1`,
      [organizationId, collectionId, accessRowsJson(users)],
    );
    await this.db.execute(
      `INSERT INTO collection_group (collection_id, group_id, read_only, hide_passwords, manage)
       SELECT $2, a.id, a.read_only, a.hide_passwords, a.manage
       FROM jsonb_to_recordset($3::jsonb) AS a(id uuid, read_only boolean, hide_passwords boolean, manage boolean)
       JOIN org_group g ON g.id = a.id AND g.organization_id = $1`,
      [organizationId, collectionId, accessRowsJson(groups)],
    );
  }

  /** Who may use each collection of the organization (members and groups), by collection id, in two queries. */
  async accessByCollection(
    organizationId: string,
  ): Promise<Map<string, { users: AccessSelection[]; groups: AccessSelection[] }>> {
    type Row = { collection_id: string; id: string; read_only: boolean; hide_passwords: boolean; manage: boolean };
    const [users, groups] = await Promise.all([
      this.db.rows<Row>(
        `SELECT cu.collection_id, cu.organization_user_id AS id, cu.read_only, cu.hide_passwords, cu.manage
         FROM collection_user cu JOIN collection c ON c.id = cu.collection_id WHERE c.organization_id = $1`,
        [organizationId],
      ),
      this.db.rows<Row>(
        `SELECT cg.collection_id, cg.group_id AS id, cg.read_only, cg.hide_passwords, cg.manage
         FROM collection_group cg JOIN collection c ON c.id = cg.collection_id WHERE c.organization_id = $1`,
        [organizationId],
      ),
    ]);
    const byCollection = new Map<string, { users: AccessSelection[]; groups: AccessSelection[] }>();
    const entry = (id: string): { users: AccessSelection[]; groups: AccessSelection[] } => {
      let found = byCollection.get(id);
      if (!found) byCollection.set(id, (found = { users: [], groups: [] }));
      return found;
    };
    const map = (r: Row): AccessSelection => ({
      id: r.id,
      readOnly: r.read_only,
      hidePasswords: r.hide_passwords,
      manage: r.manage,
    });
    for (const r of users) entry(r.collection_id).users.push(map(r));
    for (const r of groups) entry(r.collection_id).groups.push(map(r));
    return byCollection;
  }

  async accessOf(collectionId: string): Promise<{ users: AccessSelection[]; groups: AccessSelection[] }> {
    type Row = { id: string; read_only: boolean; hide_passwords: boolean; manage: boolean };
    const map = (r: Row): AccessSelection => ({
      id: r.id,
      readOnly: r.read_only,
      hidePasswords: r.hide_passwords,
      manage: r.manage,
    });
    const users = await this.db.rows<Row>(
      'SELECT organization_user_id AS id, read_only, hide_passwords, manage FROM collection_user WHERE collection_id = $1',
      [collectionId],
    );
    const groups = await this.db.rows<Row>(
      'SELECT group_id AS id, read_only, hide_passwords, manage FROM collection_group WHERE collection_id = $1',
      [collectionId],
    );
    return { users: users.map(map), groups: groups.map(map) };
  }
}
