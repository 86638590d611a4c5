import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Two-step login providers, WebAuthn credentials, new-device verification: reserved (issue 16). */
export class TwoFactorProviders1796190400000 implements MigrationInterface {
  name = 'TwoFactorProviders1796190400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('SELECT 1');
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
