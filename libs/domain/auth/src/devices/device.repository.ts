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
  /** Trusted device encryption: the user key under the device's key pair (all three set ⇔ trusted). */
  readonly encryptedUserKey: string | null;
  readonly encryptedPublicKey: string | null;
  readonly encryptedPrivateKey: string | null;
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
  encrypted_user_key: string | null;
  encrypted_public_key: string | null;
  encrypted_private_key: string | null;
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
  encryptedUserKey: r.encrypted_user_key,
  encryptedPublicKey: r.encrypted_public_key,
  encryptedPrivateKey: r.encrypted_private_key,
  pendingAuthRequest:
    r.pending_id && r.pending_date ? { id: r.pending_id, creationDate: new Date(r.pending_date) } : null,
});

/** Android, iOS, browser extensions, desktops, web browsers and the UWP app — not CLIs or the SDK. */
export const LOGIN_APPROVING_DEVICE_TYPES: readonly number[] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
];

export const isTrusted = (d: Device): boolean =>
  Boolean(d.encryptedUserKey && d.encryptedPublicKey && d.encryptedPrivateKey);

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
  /** What a refreshed access token carries of the login's device: its identifier and type. */
  async identityOf(id: string): Promise<{ identifier: string; type: number } | null> {
    const rows = await this.db.rows<{ identifier: string; type: number }>(
      'SELECT identifier, type FROM device WHERE id = $1',
      [id],
    );
    return rows[0] ?? null;
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

  /** Stores the three wrapped keys of a device the user trusts; null when the user has no such device. */
  async setKeys(
    userId: string,
    identifier: string,
    keys: { encryptedUserKey: string; encryptedPublicKey: string; encryptedPrivateKey: string },
  ): Promise<Device | null> {
    const rows = await this.db.rows<DeviceRow>(
      `UPDATE device SET encrypted_user_key = $3, encrypted_public_key = $4, encrypted_private_key = $5,
         revision_date = $6 WHERE user_id = $1 AND identifier = $2 RETURNING *`,
      [userId, identifier, keys.encryptedUserKey, keys.encryptedPublicKey, keys.encryptedPrivateKey, new Date()],
    );
    return rows[0] ? toDevice(rows[0]) : null;
  }

  /**
   * Key rotation: the user key re-wrapped for trusted devices (the device private key stays as it
   * is). Only the user's devices that are trusted now are touched; the count says how many were.
   */
  async rewrapKeys(
    userId: string,
    by: 'id' | 'identifier',
    updates: readonly { key: string; encryptedUserKey: string; encryptedPublicKey: string }[],
  ): Promise<number> {
    if (updates.length === 0) return 0;
    const column = by === 'id' ? 'd.id::text' : 'd.identifier';
    return this.db.execute(
      `UPDATE device d SET encrypted_user_key = u.user_key, encrypted_public_key = u.public_key, revision_date = $5
       FROM unnest($2::text[], $3::text[], $4::text[]) AS u(k, user_key, public_key)
       WHERE d.user_id = $1 AND ${column} = u.k AND d.encrypted_private_key IS NOT NULL`,
      [
        userId,
        updates.map((u) => u.key),
        updates.map((u) => u.encryptedUserKey),
        updates.map((u) => u.encryptedPublicKey),
        new Date(),
      ],
    );
  }

  /** Forgets the keys of some of the user's devices (by row id or by client identifier). */
  async clearKeys(userId: string, by: 'id' | 'identifier', keys: readonly string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const column = by === 'id' ? 'id::text' : 'identifier';
    const rows = await this.db.rows<{ identifier: string }>(
      `UPDATE device SET encrypted_user_key = NULL, encrypted_public_key = NULL, encrypted_private_key = NULL,
         revision_date = $3
       WHERE user_id = $1 AND ${column} = ANY($2::text[]) RETURNING identifier`,
      [userId, [...keys], new Date()],
    );
    return rows.map((r) => r.identifier);
  }

  /** Whether the user has another device of a type that can approve a login (desktop, mobile, web, browser). */
  async hasApprovingDevice(userId: string, exceptIdentifier: string | null): Promise<boolean> {
    const rows = await this.db.rows(
      `SELECT 1 FROM device WHERE user_id = $1 AND ($2::text IS NULL OR identifier <> $2)
         AND type = ANY($3::smallint[]) LIMIT 1`,
      [userId, exceptIdentifier, [...LOGIN_APPROVING_DEVICE_TYPES]],
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
