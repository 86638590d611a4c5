import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

export interface Device {
  readonly id: string;
  readonly userId: string;
  readonly identifier: string;
  readonly type: number;
  readonly name: string;
  readonly creationDate: Date;
  readonly revisionDate: Date;
  /** The last login or token refresh from this device. */
  readonly lastActivityDate: Date | null;
  /** The newest unanswered, unexpired login-with-device request this device made (device list only). */
  readonly pendingAuthRequest?: { readonly id: string; readonly creationDate: Date } | null;
}

interface DeviceRow {
  id: string;
  user_id: string;
  identifier: string;
  type: number;
  name: string;
  creation_date: Date;
  revision_date: Date;
  last_seen_at: Date | null;
  pending_id?: string | null;
  pending_date?: Date | null;
}

const toDevice = (r: DeviceRow): Device => ({
  id: r.id,
  userId: r.user_id,
  identifier: r.identifier,
  type: r.type,
  name: r.name,
  creationDate: new Date(r.creation_date),
  revisionDate: new Date(r.revision_date),
  lastActivityDate: r.last_seen_at ? new Date(r.last_seen_at) : null,
  pendingAuthRequest:
    r.pending_id && r.pending_date ? { id: r.pending_id, creationDate: new Date(r.pending_date) } : null,
});

@Injectable()
export class DeviceRepository {
  constructor(private readonly db: Database) {}

  /** One row per (user, device identifier): a login from a known device refreshes it. */
  async upsert(userId: string, identifier: string, type: number, name: string): Promise<Device> {
    const now = new Date();
    const rows = await this.db.rows<DeviceRow>(
      `INSERT INTO device (id, user_id, identifier, type, name, creation_date, revision_date, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6, $6)
       ON CONFLICT (user_id, identifier) DO UPDATE SET type = EXCLUDED.type, name = EXCLUDED.name, last_seen_at = EXCLUDED.last_seen_at
       RETURNING *`,
      [randomUUID(), userId, identifier, type, name, now],
    );
    const row = rows[0];
    if (!row) throw new Error('device upsert returned nothing');
    return toDevice(row);
  }

  /** With each device's newest pending login-with-device request created after `pendingSince`, in one statement. */
  async listForUser(userId: string, pendingSince: Date): Promise<Device[]> {
    const rows = await this.db.rows<DeviceRow>(
      `SELECT d.*, p.id AS pending_id, p.creation_date AS pending_date FROM device d
       LEFT JOIN LATERAL (
         SELECT a.id, a.creation_date FROM auth_request a
         WHERE a.user_id = d.user_id AND a.request_device_identifier = d.identifier
           AND a.approved IS NULL AND a.creation_date >= $2
         ORDER BY a.creation_date DESC LIMIT 1
       ) p ON true
       WHERE d.user_id = $1 ORDER BY d.creation_date`,
      [userId, pendingSince],
    );
    return rows.map(toDevice);
  }

  /** The identifier the client sent for this device row, or null when it is gone. */
  async identifierOf(id: string): Promise<string | null> {
    const rows = await this.db.rows<{ identifier: string }>('SELECT identifier FROM device WHERE id = $1', [id]);
    return rows[0]?.identifier ?? null;
  }

  async findForUser(userId: string, identifier: string): Promise<Device | null> {
    const rows = await this.db.rows<DeviceRow>('SELECT * FROM device WHERE user_id = $1 AND identifier = $2', [
      userId,
      identifier,
    ]);
    return rows[0] ? toDevice(rows[0]) : null;
  }

  async knownByEmail(email: string, identifier: string): Promise<boolean> {
    const rows = await this.db.rows(
      'SELECT 1 FROM device d JOIN app_user u ON u.id = d.user_id WHERE u.email = $1 AND d.identifier = $2',
      [email, identifier],
    );
    return rows.length > 0;
  }

  /** Deauthorises a device: its refresh tokens go with it (ON DELETE CASCADE). */
  /** The deleted device's identifier, or null when the user has no such device. */
  async deleteForUser(userId: string, id: string): Promise<string | null> {
    const [deleted] = await this.db.rows<{ identifier: string }>(
      'DELETE FROM device WHERE user_id = $1 AND id = $2 RETURNING identifier',
      [userId, id],
    );
    return deleted?.identifier ?? null;
  }
}
