import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sends (issue 11): text and file shares with a link. `data` holds the client's encrypted payload
 * (`{text, hidden}` or `{fileName}`), stored as sent; the file's blob id, declared size and whether
 * its upload arrived are columns, so the upload check and the deletion job read them without
 * parsing. `password_hash` is the server's slow hash of the client's PBKDF2 hash, never the client
 * value. `deletion_date` drives the cleanup job (index), `user_id` the owner's list and sync.
 *
 * A deleted file Send must not lose its blob, whatever deleted the row (the owner, the deletion job,
 * a failed upload, the owner's account deletion through the cascade): a statement trigger queues its
 * blob key in `send_blob_gc` in the same transaction; blobs go after commit and in the deletion job.
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

      CREATE TABLE send_blob_gc (
        blob_key text PRIMARY KEY,
        queued_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE FUNCTION send_blob_gc_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO send_blob_gc (blob_key)
          SELECT 'sends/' || gone.id || '/' || gone.file_id FROM gone WHERE gone.file_id IS NOT NULL
          ON CONFLICT (blob_key) DO NOTHING;
        RETURN NULL;
      END
      $$;
      CREATE TRIGGER send_deleted AFTER DELETE ON send
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION send_blob_gc_enqueue();
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
