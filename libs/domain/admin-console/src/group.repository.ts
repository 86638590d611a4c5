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

  /** Replaces a group's members and collections; anything of another org is ignored. */
  async setMembers(organizationId: string, groupId: string, memberIds: string[]): Promise<void> {
    await this.db.execute('DELETE FROM group_user WHERE group_id = $1', [groupId]);
    await this.db.execute(
      `INSERT INTO group_user (group_id, organization_user_id)
       SELECT $2, m.id FROM organization_user m WHERE m.organization_id = $1 AND m.id = ANY($3::uuid[])`,
      [organizationId, groupId, memberIds],
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
