import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sends (issue 11): text and file shares with a link. `data` holds the client's encrypted payload
 * (`{text, hidden}` or `{fileName}`), stored as sent; the file's blob id, declared size and whether
 * its upload arrived are columns, so the upload check and the deletion job read them without
 * parsing. `password_hash` is the server's slow hash of the client's PBKDF2 hash, never the client
 * value. `deletion_date` drives the cleanup job (index), `user_id` the owner's list and sync.
 */
export class Sends1796190300000 implements MigrationInterface {
  name = 'Sends1796190300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE send (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        type smallint NOT NULL,
        auth_type smallint NOT NULL,
        name text NOT NULL,
        notes text,
        key text NOT NULL,
        data jsonb NOT NULL,
        file_id text,
        file_size bigint,
        file_uploaded boolean NOT NULL DEFAULT false,
        password_hash text,
        emails text,
        max_access_count integer,
        access_count integer NOT NULL DEFAULT 0,
        disabled boolean NOT NULL DEFAULT false,
        hide_email boolean NOT NULL DEFAULT false,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL,
        expiration_date timestamptz,
        deletion_date timestamptz NOT NULL
      );
      CREATE INDEX send_user_idx ON send (user_id);
      CREATE INDEX send_deletion_idx ON send (deletion_date);
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
