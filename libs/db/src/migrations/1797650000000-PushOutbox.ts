import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pushes (live-sync messages) the bus could not take while RabbitMQ was down, relayed by every instance once it
 * is back (libs/db/src/push-outbox.ts). Normally empty: a push only lands here after a publish failed.
 */
export class PushOutbox1797650000000 implements MigrationInterface {
  name = 'PushOutbox1797650000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE push_outbox (
        seq bigserial PRIMARY KEY,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
