import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { normalizePermissions, type Permissions } from './enums';
import { accessRowsJson, type AccessSelection } from './collection.repository';
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
/** Any two-step provider on for `app_user u`: the authenticator, or an enabled email/WebAuthn row. */
const TWO_FACTOR_ON = `(u.totp_secret IS NOT NULL OR EXISTS (SELECT 1 FROM two_factor_provider p WHERE p.user_id = u.id AND p.enabled AND p.type IN (1, 7)))`;

export interface MemberDetails extends Membership {
  readonly name: string | null;
  readonly userEmail: string | null;
  readonly twoFactorEnabled: boolean;
  readonly publicKey: string | null;
  /** False for a trusted-device or Key Connector account, and for an invitation without an account. */
  readonly hasMasterPassword: boolean;
  readonly usesKeyConnector: boolean;
  /** The member has an IdP link (`sso_user`) in this organization. */
  readonly ssoBound: boolean;
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
        two_factor: boolean | null;
        public_key: string | null;
        has_master_password: boolean | null;
        uses_key_connector: boolean | null;
        sso_bound: boolean;
      }
    >(
      `SELECT m.*, u.name, u.email AS user_email, u.public_key,
         -- any two-step provider: the authenticator on app_user, email or WebAuthn rows
         ${TWO_FACTOR_ON} AS two_factor,
         -- accounts made by SSO without a master password keep an empty hash
         coalesce(u.master_password_hash, '') <> '' AS has_master_password, u.uses_key_connector,
         EXISTS (SELECT 1 FROM sso_user su WHERE su.organization_id = m.organization_id AND su.user_id = m.user_id) AS sso_bound
       FROM organization_user m LEFT JOIN app_user u ON u.id = m.user_id
       WHERE m.organization_id = $1 AND ($2::uuid[] IS NULL OR m.id = ANY($2::uuid[])) ORDER BY m.creation_date, m.id`,
      [organizationId, memberIds],
    );
    return rows.map((r) => ({
      ...toMembership(r),
      name: r.name,
      userEmail: r.user_email,
      twoFactorEnabled: r.two_factor === true,
      publicKey: r.public_key,
      hasMasterPassword: r.user_id !== null && r.has_master_password === true,
      usesKeyConnector: r.uses_key_connector === true,
      ssoBound: r.sso_bound,
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

  /**
   * Invitations in one statement, in the given order (creation dates a microsecond apart keep it).
   * An email already invited is skipped: compare the returned emails with the ones asked for.
   */
  async insertInvitations(
    organizationId: string,
    type: number,
    permissions: Permissions | null,
    invitees: readonly { email: string; externalId: string | null }[],
  ): Promise<{ id: string; email: string }[]> {
    if (invitees.length === 0) return [];
    return this.db.rows<{ id: string; email: string }>(
      `INSERT INTO organization_user (id, organization_id, user_id, email, key, status, type, permissions, external_id, creation_date, revision_date)
       SELECT a.id, $1, NULL, a.email, NULL, 0, $2, $3::jsonb, a.external_id, $4::timestamptz + a.n * interval '1 microsecond', $4
       FROM jsonb_to_recordset($5::jsonb) AS a(id uuid, email text, external_id text, n integer)
       ON CONFLICT DO NOTHING RETURNING id, email`,
      [
        organizationId,
        type,
        permissions ? JSON.stringify(permissions) : null,
        new Date(),
        JSON.stringify(invitees.map((i, n) => ({ id: randomUUID(), email: i.email, external_id: i.externalId, n }))),
      ],
    );
  }

  /**
   * Members of `emails` (by their account's email, or the invited address), in one query. Two index
   * lookups rather than a comparison on COALESCE, which scanned the whole organization on every
   * invitation (10,000 SCIM creates made that quadratic).
   */
  async findByEmails(organizationId: string, emails: readonly string[]): Promise<{ id: string; email: string }[]> {
    if (emails.length === 0) return [];
    return this.db.rows<{ id: string; email: string }>(
      `SELECT m.id, m.email FROM organization_user m
       WHERE m.organization_id = $1 AND m.user_id IS NULL AND m.email = ANY($2::text[])
       UNION ALL
       SELECT m.id, u.email FROM app_user u JOIN organization_user m ON m.user_id = u.id AND m.organization_id = $1
       WHERE u.email = ANY($2::text[])`,
      [organizationId, emails],
    );
  }

  /** New external ids for many members in one statement. */
  async setExternalIds(organizationId: string, changes: readonly { id: string; externalId: string }[]): Promise<void> {
    if (changes.length === 0) return;
    await this.db.execute(
      `UPDATE organization_user m SET external_id = a.external_id, revision_date = $2
       FROM jsonb_to_recordset($3::jsonb) AS a(id uuid, external_id text)
       WHERE m.organization_id = $1 AND m.id = a.id`,
      [organizationId, new Date(), JSON.stringify(changes.map((c) => ({ id: c.id, external_id: c.externalId })))],
    );
  }

  /** Gives every one of `memberIds` the same collections and groups (new members: nothing to replace). */
  async grantToMany(
    organizationId: string,
    memberIds: readonly string[],
    collections: readonly AccessSelection[],
    groupIds: readonly string[],
  ): Promise<void> {
    if (memberIds.length === 0) return;
    if (collections.length > 0)
      await this.db.execute(
        `INSERT INTO collection_user (collection_id, organization_user_id, read_only, hide_passwords, manage)
         SELECT c.id, m.id, a.read_only, a.hide_passwords, a.manage
         FROM jsonb_to_recordset($3::jsonb) AS a(id uuid, read_only boolean, hide_passwords boolean, manage boolean)
         JOIN collection c ON c.id = a.id AND c.organization_id = $1
         JOIN organization_user m ON m.organization_id = $1 AND m.id = ANY($2::uuid[])
         ON CONFLICT DO NOTHING`,
        [organizationId, memberIds, accessRowsJson(collections)],
      );
    if (groupIds.length > 0)
      await this.db.execute(
        `INSERT INTO group_user (group_id, organization_user_id)
         SELECT g.id, m.id FROM org_group g JOIN organization_user m ON m.organization_id = $1 AND m.id = ANY($2::uuid[])
         WHERE g.organization_id = $1 AND g.id = ANY($3::uuid[])
         ON CONFLICT DO NOTHING`,
        [organizationId, memberIds, groupIds],
      );
  }

  /** Confirms accepted members with their wrapped org keys in one statement; returns who changed. */
  async confirmMany(
    organizationId: string,
    keys: readonly { id: string; key: string }[],
  ): Promise<{ id: string; userId: string | null }[]> {
    if (keys.length === 0) return [];
    const rows = await this.db.rows<{ id: string; user_id: string | null }>(
      `UPDATE organization_user m SET key = a.key, status = 2, revision_date = $2
       FROM jsonb_to_recordset($3::jsonb) AS a(id uuid, key text)
       WHERE m.organization_id = $1 AND m.id = a.id AND m.status = 1
       RETURNING m.id, m.user_id`,
      [organizationId, new Date(), JSON.stringify(keys)],
    );
    return rows.map((r) => ({ id: r.id, userId: r.user_id }));
  }

  /** New statuses (and revoked reasons) for many members in one statement. */
  async setStatuses(
    organizationId: string,
    changes: readonly { id: string; status: number; revokedReason: string | null }[],
  ): Promise<void> {
    if (changes.length === 0) return;
    await this.db.execute(
      `UPDATE organization_user m SET status = a.status, revoked_reason = a.revoked_reason, revision_date = $2
       FROM jsonb_to_recordset($3::jsonb) AS a(id uuid, status smallint, revoked_reason text)
       WHERE m.organization_id = $1 AND m.id = a.id`,
      [
        organizationId,
        new Date(),
        JSON.stringify(changes.map((c) => ({ id: c.id, status: c.status, revoked_reason: c.revokedReason }))),
      ],
    );
  }

  /**
   * Revokes, in one statement, the members a newly enabled policy excludes: accepted or confirmed
   * Users and Custom members (owners and admins are exempt) without two-step login
   * (`without-two-factor`) or with another organization they have not been revoked from
   * (`in-other-organizations`). Returns the revoked accounts.
   */
  async revokeExcluded(
    organizationId: string,
    rule: 'without-two-factor' | 'in-other-organizations',
    reason: string,
  ): Promise<{ memberId: string; userId: string; email: string }[]> {
    const condition =
      rule === 'without-two-factor'
        ? `NOT ${TWO_FACTOR_ON}`
        : 'EXISTS (SELECT 1 FROM organization_user o WHERE o.user_id = m.user_id AND o.organization_id <> m.organization_id AND o.status <> -1)';
    const rows = await this.db.rows<{ id: string; user_id: string; email: string }>(
      `UPDATE organization_user m SET status = -1, revoked_reason = $2, revision_date = $3
       FROM app_user u
       WHERE m.organization_id = $1 AND u.id = m.user_id AND m.type NOT IN (0, 1) AND m.status IN (1, 2) AND ${condition}
       RETURNING m.id, m.user_id, u.email`,
      [organizationId, reason, new Date()],
    );
    return rows.map((r) => ({ memberId: r.id, userId: r.user_id, email: r.email }));
  }

  /** Memberships of many users, in one query. */
  async listForUsers(userIds: readonly string[]): Promise<Membership[]> {
    if (userIds.length === 0) return [];
    return (
      await this.db.rows<MemberRow>('SELECT * FROM organization_user WHERE user_id = ANY($1::uuid[])', [userIds])
    ).map(toMembership);
  }

  /** Accounts with a membership row in the organization (for pushes). */
  async userIdsOf(organizationId: string): Promise<string[]> {
    return (
      await this.db.rows<{ user_id: string }>(
        'SELECT user_id FROM organization_user WHERE organization_id = $1 AND user_id IS NOT NULL',
        [organizationId],
      )
    ).map((r) => r.user_id);
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

  /** Direct collection access of the org's members (or of `memberIds`), by member id, in one query. */
  async collectionsByMember(
    organizationId: string,
    memberIds: string[] | null = null,
  ): Promise<Map<string, AccessSelection[]>> {
    const rows = await this.db.rows<{
      organization_user_id: string;
      collection_id: string;
      read_only: boolean;
      hide_passwords: boolean;
      manage: boolean;
    }>(
      `SELECT cu.* FROM collection_user cu JOIN organization_user m ON m.id = cu.organization_user_id
       WHERE m.organization_id = $1 AND ($2::uuid[] IS NULL OR m.id = ANY($2::uuid[]))`,
      [organizationId, memberIds],
    );
    const byMember = new Map<string, AccessSelection[]>();
    for (const r of rows) {
      const list = byMember.get(r.organization_user_id) ?? [];
      if (list.length === 0) byMember.set(r.organization_user_id, list);
      list.push({ id: r.collection_id, readOnly: r.read_only, hidePasswords: r.hide_passwords, manage: r.manage });
    }
    return byMember;
  }

  /** Group ids of the org's members (or of `memberIds`), by member id, in one query. */
  async groupsByMember(organizationId: string, memberIds: string[] | null = null): Promise<Map<string, string[]>> {
    const rows = await this.db.rows<{ organization_user_id: string; group_id: string }>(
      `SELECT gu.organization_user_id, gu.group_id FROM group_user gu JOIN organization_user m ON m.id = gu.organization_user_id
       WHERE m.organization_id = $1 AND ($2::uuid[] IS NULL OR m.id = ANY($2::uuid[]))`,
      [organizationId, memberIds],
    );
    const byMember = new Map<string, string[]>();
    for (const r of rows) {
      const list = byMember.get(r.organization_user_id) ?? [];
      if (list.length === 0) byMember.set(r.organization_user_id, list);
      list.push(r.group_id);
    }
    return byMember;
  }

  async collectionsOf(memberId: string): Promise<AccessSelection[]> {
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
