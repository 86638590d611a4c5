import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataSource, embeddedDatabaseDir, embeddedTemplateDir, prepareEmbeddedStore } from './data-source';
import { runMigrations } from './migrate';

test('a new embedded store: initdb once (kept as the template), copies after that, the sized settings in force', async () => {
  const root = mkdtempSync(join(tmpdir(), 'keyhaven-embedded-store-'));
  const templateRoot = join(root, 'templates');
  try {
    const first = join(root, 'first');
    assert.equal(await prepareEmbeddedStore({ dataDir: first, templateRoot }), 'created');
    assert.ok(existsSync(join(embeddedDatabaseDir(first), 'PG_VERSION')));
    assert.ok(existsSync(join(embeddedTemplateDir(templateRoot), 'PG_VERSION')), 'initdb result kept as the template');
    assert.equal(await prepareEmbeddedStore({ dataDir: first, templateRoot }), 'existing');

    // An empty db directory (left by an interrupted start) is filled, not refused.
    const second = join(root, 'second');
    mkdirSync(embeddedDatabaseDir(second), { recursive: true });
    assert.equal(await prepareEmbeddedStore({ dataDir: second, templateRoot }), 'copied');
    assert.deepEqual(
      readdirSync(root).filter((name) => name.includes('.initdb-') || name.includes('.partial-')),
      [],
      'no building directories left behind',
    );
    assert.deepEqual(
      readdirSync(second).filter((name) => name !== 'db'),
      [],
    );

    const ds = createDataSource({ dataDir: second });
    await ds.initialize();
    try {
      assert.ok((await runMigrations(ds)).applied.length > 0);
      const [settings] = await ds.query<{ shared_buffers: string; max_connections: string }[]>(
        `SELECT current_setting('shared_buffers') AS shared_buffers, current_setting('max_connections') AS max_connections`,
      );
      assert.deepEqual(settings, { shared_buffers: '16MB', max_connections: '5' });
    } finally {
      await ds.destroy();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('PostgreSQL needs no embedded store', async () => {
  assert.equal(
    await prepareEmbeddedStore({ databaseUrl: 'postgres://127.0.0.1/none', dataDir: '/nonexistent' }),
    'existing',
  );
  assert.equal(existsSync('/nonexistent'), false);
});
