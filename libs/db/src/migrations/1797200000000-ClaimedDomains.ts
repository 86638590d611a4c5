import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claimed (verified) organization domains. `txt` is the value the organization publishes as a DNS
 * TXT record at the domain apex; `verified_date` is set once the record was seen (or the operator
 * declared the domain verified for a closed network). One organization at most may hold a domain
 * verified, which the partial unique index enforces even against two verifications racing.
 */
export class ClaimedDomains1797200000000 implements MigrationInterface {
  name = 'ClaimedDomains1797200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organization_domain (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        domain_name text NOT NULL,
        txt text NOT NULL,
        creation_date timestamptz NOT NULL,
        next_run_date timestamptz NOT NULL,
        job_run_count integer NOT NULL DEFAULT 0,
        verified_date timestamptz,
        last_checked_date timestamptz
      );
      CREATE UNIQUE INDEX organization_domain_org_name_key ON organization_domain (organization_id, domain_name);
      CREATE UNIQUE INDEX organization_domain_verified_key ON organization_domain (domain_name) WHERE verified_date IS NOT NULL;

      -- The anonymous domain lookup answers with the organization's SSO identifier and only for an
      -- enabled SSO configuration. Both belong to the SSO configuration work, which may create them
      -- first; these statements are written to be no-ops then.
      ALTER TABLE organization ADD COLUMN IF NOT EXISTS identifier text;
      CREATE TABLE IF NOT EXISTS sso_config (
        organization_id uuid PRIMARY KEY REFERENCES organization (id) ON DELETE CASCADE,
        enabled boolean NOT NULL DEFAULT false,
        data jsonb,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
