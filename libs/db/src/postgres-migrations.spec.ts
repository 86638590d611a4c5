import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createDataSource } from './data-source';
import { runMigrations } from './migrate';
import { migrationsForTest } from './migrations/index';
import { requireServices, serviceUrls } from '@keyhaven/testing';
import { Client } from 'pg';

async function withScratchDatabase(fn: (url: string) => Promise<void>): Promise<void> {
  const adminUrl = serviceUrls.postgres();
  const name = `keyhaven_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

test('PostgreSQL: instances migrating the same empty database together apply each migration once', async (t) => {
  if (!(await requireServices(t, 'postgres'))) return;
  await withScratchDatabase(async (url) => {
    const sources = Array.from({ length: 4 }, () => createDataSource({ databaseUrl: url, dataDir: '/nonexistent' }));
    await Promise.all(sources.map((s) => s.initialize()));
    try {
      const reports = await Promise.all(sources.map((s) => runMigrations(s)));
      const applied = reports.flatMap((r) => r.applied);
      assert.deepEqual(applied.sort(), migrationsForTest().sort());
      const rows = await sources[0]!.query<{ name: string }[]>('SELECT name FROM schema_migrations');
      assert.equal(rows.length, migrationsForTest().length);
    } finally {
      await Promise.all(sources.map((s) => s.destroy()));
    }
  });
});
