import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Emergency access grants (auth) and the account-recovery flag on accounts. The membership's
 * `reset_password_key` (the enrolment) already exists on `organization_user`.
 */
export class EmergencyAccess1796190500000 implements MigrationInterface {
  name = 'EmergencyAccess1796190500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE emergency_access (
        id uuid PRIMARY KEY,
        grantor_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        grantee_id uuid REFERENCES app_user (id) ON DELETE CASCADE,
        email text,
        key_encrypted text,
        type smallint NOT NULL,
        status smallint NOT NULL,
        wait_time_days smallint NOT NULL,
        recovery_initiated_date timestamptz,
        last_notification_date timestamptz,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL,
        CONSTRAINT emergency_access_wait_time_check CHECK (wait_time_days BETWEEN 1 AND 32767)
      );
      CREATE INDEX emergency_access_grantor_idx ON emergency_access (grantor_id);
      CREATE INDEX emergency_access_grantee_idx ON emergency_access (grantee_id);
      CREATE UNIQUE INDEX emergency_access_grantor_email_key ON emergency_access (grantor_id, email) WHERE email IS NOT NULL;
      CREATE UNIQUE INDEX emergency_access_grantor_grantee_key ON emergency_access (grantor_id, grantee_id) WHERE grantee_id IS NOT NULL;
      -- The hourly jobs read only grants in recovery.
      CREATE INDEX emergency_access_recovery_idx ON emergency_access (recovery_initiated_date) WHERE status = 3;

      ALTER TABLE app_user ADD COLUMN IF NOT EXISTS force_password_reset boolean NOT NULL DEFAULT false;
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
