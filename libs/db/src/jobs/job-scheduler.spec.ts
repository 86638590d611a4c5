import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, requireServices } from '@keyhaven/testing';
import type { DataSource } from 'typeorm';
import { createDataSource, prepareEmbeddedStore } from '../data-source';
import { Database } from '../database';
import { runMigrations } from '../migrate';
import { JobScheduler, type JobDefinition } from './job-scheduler';
import { ProcessJobLock, createJobLock } from './job-lock';

/**
 * The scheduler's bookkeeping on both stores, without timers: "instances" are schedulers on their own
 * connections pools (PostgreSQL) or sharing the process (PGlite), and `check()` is what the timer calls
 * at each period's start.
 */
async function scenario(sources: DataSource[]): Promise<void> {
  const schedulers = sources.map((s) => new JobScheduler(new Database(s), createJobLock(s)));
  const db = new Database(sources[0]!);
  let runs = 0;
  let release: (() => void) | undefined;
  const definition = (name: string, periodMs: number, run: () => Promise<unknown>): JobDefinition => ({
    name,
    periodMs,
    run,
  });
  // A long period: every check below falls in the same one.
  const counted = definition('counted', 3_600_000, () => {
    runs++;
    return Promise.resolve();
  });
  const jobs = schedulers.map((s) => s.schedule(counted));
  try {
    const outcomes = [];
    for (const job of jobs) outcomes.push(await job.check());
    assert.deepEqual(outcomes, ['ran', ...jobs.slice(1).map(() => 'not-due')], 'one run per period');
    assert.equal(runs, 1);

    // An instance killed midway leaves the run unfinished (and its lock gone): the next check runs it again.
    await db.execute('UPDATE job_run SET finished_at = NULL WHERE name = $1', ['counted']);
    assert.equal(await jobs[jobs.length - 1]!.check(), 'ran', 'an interrupted run is resumed');
    assert.equal(runs, 2);
    const [row] = await db.rows<{ runs: string; finished: boolean; owner: string }>(
      'SELECT runs::text, finished_at IS NOT NULL AS finished, owner FROM job_run WHERE name = $1',
      ['counted'],
    );
    assert.deepEqual(row, { runs: '2', finished: true, owner: schedulers[0]!.instanceId });

    // While one instance runs a job, the others find it busy, and a failure is recorded, not thrown.
    const slow = definition('slow', 3_600_000, () => new Promise<void>((resolve) => (release = resolve)));
    const slowJobs = schedulers.map((s) => s.schedule({ ...slow }));
    const first = slowJobs[0]!.check();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await slowJobs[slowJobs.length - 1]!.check(), 'busy');
    release?.();
    assert.equal(await first, 'ran');
    const failing = schedulers[0]!.schedule(definition('failing', 3_600_000, () => Promise.reject(new Error('boom'))));
    assert.equal(await failing.check(), 'ran');
    const [failed] = await db.rows<{ last_error: string }>('SELECT last_error FROM job_run WHERE name = $1', [
      'failing',
    ]);
    assert.equal(failed?.last_error, 'boom');

    // A calendar job (cron-like: fires on the hour): not run when first seen, then once per fire time that
    // has passed, however many instances check and however many fire times were missed.
    let calendarRuns = 0;
    const hourly: JobDefinition = {
      name: 'calendar',
      periodMs: 3_600_000,
      nextAfter: (ms) => (Math.floor(ms / 3_600_000) + 1) * 3_600_000,
      run: () => Promise.resolve(calendarRuns++),
    };
    const calendarJobs = schedulers.map((s) => s.schedule({ ...hourly }));
    for (const job of calendarJobs) assert.equal(await job.check(), 'not-due', 'no run at first sight');
    assert.equal(calendarRuns, 0);
    // Three fire times pass while nobody looks: one run, recorded at the latest of them.
    await db.execute('UPDATE job_run SET slot = slot - 3 * 3600000 WHERE name = $1', ['calendar']);
    const after = [];
    for (const job of calendarJobs) after.push(await job.check());
    assert.deepEqual(after, ['ran', ...calendarJobs.slice(1).map(() => 'not-due')], 'one run per fire time');
    assert.equal(calendarRuns, 1);
    const [slot] = await db.rows<{ slot: string; now_ms: string }>(
      `SELECT slot::text, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS now_ms
         FROM job_run WHERE name = $1`,
      ['calendar'],
    );
    assert.equal(Number(slot?.slot), Math.floor(Number(slot?.now_ms) / 3_600_000) * 3_600_000, 'the last fire time');
  } finally {
    await Promise.all(schedulers.map((s) => s.onApplicationShutdown()));
  }
}

test('PGlite: one run per period, interrupted runs resumed, busy while running', async (t: TestContext) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyhaven-jobs-'));
  // From the initdb template when there is one (as the harness does).
  await prepareEmbeddedStore({ dataDir: dir });
  const source = createDataSource({ dataDir: dir });
  await source.initialize();
  t.after(async () => {
    await source.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  await runMigrations(source);
  assert.ok(createJobLock(source) instanceof ProcessJobLock, 'the embedded store locks in process');
  // One process: both "instances" share its lock, as every module of the all-in-one shares the scheduler.
  const lock = new ProcessJobLock();
  const db = new Database(source);
  const a = new JobScheduler(db, lock);
  const b = new JobScheduler(db, lock);
  let runs = 0;
  const job = { name: 'embedded', periodMs: 3_600_000, run: () => Promise.resolve(runs++) };
  assert.deepEqual([await a.schedule(job).check(), await b.schedule(job).check()], ['ran', 'not-due']);
  assert.equal(runs, 1);
  await Promise.all([a.onApplicationShutdown(), b.onApplicationShutdown()]);
  await scenario([source]);
});

test('PostgreSQL: three instances (own pools, advisory locks) share each period', async (t: TestContext) => {
  if (!(await requireServices(t, 'postgres'))) return;
  const database = await createScratchDatabase();
  const sources = [0, 1, 2].map(() => createDataSource({ databaseUrl: database.url, dataDir: '/nonexistent' }));
  await Promise.all(sources.map((s) => s.initialize()));
  t.after(async () => {
    await Promise.all(sources.map((s) => s.destroy()));
    await database.drop();
  });
  await runMigrations(sources[0]!);
  await scenario(sources);
});
