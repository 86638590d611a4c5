import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, requireServices, startServer, type ServerProcess } from '@keyhaven/testing';
import { assertSameVault, keyhaven, seedInstance, vaultAsSeenByBw } from './data-safety-fixtures';

/**
 * The PostgreSQL backup source: an all-in-one on PostgreSQL is seeded through the API and the bw CLI, backed up
 * with `keyhaven backup` (DATABASE_URL: one REPEATABLE READ snapshot of PostgreSQL), and restored into an empty
 * embedded data directory; a server there serves the same vaults to the bw CLI, the attachment included.
 */
test('backup from PostgreSQL, restore into the embedded store: identical vaults', async (t: TestContext) => {
  if (!(await requireServices(t, 'postgres'))) return;
  const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-backup-pg-'));
  const database = await createScratchDatabase();
  const source = join(scratch, 'source');
  const target = join(scratch, 'target');
  const file = join(scratch, 'keyhaven.backup');
  const passphrase = join(scratch, 'passphrase');
  writeFileSync(passphrase, 'a long backup passphrase of several words\n', { mode: 0o600 });
  let server: ServerProcess | undefined;
  t.after(async () => {
    await server?.stop();
    await database.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  server = await startServer({ dataDir: source, env: { DATABASE_URL: database.url } });
  const seeded = await seedInstance(server.http, server.url, server.caPath, scratch);
  const original = await vaultAsSeenByBw(server.url, server.caPath, seeded.ownerEmail, scratch);
  // PostgreSQL serves other connections during a backup: the server keeps running while it is taken.
  const backup = await keyhaven(['backup', '--out', file, '--passphrase-file', passphrase, '--json'], {
    DATA_DIR: source,
    DATABASE_URL: database.url,
  });
  assert.equal(backup.code, 0, backup.stderr);
  const summary = JSON.parse(backup.stdout) as { blobs: number; tables: { table: string; rows: number }[] };
  assert.equal(summary.blobs, 1);
  assert.ok((summary.tables.find((x) => x.table === 'signing_key')?.rows ?? 0) > 0, 'the signing keys are in it');
  await server.stop();
  server = undefined;

  const restore = await keyhaven(['restore', file, '--passphrase-file', passphrase, '--json'], { DATA_DIR: target });
  assert.equal(restore.code, 0, restore.stderr);
  const restored = JSON.parse(restore.stdout) as { source: string; tables: { matches: boolean }[] };
  assert.equal(restored.source, 'postgres');
  assert.ok(restored.tables.every((x) => x.matches));

  server = await startServer({ dataDir: target });
  assertSameVault(original, await vaultAsSeenByBw(server.url, server.caPath, seeded.ownerEmail, scratch));
  const member = await vaultAsSeenByBw(server.url, server.caPath, seeded.memberEmail, scratch);
  assert.deepEqual(
    member.items.map((i) => (i as { name: string }).name),
    ['Member note', 'Shared router'],
    'the member still decrypts the shared item',
  );
});
