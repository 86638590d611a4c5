import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

export interface Policy {
  readonly id: string;
  readonly organizationId: string;
  readonly type: number;
  readonly data: Record<string, unknown> | null;
  readonly enabled: boolean;
  /** Clients parse it as a date (the bw CLI fails its login without one); null for a default never saved. */
  readonly revisionDate?: Date | null;
}

interface PolicyRow {
  id: string;
  organization_id: string;
  type: number;
  data: Record<string, unknown> | null;
  enabled: boolean;
  revision_date?: Date | string | null;
}

const toPolicy = (r: PolicyRow): Policy => ({
  id: r.id,
  organizationId: r.organization_id,
  type: r.type,
  data: r.data,
  enabled: r.enabled,
  revisionDate: r.revision_date ? new Date(r.revision_date) : null,
});

@Injectable()
export class PolicyRepository {
  constructor(private readonly db: Database) {}

  async listForOrg(organizationId: string): Promise<Policy[]> {
    return (
      await this.db.rows<PolicyRow>('SELECT * FROM policy WHERE organization_id = $1 ORDER BY type', [organizationId])
    ).map(toPolicy);
  }

  async find(organizationId: string, type: number): Promise<Policy | null> {
    const rows = await this.db.rows<PolicyRow>('SELECT * FROM policy WHERE organization_id = $1 AND type = $2', [
      organizationId,
      type,
    ]);
    return rows[0] ? toPolicy(rows[0]) : null;
  }

  async upsert(
    organizationId: string,
    type: number,
    enabled: boolean,
    data: Record<string, unknown> | null,
  ): Promise<Policy> {
    const now = new Date();
    const rows = await this.db.rows<PolicyRow>(
      `INSERT INTO policy (id, organization_id, type, data, enabled, creation_date, revision_date) VALUES ($1, $2, $3, $4, $5, $6, $6)
       ON CONFLICT (organization_id, type) DO UPDATE SET data = EXCLUDED.data, enabled = EXCLUDED.enabled, revision_date = EXCLUDED.revision_date
       RETURNING *`,
      [randomUUID(), organizationId, type, data ? JSON.stringify(data) : null, enabled, now],
    );
    const row = rows[0];
    if (!row) throw new Error('policy upsert returned nothing');
    return toPolicy(row);
  }

  /**
   * Enabled policies of every organization where the user is a confirmed member (sync), or with
   * `includeAccepted` also where they accepted but await confirmation (what joining must respect).
   */
  async enabledForUser(userId: string, includeAccepted = false): Promise<(Policy & { memberType: number })[]> {
    const rows = await this.db.rows<PolicyRow & { member_type: number }>(
      `SELECT p.*, m.type AS member_type FROM policy p
       JOIN organization_user m ON m.organization_id = p.organization_id AND m.user_id = $1 AND m.status = ANY($2::smallint[])
       WHERE p.enabled`,
      [userId, includeAccepted ? [1, 2] : [2]],
    );
    return rows.map((r) => ({ ...toPolicy(r), memberType: r.member_type }));
  }

  /** The same for many users at once, each row with the user it applies to. */
  async enabledForUsers(
    userIds: readonly string[],
    includeAccepted = false,
  ): Promise<(Policy & { memberType: number; userId: string })[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db.rows<PolicyRow & { member_type: number; user_id: string }>(
      `SELECT p.*, m.type AS member_type, m.user_id FROM policy p
       JOIN organization_user m ON m.organization_id = p.organization_id AND m.user_id = ANY($1::uuid[]) AND m.status = ANY($2::smallint[])
       WHERE p.enabled`,
      [userIds, includeAccepted ? [1, 2] : [2]],
    );
    return rows.map((r) => ({ ...toPolicy(r), memberType: r.member_type, userId: r.user_id }));
  }

  /**
   * The confirmed memberships of the user in enabled organizations whose Require SSO policy is on
   * and whose SSO configuration is enabled (a policy without a working SSO would lock everyone out),
   * with the member's role and the policy's data.
   */
  async requireSsoMemberships(
    userId: string,
  ): Promise<
    { organizationId: string; identifier: string | null; memberType: number; data: Record<string, unknown> | null }[]
  > {
    const rows = await this.db.rows<{
      organization_id: string;
      identifier: string | null;
      member_type: number;
      data: Record<string, unknown> | null;
    }>(
      `SELECT p.organization_id, o.identifier, m.type AS member_type, p.data FROM policy p
       JOIN organization_user m ON m.organization_id = p.organization_id AND m.user_id = $1 AND m.status = 2
       JOIN organization o ON o.id = p.organization_id AND o.enabled
       JOIN sso_config s ON s.organization_id = p.organization_id AND s.enabled
       WHERE p.type = 4 AND p.enabled`,
      [userId],
    );
    return rows.map((r) => ({
      organizationId: r.organization_id,
      identifier: r.identifier,
      memberType: r.member_type,
      data: r.data,
    }));
  }
}
