import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two-step login providers beyond the authenticator, WebAuthn credentials, mailed one-time codes
 * and the new-device verification opt-out (issue 16).
 *
 * The authenticator (TOTP) secret stays where it always was, `app_user.totp_secret`: logins, the
 * admin console's "two-step login enabled" checks and existing enrolments keep working unchanged,
 * and the authenticator is reported as provider 0 from there. Every other provider is a row here.
 */
export class TwoFactorProviders1796190400000 implements MigrationInterface {
  name = 'TwoFactorProviders1796190400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE two_factor_provider (
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        type smallint NOT NULL,
        enabled boolean NOT NULL DEFAULT false,
        data jsonb NOT NULL DEFAULT '{}'::jsonb,
        revision_date timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, type)
      );
      CREATE TABLE webauthn_credential (
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        slot smallint NOT NULL,
        name text NOT NULL,
        credential_id text NOT NULL,
        public_key text NOT NULL,
        sign_count bigint NOT NULL DEFAULT 0,
        transports jsonb NOT NULL DEFAULT '[]'::jsonb,
        aaguid text,
        creation_date timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, slot)
      );
      CREATE UNIQUE INDEX webauthn_credential_id_idx ON webauthn_credential (credential_id);
      CREATE TABLE two_factor_code (
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        purpose text NOT NULL,
        code_digest text NOT NULL,
        email text NOT NULL,
        security_stamp text NOT NULL,
        expires_at timestamptz NOT NULL,
        failed_attempts integer NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, purpose)
      );
      ALTER TABLE app_user ADD COLUMN verify_devices boolean NOT NULL DEFAULT true;
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
