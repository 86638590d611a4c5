import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { normalizePermissions, type Permissions } from './enums';
import { accessRowsJson } from './collection.repository';
import type { Membership } from './membership';

interface MemberRow {
  id: string;
  organization_id: string;
  user_id: string | null;
  email: string | null;
  key: string | null;
  reset_password_key: string | null;
  status: number;
  type: number;
  permissions: unknown;
  external_id: string | null;
  revoked_reason: string | null;
  creation_date: Date;
  revision_date: Date;
}

export const toMembership = (r: MemberRow): Membership => ({
  id: r.id,
  organizationId: r.organization_id,
  userId: r.user_id,
  email: r.email,
  key: r.key,
  resetPasswordKey: r.reset_password_key,
  status: r.status,
  type: r.type,
  permissions: normalizePermissions(r.permissions),
  externalId: r.external_id,
  revokedReason: r.revoked_reason,
  creationDate: new Date(r.creation_date),
  revisionDate: new Date(r.revision_date),
});

/** A member joined with the user's account details, for admin listings. */
export interface MemberDetails extends Membership {
  readonly name: string | null;
  readonly userEmail: string | null;
  readonly twoFactorEnabled: boolean;
  readonly publicKey: string | null;
}

/** Every method is bounded by the organization: a member id from another org matches nothing. */
@Injectable()
export class MemberRepository {
  constructor(private readonly db: Database) {}

  async findByUser(organizationId: string, userId: string): Promise<Membership | null> {
    const rows = await this.db.rows<MemberRow>(
      'SELECT * FROM organization_user WHERE organization_id = $1 AND user_id = $2',
      [organizationId, userId],
    );
    return rows[0] ? toMembership(rows[0]) : null;
  }

  async findInOrg(organizationId: string, id: string): Promise<Membership | null> {
    const rows = await this.db.rows<MemberRow>(
      'SELECT * FROM organization_user WHERE organization_id = $1 AND id = $2',
      [organizationId, id],
    );
    return rows[0] ? toMembership(rows[0]) : null;
  }

  async findManyInOrg(organizationId: string, ids: string[]): Promise<Membership[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.rows<MemberRow>(
      'SELECT * FROM organization_user WHERE organization_id = $1 AND id = ANY($2::uuid[])',
      [organizationId, ids],
    );
    return rows.map(toMembership);
  }

  async listForUser(userId: string): Promise<Membership[]> {
    return (await this.db.rows<MemberRow>('SELECT * FROM organization_user WHERE user_id = $1', [userId])).map(
      toMembership,
    );
  }

  /** Members with their account details; `memberIds` narrows the list (null: everyone). */
  async listDetails(organizationId: string, memberIds: string[] | null = null): Promise<MemberDetails[]> {
    const rows = await this.db.rows<
      MemberRow & {
        name: string | null;
        user_email: string | null;
        totp_secret: string | null;
        public_key: string | null;
      }
    >(
      `SELECT m.*, u.name, u.email AS user_email, u.totp_secret, u.public_key
       FROM organization_user m LEFT JOIN app_user u ON u.id = m.user_id
       WHERE m.organization_id = $1 AND ($2::uuid[] IS NULL OR m.id = ANY($2::uuid[])) ORDER BY m.creation_date`,
      [organizationId, memberIds],
    );
    return rows.map((r) => ({
      ...toMembership(r),
      name: r.name,
      userEmail: r.user_email,
      twoFactorEnabled: r.totp_secret !== null,
      publicKey: r.public_key,
    }));
  }

  async countOwners(organizationId: string): Promise<number> {
    const rows = await this.db.rows<{ n: number }>(
      'SELECT count(*)::int AS n FROM organization_user WHERE organization_id = $1 AND type = 0 AND status = 2',
      [organizationId],
    );
    return rows[0]?.n ?? 0;
  }

  async countSeatsUsed(organizationId: string): Promise<number> {
    const rows = await this.db.rows<{ n: number }>(
      'SELECT count(*)::int AS n FROM organization_user WHERE organization_id = $1 AND status <> -1',
      [organizationId],
    );
    return rows[0]?.n ?? 0;
  }

