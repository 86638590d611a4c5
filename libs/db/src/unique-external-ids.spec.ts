import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createScratchDatabase, requireServices, testEnv } from '@keyhaven/testing';
import { createDataSource } from './data-source';
import { runMigrations } from './migrate';
import { migrations } from './migrations/index';
import { UniqueExternalIds1797630000000 } from './migrations/1797630000000-UniqueExternalIds';

/**
 * Migration 1797630000000 on a database that already repeats external ids (written before it by the
 * Directory Connector or the public API, which did not check): it applies, the oldest row keeps each
 * id, later ones lose it, the empty string stays allowed, and from then on a repeat is refused.
 */
const before = migrations.filter((m) => m !== UniqueExternalIds1797630000000);

for (const backend of testEnv.TEST_BACKENDS) {
  describe(`unique external ids migration on ${backend}`, () => {
    test('existing repeats keep the id on the oldest row; new repeats are refused', async (t) => {
      if (backend === 'postgres' && !(await requireServices(t, 'postgres'))) return;
      const dataDir = mkdtempSync(join(tmpdir(), 'keyhaven-unique-ext-'));
      const scratch = backend === 'postgres' ? await createScratchDatabase() : undefined;
      const open = async (list: typeof migrations): Promise<DataSource> => {
        const source = createDataSource({ databaseUrl: scratch?.url, dataDir, migrations: list });
        await source.initialize();
        return source;
      };
      try {
        const old = await open(before);
        await runMigrations(old);
        const org = randomUUID();
        await old.query(
          `INSERT INTO organization (id, name, billing_email, api_key, creation_date, revision_date)
           VALUES ($1, 'Org', 'billing@example.com', 'key', now(), now())`,
          [org],
        );
        const members = ['dup', 'dup', 'dup', '', '', 'solo'].map((externalId, n) => ({
          id: randomUUID(),
          externalId,
          n,
        }));
        for (const m of members) {
          await old.query(
            `INSERT INTO organization_user (id, organization_id, email, status, type, external_id, creation_date, revision_date)
             VALUES ($1, $2, $3, 0, 2, $4, now() + $5 * interval '1 second', now())`,
            [m.id, org, `m${m.n}@example.com`, m.externalId, m.n],
          );
        }
        const groups = ['g', 'g', 'other'].map((externalId, n) => ({ id: randomUUID(), externalId, n }));
        for (const g of groups) {
          await old.query(
            `INSERT INTO org_group (id, organization_id, name, external_id, creation_date, revision_date)
             VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second', now())`,
            [g.id, org, `group ${g.n}`, g.externalId, g.n],
          );
        }
        await old.destroy();

        const now = await open(migrations);
        try {
          assert.deepEqual((await runMigrations(now)).applied, ['UniqueExternalIds1797630000000']);
          const memberIds = await now.query<{ external_id: string | null }[]>(
            'SELECT external_id FROM organization_user WHERE organization_id = $1 ORDER BY creation_date',
            [org],
          );
          assert.deepEqual(
            memberIds.map((r) => r.external_id),
            ['dup', null, null, '', '', 'solo'],
          );
          const groupIds = await now.query<{ external_id: string | null }[]>(
            'SELECT external_id FROM org_group WHERE organization_id = $1 ORDER BY creation_date',
            [org],
          );
          assert.deepEqual(
            groupIds.map((r) => r.external_id),
            ['g', null, 'other'],
          );
          await assert.rejects(
            now.query(
              `INSERT INTO organization_user (id, organization_id, email, status, type, external_id, creation_date, revision_date)
               VALUES ($1, $2, 'late@example.com', 0, 2, 'solo', now(), now())`,
              [randomUUID(), org],
            ),
            (error: { code?: string }) => error.code === '23505',
          );
          await assert.rejects(
            now.query(
              `INSERT INTO org_group (id, organization_id, name, external_id, creation_date, revision_date)
               VALUES ($1, $2, 'late', 'g', now(), now())`,
              [randomUUID(), org],
            ),
            (error: { code?: string }) => error.code === '23505',
          );
          // The empty string is no id: any number of rows may carry it.
          await now.query(
            `INSERT INTO organization_user (id, organization_id, email, status, type, external_id, creation_date, revision_date)
             VALUES ($1, $2, 'blank@example.com', 0, 2, '', now(), now())`,
            [randomUUID(), org],
          );
        } finally {
          await now.destroy();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
        await scratch?.drop();
      }
    });
  });
}
