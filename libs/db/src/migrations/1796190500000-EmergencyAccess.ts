import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Emergency access and account recovery: reserved (issue 16). */
export class EmergencyAccess1796190500000 implements MigrationInterface {
  name = 'EmergencyAccess1796190500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('SELECT 1');
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
