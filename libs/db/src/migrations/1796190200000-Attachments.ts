import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Attachments (issue 11): one row per file of an item. `size` is the declared encrypted length until
 * the upload arrives, then the real one; `validated` turns true then. `upload_started_at` claims the
 * one upload an attachment takes. Storage use is summed from these rows (per user: personal items,
 * per organization: its items), so there is no counter to drift.
 *
 * Blobs live outside the database, so a deleted row must not lose its blob: a statement trigger
 * queues the blob key of every deleted attachment row — whatever deleted it (the attachment route,
 * an item's permanent delete, a purge, a user's or an organization's deletion through cascades) — in
 * `attachment_blob_gc`, in the same transaction. The blobs are removed after commit and by the
 * periodic clean-up for whatever is left.
 */
export class Attachments1796190200000 implements MigrationInterface {
  name = 'Attachments1796190200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE attachment (
        id text PRIMARY KEY,
        cipher_id uuid NOT NULL REFERENCES cipher (id) ON DELETE CASCADE,
        file_name text NOT NULL,
        key text,
        size bigint NOT NULL CHECK (size >= 0),
        validated boolean NOT NULL DEFAULT false,
        upload_started_at timestamptz,
        creation_date timestamptz NOT NULL
      );
      CREATE INDEX attachment_cipher_idx ON attachment (cipher_id);
      CREATE INDEX attachment_pending_idx ON attachment (creation_date) WHERE NOT validated;

      CREATE TABLE attachment_blob_gc (
        blob_key text PRIMARY KEY,
        queued_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE FUNCTION attachment_blob_gc_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO attachment_blob_gc (blob_key)
          SELECT 'attachments/' || gone.cipher_id || '/' || gone.id FROM gone
          ON CONFLICT (blob_key) DO NOTHING;
        RETURN NULL;
      END
      $$;
      CREATE TRIGGER attachment_deleted AFTER DELETE ON attachment
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION attachment_blob_gc_enqueue();
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
