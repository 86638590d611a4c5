import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh-token families and server secrets.
 *
 * A refresh token is no longer deleted when used: it is marked rotated (and keeps the digest of the
 * successor it was rotated to) until it expires, so a second use inside the grace period answers the
 * same successor and a use after it is recognised as reuse and revokes every token of its family
 * (the tokens descended from one login). `grace_uses` counts the uses inside the grace period.
 * Rows issued before this migration start a family each.
 *
 * `server_secret` holds random keys the application creates on first use (HMAC keys: the successor
 * of a refresh token, the KDF settings prelogin answers for unknown emails), so every instance
 * derives the same values.
 */
export class RefreshTokenFamilies1796170000000 implements MigrationInterface {
  name = 'RefreshTokenFamilies1796170000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE refresh_token ADD COLUMN family_id uuid;
      UPDATE refresh_token SET family_id = id;
      ALTER TABLE refresh_token ALTER COLUMN family_id SET NOT NULL;
      ALTER TABLE refresh_token ADD COLUMN rotated_at timestamptz;
      ALTER TABLE refresh_token ADD COLUMN successor_hash text;
      ALTER TABLE refresh_token ADD COLUMN grace_uses integer NOT NULL DEFAULT 0;
      CREATE INDEX refresh_token_family_idx ON refresh_token (family_id);

      CREATE TABLE server_secret (
        name text PRIMARY KEY,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
