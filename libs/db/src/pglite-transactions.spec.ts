import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createDataSource } from './data-source';
import { runMigrations } from './migrate';

test('embedded PGlite: concurrent transactions, a third rolling back, leave exactly the committed rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyhaven-pglite-'));
  const ds = createDataSource({ dataDir: dir });
  await ds.initialize();
  try {
    const report = await runMigrations(ds);
    assert.ok(report.applied.length > 0);
    await ds.query('CREATE TABLE probe (id uuid PRIMARY KEY, n int NOT NULL)');

    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, n) =>
        ds.transaction(async (manager) => {
          const id = randomUUID();
          await manager.query('INSERT INTO probe (id, n) VALUES ($1, $2)', [id, n]);
          // Yield so that other transactions get every chance to interleave with this one.
          await new Promise((r) => setTimeout(r, 1));
          await manager.query('INSERT INTO probe (id, n) VALUES ($1, $2)', [randomUUID(), n + 1000]);
          if (n % 3 === 0) throw new Error(`planned failure ${n}`);
          return n;
        }),
      ),
    );
    const committed = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    assert.equal(committed.length, 33);
    const rows = await ds.query<{ n: number }[]>('SELECT n FROM probe WHERE n < 1000 ORDER BY n');
    assert.deepEqual(
      rows.map((r) => r.n),
      committed.sort((a, b) => a - b),
    );
    const counted = await ds.query<{ count: string }[]>('SELECT count(*)::text AS count FROM probe');
    assert.equal(Number(counted[0]?.count), 66);
  } finally {
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('embedded PGlite: migrations run once and a reopened store keeps its data', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyhaven-pglite-'));
  try {
    const first = createDataSource({ dataDir: dir });
    await first.initialize();
    assert.ok((await runMigrations(first)).applied.length > 0);
    await first.query('CREATE TABLE kept (v text)');
    await first.query("INSERT INTO kept VALUES ('still here')");
    await first.destroy();

    const second = createDataSource({ dataDir: dir });
    await second.initialize();
    assert.deepEqual((await runMigrations(second)).applied, []);
    assert.deepEqual(await second.query('SELECT v FROM kept'), [{ v: 'still here' }]);
    await second.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
