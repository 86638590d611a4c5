import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Sends: reserved (issue 11). */
export class Sends1796190300000 implements MigrationInterface {
  name = 'Sends1796190300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('SELECT 1');
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
