import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryCacheStore } from './memory/memory-cache-store';
import { PeriodicJob, runExclusively } from './periodic-job';

void describe('PeriodicJob and runExclusively', () => {
  void test('never runs twice at once, reports a failure and goes on, and stop() waits for the run in progress', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const errors: unknown[] = [];
    const job = new PeriodicJob(
      async () => {
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(40);
        active--;
        if (runs === 1) throw new Error('first run fails');
      },
      (error) => errors.push(error),
    );
    job.start(5);
    await sleep(150);
    await job.stop();
    assert.equal(maxActive, 1);
    assert.ok(runs >= 2, `${runs} runs`);
    assert.equal(errors.length, 1);
    assert.equal(active, 0, 'stop() returned only after the run ended');
    const after = runs;
    await sleep(30);
    assert.equal(runs, after, 'no tick after stop()');
  });

  void test('runExclusively runs for the lease holder only, and releases the lease however fn ends', async () => {
    const store = new MemoryCacheStore();
    const held = await store.lock.tryAcquire('job:x', 60_000);
    assert.ok(held);
    assert.equal(await runExclusively(store.lock, 'job:x', 60_000, () => Promise.resolve('ran')), null);
    await held.release();
    await assert.rejects(
      runExclusively(store.lock, 'job:x', 60_000, () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await runExclusively(store.lock, 'job:x', 60_000, () => Promise.resolve('ran')), 'ran');
  });
});
