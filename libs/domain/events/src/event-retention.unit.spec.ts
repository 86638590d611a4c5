import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { KeyhavenConfig } from '@keyhaven/config';
import { Database, JobScheduler, ProcessJobLock, createDataSource, entities, runMigrations } from '@keyhaven/db';
import { MemoryCacheStore } from '@keyhaven/cache';
import { EventRepository } from './event.repository';
import { EventRetentionJob } from './event-retention.job';

const DAY = 24 * 60 * 60 * 1000;

test('retention deletes events older than EVENTS_DAYS_RETAIN, once a day across instances', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyhaven-retention-'));
  const ds = createDataSource({ dataDir: dir, entities });
  await ds.initialize();
  t.after(async () => {
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  await runMigrations(ds);
  const db = new Database(ds);
  const now = new Date('2026-06-01T12:00:00Z');
  const ages = [0, 1, 29, 31, 45, 400];
  for (const age of ages) {
    await db.execute('INSERT INTO event (id, type, date) VALUES ($1, 1000, $2)', [
      randomUUID(),
      new Date(now.getTime() - age * DAY - 1000),
    ]);
  }
  // Two instances share the cache (as they share Redis): only the first to take the day's lease runs.
  const cache = new MemoryCacheStore();
  t.after(() => cache.close());
  const config = { EVENTS_DAYS_RETAIN: 30 } as KeyhavenConfig;
  const scheduler = new JobScheduler(db, new ProcessJobLock());
  const first = new EventRetentionJob(new EventRepository(db), cache, config, scheduler);
  const second = new EventRetentionJob(new EventRepository(db), cache, config, scheduler);
  assert.equal(await first.runDaily(now), 3);
  assert.equal(await second.runDaily(now), 0, 'the other instance skips the day');
  const left = await db.rows<{ n: number }>('SELECT count(*)::int AS n FROM event');
  assert.equal(left[0]?.n, 3);
  // Unset: nothing is ever deleted.
  const keepAll = new EventRetentionJob(
    new EventRepository(db),
    new MemoryCacheStore(),
    {} as KeyhavenConfig,
    scheduler,
  );
  assert.equal(await keepAll.purge(new Date(now.getTime() + 1000 * DAY)), 0);
});
