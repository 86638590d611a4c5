import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { randomToken, tokenDigest } from '../secrets';

/** Sliding lifetime: each use issues a new token valid this long. */
const REFRESH_TOKEN_LIFETIME_MS = 30 * 24 * 3600 * 1000;

export interface RefreshGrant {
  readonly userId: string;
  readonly deviceId: string | null;
  readonly clientId: string;
  readonly securityStamp: string;
}

/**
 * Opaque, single-use refresh tokens stored as digests. Using one deletes it and issues a successor
 * in the same transaction; one issued under an older security stamp is refused and deleted.
 */
@Injectable()
export class RefreshTokens {
  constructor(private readonly db: Database) {}

  async issue(grant: RefreshGrant): Promise<string> {
    const token = randomToken(48);
    const now = Date.now();
    await this.db.execute(
      `INSERT INTO refresh_token (id, token_hash, user_id, device_id, client_id, security_stamp, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        randomUUID(),
        tokenDigest(token),
        grant.userId,
        grant.deviceId,
        grant.clientId,
        grant.securityStamp,
        new Date(now),
        new Date(now + REFRESH_TOKEN_LIFETIME_MS),
      ],
    );
    return token;
  }

  /** Consumes a token: returns its grant when still valid under the user's current stamp, else null. */
  async consume(token: string): Promise<RefreshGrant | null> {
    const rows = await this.db.rows<{
      user_id: string;
      device_id: string | null;
      client_id: string;
      security_stamp: string;
      expires_at: Date;
      current_stamp: string;
    }>(
      `DELETE FROM refresh_token r USING app_user u
       WHERE r.token_hash = $1 AND u.id = r.user_id
       RETURNING r.user_id, r.device_id, r.client_id, r.security_stamp, r.expires_at, u.security_stamp AS current_stamp`,
      [tokenDigest(token)],
    );
    const row = rows[0];
    if (!row) return null;
    if (new Date(row.expires_at).getTime() <= Date.now() || row.security_stamp !== row.current_stamp) return null;
    return { userId: row.user_id, deviceId: row.device_id, clientId: row.client_id, securityStamp: row.security_stamp };
  }

  /** Ends every session of a user (password change, "log out everywhere"). */
  async revokeAll(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM refresh_token WHERE user_id = $1', [userId]);
  }
}
