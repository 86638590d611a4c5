import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeCacheStoreContract } from '../testing/cache-store.contract';
import { MemoryCacheStore } from './memory-cache-store';

const store = new MemoryCacheStore();
after(async () => {
  await store.close();
});

// One instance stands in for "several connections": a single process shares one store.
describeCacheStoreContract('MemoryCacheStore', { open: () => Promise.resolve([store, store, store]) });

void describe('MemoryCacheStore', () => {
  void it('returns copies, so mutating a result never changes the stored value', async () => {
    const own = new MemoryCacheStore();
    await own.cache.set('k', { n: 1 }, 10_000);
    const first = await own.cache.get<{ n: number }>('k');
    assert.ok(first);
    first.n = 2;
    assert.deepEqual(await own.cache.get('k'), { n: 1 });
    await own.close();
  });

  void it('the periodic sweep purges expired entries nobody reads', async () => {
    const own = new MemoryCacheStore({ sweepIntervalMs: 20 });
    await own.cache.set('k', 1, 10);
    await own.lock.tryAcquire('l', 10);
    await own.rateLimiter.hit('r', 1, 10);
    await own.cache.set('kept', 1, 10_000);
    assert.deepEqual([own.cache.size, own.lock.size, own.rateLimiter.size], [2, 1, 1]);
    await sleep(80);
    assert.deepEqual([own.cache.size, own.lock.size, own.rateLimiter.size], [1, 0, 0]);
    await own.close();
  });

  void it('ping fails after close', async () => {
    const own = new MemoryCacheStore();
    await own.ping();
    await own.close();
    await assert.rejects(own.ping(), /closed/);
  });
});
