import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import type { EmergencyAccess, EmergencyAccessDetails } from './emergency-access';

interface Row {
  id: string;
  grantor_id: string;
  grantee_id: string | null;
  email: string | null;
  key_encrypted: string | null;
  type: number;
  status: number;
  wait_time_days: number;
  recovery_initiated_date: Date | null;
  last_notification_date: Date | null;
  creation_date: Date;
  revision_date: Date;
}

interface DetailsRow extends Row {
  grantor_name: string | null;
  grantor_email: string;
  grantor_avatar_color: string | null;
  grantee_name: string | null;
  grantee_email: string | null;
  grantee_avatar_color: string | null;
}

const date = (v: Date | null): Date | null => (v === null ? null : new Date(v));

const toGrant = (r: Row): EmergencyAccess => ({
  id: r.id,
  grantorId: r.grantor_id,
  granteeId: r.grantee_id,
  email: r.email,
  keyEncrypted: r.key_encrypted,
  type: r.type,
  status: r.status,
  waitTimeDays: r.wait_time_days,
  recoveryInitiatedDate: date(r.recovery_initiated_date),
  lastNotificationDate: date(r.last_notification_date),
  creationDate: new Date(r.creation_date),
  revisionDate: new Date(r.revision_date),
});

const toDetails = (r: DetailsRow): EmergencyAccessDetails => ({
  ...toGrant(r),
  grantorName: r.grantor_name,
  grantorEmail: r.grantor_email,
  grantorAvatarColor: r.grantor_avatar_color,
  granteeName: r.grantee_name,
  granteeEmail: r.grantee_email,
  granteeAvatarColor: r.grantee_avatar_color,
});

const DETAILS_SQL = `
  SELECT ea.*, gr.name AS grantor_name, gr.email AS grantor_email, gr.avatar_color AS grantor_avatar_color,
         ge.name AS grantee_name, ge.email AS grantee_email, ge.avatar_color AS grantee_avatar_color
  FROM emergency_access ea
  JOIN app_user gr ON gr.id = ea.grantor_id
  LEFT JOIN app_user ge ON ge.id = ea.grantee_id`;

/** Columns a caller may change through `update`. */
export type EmergencyAccessPatch = Partial<{
  grantee_id: string;
  email: string | null;
  key_encrypted: string | null;
  type: number;
  status: number;
  wait_time_days: number;
  recovery_initiated_date: Date | null;
  last_notification_date: Date | null;
}>;

/** Grants, always read through one of the two parties. */
@Injectable()
export class EmergencyAccessRepository {
  constructor(private readonly db: Database) {}

  async insert(grant: Omit<EmergencyAccess, 'creationDate' | 'revisionDate'>, now: Date): Promise<boolean> {
    const inserted = await this.db.execute(
      `INSERT INTO emergency_access (id, grantor_id, grantee_id, email, key_encrypted, type, status, wait_time_days,
         recovery_initiated_date, last_notification_date, creation_date, revision_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9, $9) ON CONFLICT DO NOTHING`,
      [
        grant.id,
        grant.grantorId,
        grant.granteeId,
        grant.email,
        grant.keyEncrypted,
        grant.type,
        grant.status,
        grant.waitTimeDays,
        now,
      ],
    );
    return inserted === 1;
  }

  async findById(id: string): Promise<EmergencyAccess | null> {
    const rows = await this.db.rows<Row>('SELECT * FROM emergency_access WHERE id = $1', [id]);
    return rows[0] ? toGrant(rows[0]) : null;
  }

  /** The same read, locking the row until the caller's transaction ends (state changes race otherwise). */
  async findForUpdate(id: string): Promise<EmergencyAccess | null> {
    const rows = await this.db.rows<Row>('SELECT * FROM emergency_access WHERE id = $1 FOR UPDATE', [id]);
    return rows[0] ? toGrant(rows[0]) : null;
  }

  async detailsById(id: string): Promise<EmergencyAccessDetails | null> {
    const rows = await this.db.rows<DetailsRow>(`${DETAILS_SQL} WHERE ea.id = $1`, [id]);
    return rows[0] ? toDetails(rows[0]) : null;
  }

  async listForGrantor(grantorId: string): Promise<EmergencyAccessDetails[]> {
    const rows = await this.db.rows<DetailsRow>(`${DETAILS_SQL} WHERE ea.grantor_id = $1 ORDER BY ea.creation_date`, [
      grantorId,
    ]);
    return rows.map(toDetails);
  }

