import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database } from '@keyhaven/db';
import { randomToken, tokenDigest } from '../secrets';
import { ServerSecrets } from './server-secrets';

/** Sliding lifetime: each use issues a new token valid this long. */
const REFRESH_TOKEN_LIFETIME_MS = 30 * 24 * 3600 * 1000;

export interface RefreshGrant {
  readonly userId: string;
  readonly deviceId: string | null;
  readonly clientId: string;
  readonly securityStamp: string;
  /** The login's authentication method as its access token said (`external` for SSO); every successor keeps it. */
  readonly amr?: string;
}

/** A used refresh token's grant and the token that replaces it. */
export interface RefreshRotation extends RefreshGrant {
  readonly successor: string;
}

interface TokenRow {
  id: string;
  family_id: string;
  user_id: string;
  device_id: string | null;
  client_id: string;
  security_stamp: string;
  amr: string;
  expires_at: Date;
  rotated_at: Date | null;
  successor_hash: string | null;
  current_stamp: string;
}

/**
 * Opaque rotating refresh tokens, stored as digests, in families (every token descended from one
 * login shares its family id).
 *
 * Using a token marks it rotated and issues its successor in one transaction. The successor is not
 * random: it is an HMAC of the used token under a server secret, so a second use of the same token
 * inside the grace period (`REFRESH_TOKEN_REUSE_GRACE_SECONDS`: a client that sent two refreshes at
 * once, or retried one whose answer it lost) answers the very same successor without the server
 * keeping it anywhere readable. Whichever answer the client keeps, it holds the one live token of
 * its family, and no second branch is left behind. A use after the grace period is a replay of a
 * token the client has replaced, the signature of a stolen copy (OAuth 2.0 Security BCP, 4.14):
 * the whole family is deleted, the successors included, and the holder must log in again.
 *
 * A token issued under an older security stamp is refused (and removed), as is an expired one or one
 * presented by another client than it was issued to. Rotated rows stay until they expire, so reuse
 * is recognised for a token's whole lifetime.
 */
@Injectable()
export class RefreshTokens {
  private readonly graceMs: number;

  constructor(
    private readonly db: Database,
    private readonly secrets: ServerSecrets,
    @Inject(KEYHAVEN_CONFIG) config: KeyhavenConfig,
  ) {
    this.graceMs = config.REFRESH_TOKEN_REUSE_GRACE_SECONDS * 1000;
  }

  /** A new token opening a new family (a login). The user's expired tokens (families long unused) go. */
  async issue(grant: RefreshGrant): Promise<string> {
    const token = randomToken(48);
    const now = Date.now();
    await this.db.execute('DELETE FROM refresh_token WHERE user_id = $1 AND expires_at <= $2', [
      grant.userId,
      new Date(now),
    ]);
    await this.insert(tokenDigest(token), randomUUID(), grant, now);
    return token;
  }

  /**
   * Uses a token: its grant and successor when it is valid under the user's current stamp and was
   * issued to `clientId` (when given), else null. A reuse after the grace period revokes its family.
   */
  async consume(token: string, clientId?: string): Promise<RefreshRotation | null> {
    if (!token) return null;
    // Outside the transaction: the secret may be created on first use (see ServerSecrets).
    const successor = (await this.secrets.hmac('refresh-successor', token)).toString('base64url');
    const successorHash = tokenDigest(successor);
    const digest = tokenDigest(token);
    return this.db.transaction(async () => {
      // The row lock orders concurrent uses of one token: the second sees the first's rotation.
      const rows = await this.db.rows<TokenRow>(
        `SELECT r.id, r.family_id, r.user_id, r.device_id, r.client_id, r.security_stamp, r.amr, r.expires_at,
                r.rotated_at, r.successor_hash, u.security_stamp AS current_stamp
         FROM refresh_token r JOIN app_user u ON u.id = r.user_id
         WHERE r.token_hash = $1
         FOR UPDATE OF r`,
        [digest],
      );
      const row = rows[0];
      if (!row) return null;
      const now = Date.now();
      if (new Date(row.expires_at).getTime() <= now || row.security_stamp !== row.current_stamp) {
        await this.db.execute('DELETE FROM refresh_token WHERE id = $1', [row.id]);
        return null;
      }
      if (clientId !== undefined && clientId !== row.client_id) return null;
      const grant: RefreshGrant = {
        userId: row.user_id,
        deviceId: row.device_id,
        clientId: row.client_id,
        securityStamp: row.security_stamp,
        amr: row.amr,
      };
      if (row.rotated_at === null) {
        await this.db.execute('UPDATE refresh_token SET rotated_at = $2, successor_hash = $3 WHERE id = $1', [
          row.id,
          new Date(now),
          successorHash,
        ]);
        await this.insert(successorHash, row.family_id, grant, now);
        // Rotated rows are kept for reuse detection until they expire; expired ones can go.
        await this.db.execute('DELETE FROM refresh_token WHERE family_id = $1 AND expires_at <= $2', [
          row.family_id,
          new Date(now),
        ]);
        return { ...grant, successor };
      }
      if (now - new Date(row.rotated_at).getTime() <= this.graceMs && row.successor_hash === successorHash) {
        await this.db.execute('UPDATE refresh_token SET grace_uses = grace_uses + 1 WHERE id = $1', [row.id]);
        return { ...grant, successor };
      }
      await this.db.execute('DELETE FROM refresh_token WHERE family_id = $1', [row.family_id]);
      return null;
    });
  }

  /** Ends every session of a user (password change, "log out everywhere"). */
  async revokeAll(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM refresh_token WHERE user_id = $1', [userId]);
  }

  private async insert(tokenHash: string, familyId: string, grant: RefreshGrant, now: number): Promise<void> {
    await this.db.execute(
      `INSERT INTO refresh_token
         (id, token_hash, family_id, user_id, device_id, client_id, security_stamp, created_at, expires_at, amr)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (token_hash) DO NOTHING`,
      [
        randomUUID(),
        tokenHash,
        familyId,
        grant.userId,
        grant.deviceId,
        grant.clientId,
        grant.securityStamp,
        new Date(now),
        new Date(now + REFRESH_TOKEN_LIFETIME_MS),
        grant.amr ?? 'Application',
      ],
    );
  }
}
