import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SIEM streaming and activity tracking: reserved (issue 9). */
export class EventStreaming1796190100000 implements MigrationInterface {
  name = 'EventStreaming1796190100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('SELECT 1');
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
