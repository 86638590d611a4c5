import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Imports are written here first, a statement at a time outside any transaction, and copied into
 * `cipher` by one short set-based transaction at the end. On the embedded database (one connection)
 * a large import then never holds the connection for long, so other users keep being served; the
 * final copy is what makes the import land whole or not at all. Rows are opaque client data, as in
 * `cipher`. `folder_index`/`collection_indexes` point into the import's own folder and collection lists.
 */
export class ImportStaging1796190700000 implements MigrationInterface {
  name = 'ImportStaging1796190700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cipher_import_stage (
        import_id uuid NOT NULL,
        id uuid NOT NULL,
        type smallint NOT NULL,
        data jsonb NOT NULL,
        key text,
        reprompt smallint NOT NULL,
        archived_date timestamptz,
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
