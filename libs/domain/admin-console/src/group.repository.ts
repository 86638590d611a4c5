import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { accessRowsJson, type AccessSelection } from './collection.repository';

export interface Group {
  readonly id: string;
  readonly organizationId: string;
  readonly name: string;
  readonly externalId: string | null;
}

interface GroupRow {
  id: string;
  organization_id: string;
  name: string;
  external_id: string | null;
}

const toGroup = (r: GroupRow): Group => ({
  id: r.id,
  organizationId: r.organization_id,
  name: r.name,
  externalId: r.external_id,
});

@Injectable()
export class GroupRepository {
  constructor(private readonly db: Database) {}

  async listForOrg(organizationId: string): Promise<Group[]> {
    return (
      await this.db.rows<GroupRow>('SELECT * FROM org_group WHERE organization_id = $1 ORDER BY creation_date', [
        organizationId,
      ])
    ).map(toGroup);
  }

  async findInOrg(organizationId: string, id: string): Promise<Group | null> {
    const rows = await this.db.rows<GroupRow>('SELECT * FROM org_group WHERE organization_id = $1 AND id = $2', [
      organizationId,
      id,
    ]);
    return rows[0] ? toGroup(rows[0]) : null;
  }

  async insert(organizationId: string, name: string, externalId: string | null): Promise<Group> {
    const id = randomUUID();
    const now = new Date();
    await this.db.execute(
      'INSERT INTO org_group (id, organization_id, name, external_id, creation_date, revision_date) VALUES ($1, $2, $3, $4, $5, $5)',
      [id, organizationId, name, externalId, now],
    );
    return { id, organizationId, name, externalId };
  }

  /** Many new groups in one statement, in the given order. */
  async insertMany(
    organizationId: string,
    groups: readonly { name: string; externalId: string | null }[],
  ): Promise<Group[]> {
    if (groups.length === 0) return [];
    const created = groups.map((g) => ({ id: randomUUID(), organizationId, name: g.name, externalId: g.externalId }));
    await this.db.execute(
      `INSERT INTO org_group (id, organization_id, name, external_id, creation_date, revision_date)
       SELECT a.id, $1, a.name, a.external_id, $2::timestamptz + a.n * interval '1 microsecond', $2
       FROM jsonb_to_recordset($3::jsonb) AS a(id uuid, name text, external_id text, n integer)`,
      [
        organizationId,
        new Date(),
        JSON.stringify(created.map((g, n) => ({ id: g.id, name: g.name, external_id: g.externalId, n }))),
      ],
    );
    return created;
  }

  /** New names for many groups in one statement. */
  async renameMany(organizationId: string, changes: readonly { id: string; name: string }[]): Promise<void> {
    if (changes.length === 0) return;
    await this.db.execute(
      `UPDATE org_group g SET name = a.name, revision_date = $2
       FROM jsonb_to_recordset($3::jsonb) AS a(id uuid, name text)
       WHERE g.organization_id = $1 AND g.id = a.id`,
      [organizationId, new Date(), JSON.stringify(changes)],
    );
  }

  /**
   * Replaces the members of many groups in one statement; anything of another org is ignored. Only the rows that
   * differ are written, and the groups whose members changed get a new revision date (SCIM's meta.lastModified):
   * a directory sync that changes nothing leaves them as they were.
   */
  async replaceMembers(organizationId: string, members: ReadonlyMap<string, readonly string[]>): Promise<void> {
    if (members.size === 0) return;
    const pairs = [...members].flatMap(([g, memberIds]) => memberIds.map((m) => ({ g, m })));
    await this.db.execute(
      `WITH wanted AS (
         SELECT g.id AS group_id, m.id AS member_id FROM jsonb_to_recordset($2::jsonb) AS a(g uuid, m uuid)
         JOIN org_group g ON g.id = a.g AND g.organization_id = $1
         JOIN organization_user m ON m.id = a.m AND m.organization_id = $1
       ), removed AS (
         DELETE FROM group_user gu USING org_group g
         WHERE gu.group_id = g.id AND g.organization_id = $1 AND g.id = ANY($3::uuid[])
           AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.group_id = gu.group_id AND w.member_id = gu.organization_user_id)
         RETURNING gu.group_id
       ), added AS (
         INSERT INTO group_user (group_id, organization_user_id) SELECT group_id, member_id FROM wanted
         ON CONFLICT DO NOTHING RETURNING group_id
       )
       UPDATE org_group SET revision_date = $4
       WHERE id IN (SELECT group_id FROM removed UNION SELECT group_id FROM added)`,
      [organizationId, JSON.stringify(pairs), [...members.keys()], new Date()],
    );
  }

