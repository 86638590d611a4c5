import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts, devices, refresh tokens, two-step login, and the personal vault. */
export class AccountsAndVault1763800100000 implements MigrationInterface {
  name = 'AccountsAndVault1763800100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE app_user (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        email_verified boolean NOT NULL DEFAULT false,
        name text,
        master_password_hash text NOT NULL,
        master_password_hint text,
        key text NOT NULL,
        public_key text,
        private_key text,
        user_key_id text,
        kdf smallint NOT NULL,
        kdf_iterations integer NOT NULL,
        kdf_memory integer,
        kdf_parallelism integer,
        security_stamp text NOT NULL,
        api_key text NOT NULL,
        culture text NOT NULL DEFAULT 'en-US',
        avatar_color text,
        premium boolean NOT NULL DEFAULT true,
        totp_secret text,
        recovery_code_hash text,
        equivalent_domains jsonb,
        excluded_global_domains jsonb,
        failed_login_count integer NOT NULL DEFAULT 0,
        last_failed_login_at timestamptz,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL,
        account_revision_date timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX app_user_email_key ON app_user (email);

      CREATE TABLE device (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        identifier text NOT NULL,
        type smallint NOT NULL,
        name text NOT NULL,
        push_token text,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL,
        last_seen_at timestamptz
      );
      CREATE UNIQUE INDEX device_user_identifier_key ON device (user_id, identifier);

      CREATE TABLE refresh_token (
        id uuid PRIMARY KEY,
        token_hash text NOT NULL,
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        device_id uuid REFERENCES device (id) ON DELETE CASCADE,
        client_id text NOT NULL,
        security_stamp text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX refresh_token_hash_key ON refresh_token (token_hash);
      CREATE INDEX refresh_token_user_idx ON refresh_token (user_id);

      CREATE TABLE two_factor_remember (
        token_hash text PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX two_factor_remember_user_idx ON two_factor_remember (user_id);

      CREATE TABLE folder (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        name text NOT NULL,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );
      CREATE INDEX folder_user_idx ON folder (user_id);

      CREATE TABLE cipher (
        id uuid PRIMARY KEY,
        user_id uuid REFERENCES app_user (id) ON DELETE CASCADE,
        organization_id uuid,
        type smallint NOT NULL,
        data jsonb NOT NULL,
        key text,
        reprompt smallint NOT NULL DEFAULT 0,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL,
        deleted_date timestamptz,
        archived_date timestamptz,
        CONSTRAINT cipher_has_owner CHECK (user_id IS NOT NULL OR organization_id IS NOT NULL)
      );
      CREATE INDEX cipher_user_idx ON cipher (user_id);
      CREATE INDEX cipher_organization_idx ON cipher (organization_id);

      CREATE TABLE cipher_user_state (
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        cipher_id uuid NOT NULL REFERENCES cipher (id) ON DELETE CASCADE,
        folder_id uuid REFERENCES folder (id) ON DELETE SET NULL,
        favorite boolean NOT NULL DEFAULT false,
        PRIMARY KEY (user_id, cipher_id)
      );
      CREATE INDEX cipher_user_state_cipher_idx ON cipher_user_state (cipher_id);
      CREATE INDEX cipher_user_state_folder_idx ON cipher_user_state (folder_id);
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
