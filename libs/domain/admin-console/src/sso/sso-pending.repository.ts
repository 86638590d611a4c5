import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

/** The short-lived things of an SSO login, each under its own kind (`saml-request`: an AuthnRequest id not yet answered). */
export type SsoPendingKind = 'prevalidate' | 'flow' | 'code' | 'saml-request';

/**
 * Pending SSO state in PostgreSQL (`sso_pending`) with an expiry, so any instance can continue a
 * login another one started; expired rows are never returned and are swept as new ones arrive.
 */
@Injectable()
export class SsoPendingRepository {
  constructor(private readonly db: Database) {}

  async put(kind: SsoPendingKind, id: string, data: Record<string, unknown>, ttlMs: number): Promise<void> {
    await this.db.execute('DELETE FROM sso_pending WHERE expires_at < now()');
    await this.db.execute(
      `INSERT INTO sso_pending (kind, id, data, expires_at) VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')`,
      [kind, id, JSON.stringify(data), ttlMs],
    );
  }

  async get<T extends Record<string, unknown>>(kind: SsoPendingKind, id: string): Promise<T | null> {
    const rows = await this.db.rows<{ data: T }>(
      'SELECT data FROM sso_pending WHERE kind = $1 AND id = $2 AND expires_at > now()',
      [kind, id],
    );
    return rows[0]?.data ?? null;
  }

  /** Removes and returns the entry; of two concurrent takers only one gets it. */
  async take<T extends Record<string, unknown>>(kind: SsoPendingKind, id: string): Promise<T | null> {
    const rows = await this.db.rows<{ data: T; live: boolean }>(
      'DELETE FROM sso_pending WHERE kind = $1 AND id = $2 RETURNING data, expires_at > now() AS live',
      [kind, id],
    );
    const row = rows[0];
    return row?.live ? row.data : null;
  }
}
