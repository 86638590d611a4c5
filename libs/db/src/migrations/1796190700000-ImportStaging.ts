import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Imports write their items straight into `cipher`, a statement at a time outside any transaction,
 * with no owner yet and the import's id in `import_id`: every read is bounded by an owner, so nobody
 * sees them. One short transaction at the end gives them their owner (an update of small columns; the
 * encrypted data stays where it is) and files them, so the import still lands whole or not at all. On
 * the embedded database (one connection) other users' requests run between the statements.
 * `cipher_import_stage` keeps each staged item's folder or collections, by index into the file's lists.
 */
export class ImportStaging1796190700000 implements MigrationInterface {
  name = 'ImportStaging1796190700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE cipher ADD COLUMN import_id uuid;
      ALTER TABLE cipher DROP CONSTRAINT cipher_has_owner;
      ALTER TABLE cipher ADD CONSTRAINT cipher_has_owner
        CHECK (user_id IS NOT NULL OR organization_id IS NOT NULL OR import_id IS NOT NULL);
      CREATE INDEX cipher_import_idx ON cipher (import_id) WHERE import_id IS NOT NULL;

      CREATE TABLE cipher_import_stage (
        import_id uuid NOT NULL,
        id uuid NOT NULL,
        favorite boolean NOT NULL,
        folder_index integer,
        collection_indexes integer[] NOT NULL,
        created timestamptz NOT NULL,
        PRIMARY KEY (import_id, id)
      );
      CREATE INDEX cipher_import_stage_created_idx ON cipher_import_stage (created);
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
