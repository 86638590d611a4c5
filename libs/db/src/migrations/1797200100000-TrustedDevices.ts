import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Trusted device encryption: a trusted device holds the user key encrypted to its own key pair.
 * The server keeps the three wrapped keys as sent (it can open none of them); a device is trusted
 * exactly when all three are present. Admin-approval requests (auth requests of type 2) live in
 * `auth_request` like the others but for up to 7 days, so an index serves the admins' listing.
 */
export class TrustedDevices1797200100000 implements MigrationInterface {
  name = 'TrustedDevices1797200100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE device ADD COLUMN encrypted_user_key text;
      ALTER TABLE device ADD COLUMN encrypted_public_key text;
      ALTER TABLE device ADD COLUMN encrypted_private_key text;
      CREATE INDEX auth_request_admin_pending_idx ON auth_request (creation_date) WHERE type = 2 AND approved IS NULL;
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
