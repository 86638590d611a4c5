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
}

interface DeviceRow {
  id: string;
  user_id: string;
  identifier: string;
  type: number;
  name: string;
  creation_date: Date;
  revision_date: Date;
}

const toDevice = (r: DeviceRow): Device => ({
  id: r.id,
  userId: r.user_id,
  identifier: r.identifier,
  type: r.type,
  name: r.name,
  creationDate: new Date(r.creation_date),
  revisionDate: new Date(r.revision_date),
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

  async listForUser(userId: string): Promise<Device[]> {
    const rows = await this.db.rows<DeviceRow>('SELECT * FROM device WHERE user_id = $1 ORDER BY creation_date', [
      userId,
    ]);
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