  /** Collection access of every group of the organization, by group id, in one query. */
  async collectionsByGroup(organizationId: string): Promise<Map<string, AccessSelection[]>> {
    const rows = await this.db.rows<{
      group_id: string;
      collection_id: string;
      read_only: boolean;
      hide_passwords: boolean;
      manage: boolean;
    }>(`SELECT cg.* FROM collection_group cg JOIN org_group g ON g.id = cg.group_id WHERE g.organization_id = $1`, [
      organizationId,
    ]);
    const byGroup = new Map<string, AccessSelection[]>();
    for (const r of rows) {
      const list = byGroup.get(r.group_id) ?? [];
      if (list.length === 0) byGroup.set(r.group_id, list);
      list.push({ id: r.collection_id, readOnly: r.read_only, hidePasswords: r.hide_passwords, manage: r.manage });
    }
    return byGroup;
  }

  async update(organizationId: string, id: string, name: string, externalId: string | null): Promise<boolean> {
    return (
      (await this.db.execute(
        'UPDATE org_group SET name = $3, external_id = $4, revision_date = $5 WHERE organization_id = $1 AND id = $2',
        [organizationId, id, name, externalId, new Date()],
      )) === 1
    );
  }

  async delete(organizationId: string, ids: string[]): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      'DELETE FROM org_group WHERE organization_id = $1 AND id = ANY($2::uuid[]) RETURNING id',
      [organizationId, ids],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Replaces a group's members; anything of another org is ignored. Only the rows that differ are written, and
   * when the members changed the group gets a new revision date (its members are part of it: SCIM's
   * meta.lastModified moves).
   */
  async setMembers(organizationId: string, groupId: string, memberIds: string[]): Promise<void> {
    await this.db.execute(
      `WITH wanted AS (
         SELECT m.id FROM organization_user m WHERE m.organization_id = $1 AND m.id = ANY($3::uuid[])
       ), removed AS (
         DELETE FROM group_user WHERE group_id = $2 AND organization_user_id NOT IN (SELECT id FROM wanted)
         RETURNING 1
       ), added AS (
         INSERT INTO group_user (group_id, organization_user_id) SELECT $2, id FROM wanted
         ON CONFLICT DO NOTHING RETURNING 1
       )
       UPDATE org_group SET revision_date = $4
       WHERE id = $2 AND organization_id = $1 AND (EXISTS (SELECT 1 FROM removed) OR EXISTS (SELECT 1 FROM added))`,
      [organizationId, groupId, memberIds, new Date()],
    );
  }

  async setCollections(organizationId: string, groupId: string, access: AccessSelection[]): Promise<void> {
    await this.db.execute('DELETE FROM collection_group WHERE group_id = $1', [groupId]);
    await this.db.execute(
      `INSERT INTO collection_group (collection_id, group_id, read_only, hide_passwords, manage)
       SELECT a.id, $2, a.read_only, a.hide_passwords, a.manage
       FROM jsonb_to_recordset($3::jsonb) AS a(id uuid, read_only boolean, hide_passwords boolean, manage boolean)
       JOIN collection c ON c.id = a.id AND c.organization_id = $1`,
      [organizationId, groupId, accessRowsJson(access)],
    );
  }

  async membersOf(groupId: string): Promise<string[]> {
    return (
      await this.db.rows<{ organization_user_id: string }>(
        'SELECT organization_user_id FROM group_user WHERE group_id = $1',
        [groupId],
      )
    ).map((r) => r.organization_user_id);
  }

  async collectionsOf(groupId: string): Promise<AccessSelection[]> {
    const rows = await this.db.rows<{
      collection_id: string;
      read_only: boolean;
      hide_passwords: boolean;
      manage: boolean;
    }>('SELECT * FROM collection_group WHERE group_id = $1', [groupId]);
    return rows.map((r) => ({
      id: r.collection_id,
      readOnly: r.read_only,
      hidePasswords: r.hide_passwords,
      manage: r.manage,
    }));
  }
}
