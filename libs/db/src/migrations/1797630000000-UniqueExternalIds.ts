import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A directory's id of a member or group is unique within its organization (SCIM answers a clash with
 * 409 uniqueness). The SCIM service checks before it writes, but two requests can pass that check
 * together (two SCIM instances, or requests interleaving on the embedded database); the index makes
 * the second write fail instead of leaving two rows the directory cannot tell apart.
 *
 * Rows written before this (the Directory Connector's import and the public API did not check) may
 * repeat an id: the oldest row keeps it and the later ones lose it (NULL), because a repeated id
 * matched neither reliably — SSO linking and SCIM lookups picked one of them arbitrarily. The empty
 * string is not an id (some clients send "" for "none") and stays allowed any number of times.
 */
export class UniqueExternalIds1797630000000 implements MigrationInterface {
  name = 'UniqueExternalIds1797630000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['organization_user', 'org_group']) {
      await q.query(`
        UPDATE ${table} t SET external_id = NULL
        FROM (
          SELECT id, row_number() OVER (PARTITION BY organization_id, external_id ORDER BY creation_date, id) AS n
          FROM ${table} WHERE external_id IS NOT NULL AND external_id <> ''
        ) d
        WHERE t.id = d.id AND d.n > 1
      `);
    }
    await q.query(`
      DROP INDEX organization_user_org_external_idx;
      CREATE UNIQUE INDEX organization_user_org_external_key ON organization_user (organization_id, external_id)
        WHERE external_id IS NOT NULL AND external_id <> '';
      DROP INDEX org_group_org_external_idx;
      CREATE UNIQUE INDEX org_group_org_external_key ON org_group (organization_id, external_id)
        WHERE external_id IS NOT NULL AND external_id <> '';
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
