import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Event log: reserved for the events work (issue 9). */
export class Events1796190000000 implements MigrationInterface {
  name = 'Events1796190000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('SELECT 1');
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
