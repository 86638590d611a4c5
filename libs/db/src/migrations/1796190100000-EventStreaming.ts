import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Activity tracking (issue 9, part 2): `app_user.last_activity_date`, set on token issuance, refresh
 * and sync (at most every few minutes), indexed for the active/dormant reports.
 */
export class EventStreaming1796190100000 implements MigrationInterface {
  name = 'EventStreaming1796190100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE app_user ADD COLUMN last_activity_date timestamptz;
      CREATE INDEX app_user_last_activity_idx ON app_user (last_activity_date);
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
