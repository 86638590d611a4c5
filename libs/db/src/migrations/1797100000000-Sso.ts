import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Single sign-on (issue 12): the organization identifier the clients type, one SSO configuration per
 * organization (OIDC or SAML; the non-secret fields as JSON, the secret ones encrypted with a server
 * key), the link between an IdP subject and a user, and every pending flow, authorization code and
 * prevalidate token with its expiry (shared by every instance, never held in a process).
 */
export class Sso1797100000000 implements MigrationInterface {
  name = 'Sso1797100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE organization ADD COLUMN IF NOT EXISTS identifier text;
      CREATE UNIQUE INDEX IF NOT EXISTS organization_identifier_key ON organization (lower(identifier)) WHERE identifier IS NOT NULL;

      CREATE TABLE IF NOT EXISTS sso_config (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        enabled boolean NOT NULL,
        config_type smallint NOT NULL,
        member_decryption_type smallint NOT NULL,
        data jsonb NOT NULL,
        secrets text,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS sso_config_org_key ON sso_config (organization_id);

      CREATE TABLE IF NOT EXISTS sso_user (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        external_id text NOT NULL,
        creation_date timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS sso_user_org_external_key ON sso_user (organization_id, external_id);
      CREATE UNIQUE INDEX IF NOT EXISTS sso_user_org_user_key ON sso_user (organization_id, user_id);

      CREATE TABLE IF NOT EXISTS sso_pending (
        kind text NOT NULL,
        id text NOT NULL,
        data jsonb NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (kind, id)
      );
      CREATE INDEX IF NOT EXISTS sso_pending_expiry_idx ON sso_pending (expires_at);
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
