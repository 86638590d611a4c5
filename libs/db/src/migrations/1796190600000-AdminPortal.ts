import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Admin portal (issue 10): an operator can disable an account (offboarding). A disabled account keeps
 * its data but cannot log in, refresh or call the API. Portal sessions live in the cache, not here.
 */
export class AdminPortal1796190600000 implements MigrationInterface {
  name = 'AdminPortal1796190600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE app_user ADD COLUMN IF NOT EXISTS enabled boolean NOT NULL DEFAULT true`);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
