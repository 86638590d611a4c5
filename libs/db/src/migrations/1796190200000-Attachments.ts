import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Attachments: reserved (issue 11). */
export class Attachments1796190200000 implements MigrationInterface {
  name = 'Attachments1796190200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('SELECT 1');
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