  /** Grants given to the grantee once accepted (an invitation is not theirs until they accept it). */
  async listForGrantee(granteeId: string): Promise<EmergencyAccessDetails[]> {
    const rows = await this.db.rows<DetailsRow>(`${DETAILS_SQL} WHERE ea.grantee_id = $1 ORDER BY ea.creation_date`, [
      granteeId,
    ]);
    return rows.map(toDetails);
  }

  async existsForGrantorAndEmail(grantorId: string, email: string): Promise<boolean> {
    const rows = await this.db.rows(
      `SELECT 1 FROM emergency_access ea LEFT JOIN app_user ge ON ge.id = ea.grantee_id
       WHERE ea.grantor_id = $1 AND (ea.email = $2 OR ge.email = $2)`,
      [grantorId, email],
    );
    return rows.length > 0;
  }

  /** Changes the given columns if the grant is still in `fromStatus` (when given); false when it was not. */
  async update(id: string, patch: EmergencyAccessPatch, fromStatuses?: readonly number[]): Promise<boolean> {
    const entries = Object.entries(patch);
    const sets = entries.map(([column], i) => `${column} = $${i + 2}`);
    const n = entries.length + 2;
    sets.push(`revision_date = $${n}`);
    const guard = fromStatuses ? ` AND status = ANY($${n + 1}::smallint[])` : '';
    const params = [id, ...entries.map(([, v]) => v), new Date(), ...(fromStatuses ? [fromStatuses] : [])];
    return (
      (await this.db.execute(`UPDATE emergency_access SET ${sets.join(', ')} WHERE id = $1${guard}`, params)) === 1
    );
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM emergency_access WHERE id = $1', [id])) === 1;
  }

  /** Recoveries whose wait is over, approved in one statement; each row is returned once, to one caller. */
  async approveExpired(now: Date): Promise<EmergencyAccess[]> {
    const rows = await this.db.rows<Row>(
      `UPDATE emergency_access SET status = 4, revision_date = $1
       WHERE status = 3 AND recovery_initiated_date + make_interval(days => wait_time_days) <= $1
       RETURNING *`,
      [now],
    );
    return rows.map(toGrant);
  }

  /**
   * Recoveries within a day of approval whose grantor was not reminded in the last day: marked
   * reminded in the same statement, so a reminder goes out once per day whichever instance runs it.
   */
  async markDueReminders(now: Date): Promise<EmergencyAccess[]> {
    const rows = await this.db.rows<Row>(
      `UPDATE emergency_access SET last_notification_date = $1
       WHERE status = 3
         AND recovery_initiated_date + make_interval(days => wait_time_days - 1) <= $1
         AND (last_notification_date IS NULL OR last_notification_date + interval '1 day' <= $1)
       RETURNING *`,
      [now],
    );
    return rows.map(toGrant);
  }

  /** Email and name of each account, one statement, for the job's mails. */
  async contacts(userIds: readonly string[]): Promise<Map<string, { email: string; name: string | null }>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.db.rows<{ id: string; email: string; name: string | null }>(
      'SELECT id, email, name FROM app_user WHERE id = ANY($1::uuid[])',
      [userIds],
    );
    return new Map(rows.map((r) => [r.id, { email: r.email, name: r.name }]));
  }

  /** Enabled policies of the organizations the user owns (what a takeover must respect); null when none. */
  async policiesOfOwnedOrganizations(userId: string): Promise<Record<string, unknown>[] | null> {
    const owned = await this.db.rows<{ organization_id: string }>(
      'SELECT organization_id FROM organization_user WHERE user_id = $1 AND type = 0 AND status = 2',
      [userId],
    );
    if (owned.length === 0) return null;
    const rows = await this.db.rows<{
      id: string;
      organization_id: string;
      type: number;
      data: unknown;
      enabled: boolean;
    }>(
      'SELECT id, organization_id, type, data, enabled FROM policy WHERE organization_id = ANY($1::uuid[]) AND enabled',
      [owned.map((o) => o.organization_id)],
    );
    return rows.map((p) => ({
      id: p.id,
      organizationId: p.organization_id,
      type: p.type,
      data: p.data,
      enabled: p.enabled,
      object: 'policy',
    }));
  }
}
