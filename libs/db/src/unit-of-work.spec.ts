import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createScratchDatabase, requireServices } from '@keyhaven/testing';
import { createDataSource } from './data-source';
import { Database } from './database';
import { NestedConnectionError, onLongLease } from './pglite-driver';

type Backend = 'pglite' | 'postgres';

/** A data source on the backend with one scratch table, and a teardown. */
async function open(t: TestContext, backend: Backend): Promise<{ ds: DataSource; db: Database } | undefined> {
  let cleanup: () => Promise<void>;
  let ds: DataSource;
  if (backend === 'postgres') {
    if (!(await requireServices(t, 'postgres'))) return undefined;
    const scratch = await createScratchDatabase();
    ds = createDataSource({ databaseUrl: scratch.url, dataDir: '/nonexistent', poolSize: 4 });
    cleanup = () => scratch.drop();
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'keyhaven-uow-'));
    ds = createDataSource({ dataDir: dir });
    cleanup = () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    };
  }
  await ds.initialize();
  t.after(async () => {
    await ds.destroy();
    await cleanup();
  });
  await ds.query('CREATE TABLE IF NOT EXISTS uow_probe (n int PRIMARY KEY)');
  await ds.query('TRUNCATE uow_probe');
  return { ds, db: new Database(ds) };
}

/** Stands in for a repository of another domain: it only ever talks through its own Database handle. */
class ProbeRepository {
  constructor(private readonly db: Database) {}
  async count(): Promise<number> {
    const [row] = await this.db.rows<{ count: number }>('SELECT count(*)::int AS count FROM uow_probe');
    return row?.count ?? 0;
  }
  insert(n: number): Promise<number> {
    return this.db.execute('INSERT INTO uow_probe (n) VALUES ($1)', [n]);
  }
}

for (const backend of ['pglite', 'postgres'] as const) {
  test(`${backend}: a repository read inside a transaction sees the transaction's uncommitted writes`, async (t) => {
    const opened = await open(t, backend);
    if (!opened) return;
    // A second handle on the same store, as another repository injected elsewhere would hold.
    const other = new ProbeRepository(new Database(opened.ds));
    const seen = await opened.db.transaction(async () => {
      await opened.db.execute('INSERT INTO uow_probe (n) VALUES (1), (2)');
      return other.count();
    });
    assert.equal(seen, 2);
    assert.equal(await other.count(), 2);
  });

  test(`${backend}: a failure rolls back every repository's writes made in the transaction`, async (t) => {
    const opened = await open(t, backend);
    if (!opened) return;
    const repo = new ProbeRepository(opened.db);
    await assert.rejects(
      opened.db.transaction(async () => {
        await repo.insert(1);
        await repo.insert(2);
        throw new Error('planned');
      }),
      /planned/,
    );
    assert.equal(await repo.count(), 0);
  });

  test(`${backend}: a nested transaction is a savepoint; the outer one keeps its work when the inner fails`, async (t) => {
    const opened = await open(t, backend);
    if (!opened) return;
    const repo = new ProbeRepository(opened.db);
    await opened.db.transaction(async () => {
      await repo.insert(1);
      await assert.rejects(
        opened.db.transaction(async () => {
          await repo.insert(2);
          throw new Error('inner');
        }),
        /inner/,
      );
      await opened.db.transaction(() => repo.insert(3));
    });
    const rows = await opened.db.rows<{ n: number }>('SELECT n FROM uow_probe ORDER BY n');
    assert.deepEqual(
      rows.map((r) => r.n),
      [1, 3],
    );
  });

  test(`${backend}: work that outlives its transaction runs on a fresh connection, not the released one`, async (t) => {
    const opened = await open(t, backend);
    if (!opened) return;
    const repo = new ProbeRepository(opened.db);
    let late: Promise<number> | undefined;
    await opened.db.transaction(async () => {
      await repo.insert(1);
      late = new Promise((resolve) => setTimeout(resolve, 20)).then(() => repo.count());
    });
    assert.equal(await late, 1);
  });
}

test('pglite: a call that escapes the transaction fails at once instead of waiting for its own connection', async (t) => {
  const opened = await open(t, 'pglite');
  if (!opened) return;
  const started = Date.now();
  await assert.rejects(
    opened.db.transaction(async () => {
      await opened.db.execute('INSERT INTO uow_probe (n) VALUES (1)');
      // Straight to the DataSource: a new connection, which the embedded store has only one of.
      await opened.ds.query('SELECT 1');
    }),
    NestedConnectionError,
  );
  assert.ok(Date.now() - started < 1000, `failed after ${Date.now() - started} ms`);
  // The failed transaction rolled back and released the connection: the store still answers.
  assert.equal(await new ProbeRepository(opened.db).count(), 0);
});

test('pglite: a lease held past the limit is reported with the code that took it', async (t) => {
  const opened = await open(t, 'pglite');
  if (!opened) return;
  const reports: { heldMs: number; holder: string }[] = [];
  t.after(onLongLease((lease) => reports.push(lease)));
  await opened.db.transaction(async function slowUnitOfWork() {
    await opened.db.execute('INSERT INTO uow_probe (n) VALUES (1)');
    await new Promise((resolve) => setTimeout(resolve, 3_300));
  });
  assert.equal(reports.length, 1);
  assert.ok(reports[0]!.heldMs >= 3_000);
  assert.match(reports[0]!.holder, /unit-of-work\.spec/);
});
