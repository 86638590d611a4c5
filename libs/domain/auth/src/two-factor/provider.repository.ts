import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

export interface ProviderRow {
  readonly type: number;
  readonly enabled: boolean;
  readonly data: Record<string, unknown>;
}

/** Per-user settings of the providers other than the authenticator (whose secret is `app_user.totp_secret`). */
@Injectable()
export class TwoFactorProviderRepository {
  constructor(private readonly db: Database) {}

  async find(userId: string, type: number): Promise<ProviderRow | null> {
    const rows = await this.db.rows<ProviderRow>(
      'SELECT type, enabled, data FROM two_factor_provider WHERE user_id = $1 AND type = $2',
      [userId, type],
    );
    return rows[0] ?? null;
  }

  async all(userId: string): Promise<ProviderRow[]> {
    return this.db.rows<ProviderRow>(
      'SELECT type, enabled, data FROM two_factor_provider WHERE user_id = $1 ORDER BY type',
      [userId],
    );
  }

  async save(userId: string, type: number, enabled: boolean, data: Record<string, unknown>): Promise<void> {
    await this.db.execute(
      `INSERT INTO two_factor_provider (user_id, type, enabled, data, revision_date) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (user_id, type) DO UPDATE SET enabled = EXCLUDED.enabled, data = EXCLUDED.data,
         revision_date = EXCLUDED.revision_date`,
      [userId, type, enabled, JSON.stringify(data)],
    );
  }

  async remove(userId: string, type: number): Promise<void> {
    await this.db.execute('DELETE FROM two_factor_provider WHERE user_id = $1 AND type = $2', [userId, type]);
  }

  /** The recovery code turns every provider off at once. */
  async removeAll(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM two_factor_provider WHERE user_id = $1', [userId]);
    await this.db.execute('DELETE FROM webauthn_credential WHERE user_id = $1', [userId]);
  }
}
