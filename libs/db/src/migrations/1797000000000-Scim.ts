import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM provisioning (issue 13). `organization_api_key` holds an organization's typed keys beside the
 * public-API key on `organization` (type 2 = SCIM; one per type); `organization_connection` the
 * web vault's per-type connections (type 2 = SCIM, `config` = `{enabled, scimProvider}`). The SCIM
 * directory's own id of a member stays where the Directory Connector already keeps it,
 * `organization_user.external_id`; lookups by it (SCIM filters, SSO linking) get an index, as do
 * group external ids. Not unique: rows written before SCIM may repeat one; the SCIM service refuses
 * new duplicates with a 409.
 */
export class Scim1797000000000 implements MigrationInterface {
  name = 'Scim1797000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organization_api_key (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        type smallint NOT NULL,
        api_key text NOT NULL,
        revision_date timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX organization_api_key_org_type_key ON organization_api_key (organization_id, type);

      CREATE TABLE organization_connection (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        type smallint NOT NULL,
        enabled boolean NOT NULL,
        config jsonb,
        revision_date timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX organization_connection_org_type_key ON organization_connection (organization_id, type);

      CREATE INDEX organization_user_org_external_idx ON organization_user (organization_id, external_id)
        WHERE external_id IS NOT NULL;
      CREATE INDEX org_group_org_external_idx ON org_group (organization_id, external_id) WHERE external_id IS NOT NULL;
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
