import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, skipUnlessService, startServer, type ServerProcess } from '@keyhaven/testing';
import { assertSameVault, keyhaven, seedInstance, vaultAsSeenByBw, type Seeded } from './data-safety-fixtures';

/**
 * `keyhaven db copy`: the embedded database of an all-in-one with users, an organization and items copied into
 * PostgreSQL; a server on that database (same DATA_DIR for the blobs) serves the same vaults to the bw CLI.
 */
describe('db copy from the embedded database into PostgreSQL', async () => {
  const skip = await skipUnlessService('postgres');
  const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-db-copy-'));
  const dataDir = join(scratch, 'data');
  let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let server: ServerProcess | undefined;
  let seeded: Seeded;
  let original: Awaited<ReturnType<typeof vaultAsSeenByBw>>;
  let originalMember: Awaited<ReturnType<typeof vaultAsSeenByBw>>;

  before(async () => {
    if (skip !== false) return;
    database = await createScratchDatabase();
    server = await startServer({ dataDir });
    seeded = await seedInstance(server.http, server.url, server.caPath, scratch);
    original = await vaultAsSeenByBw(server.url, server.caPath, seeded.ownerEmail, scratch);
    originalMember = await vaultAsSeenByBw(server.url, server.caPath, seeded.memberEmail, scratch);
    await server.stop();
    server = undefined;
  });

  after(async () => {
    await server?.stop();
    await database?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test(
    'copies every table, compares, refuses a non-empty target, and PostgreSQL serves the same vaults',
    { skip },
    async () => {
      const url = database?.url ?? '';
      const run = await keyhaven(['db', 'copy', '--to', url, '--json'], { DATA_DIR: dataDir });
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout) as {
        rows: number;
        tables: { table: string; rows: number; matches: boolean }[];
      };
      assert.ok(summary.tables.every((t) => t.matches));
      assert.ok((summary.tables.find((t) => t.table === 'cipher')?.rows ?? 0) >= 4);

      const again = await keyhaven(['db', 'copy', '--to', url], { DATA_DIR: dataDir });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /not empty.*--force/);
      const forced = await keyhaven(['db', 'copy', '--to', url, '--force', '--json'], { DATA_DIR: dataDir });
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal((JSON.parse(forced.stdout) as { rows: number }).rows, summary.rows);

      server = await startServer({ dataDir, env: { DATABASE_URL: url } });
      assertSameVault(original, await vaultAsSeenByBw(server.url, server.caPath, seeded.ownerEmail, scratch));
      // Every vault, not only the owner's: the member still decrypts the organization's item with its copied key.
      assert.deepEqual(
        (await vaultAsSeenByBw(server.url, server.caPath, seeded.memberEmail, scratch)).items,
        originalMember.items,
      );
    },
  );
});
