import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Admin portal: reserved (issue 10). */
export class AdminPortal1796190600000 implements MigrationInterface {
  name = 'AdminPortal1796190600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('SELECT 1');
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