  async insert(member: {
    organizationId: string;
    userId: string | null;
    email: string | null;
    key: string | null;
    status: number;
    type: number;
    permissions: Permissions | null;
    externalId?: string | null;
  }): Promise<string | null> {
    const id = randomUUID();
    const now = new Date();
    const rows = await this.db.rows<{ id: string }>(
      `INSERT INTO organization_user (id, organization_id, user_id, email, key, status, type, permissions, external_id, creation_date, revision_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT DO NOTHING RETURNING id`,
      [
        id,
        member.organizationId,
        member.userId,
        member.email,
        member.key,
        member.status,
        member.type,
        member.permissions ? JSON.stringify(member.permissions) : null,
        member.externalId ?? null,
        now,
      ],
    );
    return rows[0]?.id ?? null;
  }

  async update(
    organizationId: string,
    id: string,
    change: Partial<{
      user_id: string;
      email: string | null;
      key: string | null;
      status: number;
      type: number;
      permissions: string | null;
      revoked_reason: string | null;
      reset_password_key: string | null;
      external_id: string | null;
    }>,
  ): Promise<boolean> {
    const entries = Object.entries(change);
    const sets = entries.map(([column], i) => `${column} = $${i + 3}`);
    sets.push(`revision_date = $${entries.length + 3}`);
    const changed = await this.db.execute(
      `UPDATE organization_user SET ${sets.join(', ')} WHERE organization_id = $1 AND id = $2`,
      [organizationId, id, ...entries.map(([, v]) => v), new Date()],
    );
    return changed === 1;
  }

  async delete(organizationId: string, ids: string[]): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      'DELETE FROM organization_user WHERE organization_id = $1 AND id = ANY($2::uuid[]) RETURNING id',
      [organizationId, ids],
    );
    return rows.map((r) => r.id);
  }

  /** Replaces a member's direct collection access; collections of other orgs are ignored. */
  async setCollections(
    organizationId: string,
    memberId: string,
    access: { id: string; readOnly: boolean; hidePasswords: boolean; manage: boolean }[],
  ): Promise<void> {
    await this.db.execute('DELETE FROM collection_user WHERE organization_user_id = $1', [memberId]);
    if (access.length === 0) return;
    await this.db.execute(
      `INSERT INTO collection_user (collection_id, organization_user_id, read_only, hide_passwords, manage)
       SELECT a.id, $2, a.read_only, a.hide_passwords, a.manage
       FROM jsonb_to_recordset($3::jsonb) AS a(id uuid, read_only boolean, hide_passwords boolean, manage boolean)
       JOIN collection c ON c.id = a.id AND c.organization_id = $1`,
      [organizationId, memberId, accessRowsJson(access)],
    );
  }

  /** Replaces a member's groups; groups of other orgs are ignored. */
  async setGroups(organizationId: string, memberId: string, groupIds: string[]): Promise<void> {
    await this.db.execute('DELETE FROM group_user WHERE organization_user_id = $1', [memberId]);
    if (groupIds.length === 0) return;
    await this.db.execute(
      `INSERT INTO group_user (group_id, organization_user_id)
       SELECT g.id, $2 FROM org_group g WHERE g.organization_id = $1 AND g.id = ANY($3::uuid[])`,
      [organizationId, memberId, groupIds],
    );
  }

  async collectionsOf(
    memberId: string,
  ): Promise<{ id: string; readOnly: boolean; hidePasswords: boolean; manage: boolean }[]> {
    const rows = await this.db.rows<{
      collection_id: string;
      read_only: boolean;
      hide_passwords: boolean;
      manage: boolean;
    }>('SELECT * FROM collection_user WHERE organization_user_id = $1', [memberId]);
    return rows.map((r) => ({
      id: r.collection_id,
      readOnly: r.read_only,
      hidePasswords: r.hide_passwords,
      manage: r.manage,
    }));
  }

  async groupsOf(memberId: string): Promise<string[]> {
    return (
      await this.db.rows<{ group_id: string }>('SELECT group_id FROM group_user WHERE organization_user_id = $1', [
        memberId,
      ])
    ).map((r) => r.group_id);
  }
}
