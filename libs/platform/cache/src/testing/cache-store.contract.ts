import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CacheStore, LockTimeoutError } from '../cache.port';

export interface CacheStoreContractHarness {
  /**
   * Called first in every test body. Returns stores sharing one backend (for Redis, several
   * connections so races really cross connections), or null when the test was skipped.
   */
  open(t: TestContext): Promise<readonly CacheStore[] | null>;
}

const RACERS = 40;
const TEST_TIMEOUT_MS = 15_000;

/** What a test body gets: at least one store. */
type OpenStores = readonly [CacheStore, ...CacheStore[]];

/** Pick the store for racer i, spreading racers over every connection. */
function pick(stores: OpenStores, i: number): CacheStore {
  const store = stores[i % stores.length];
  assert.ok(store);
  return store;
}

/** Shared behaviour of every CacheStore adapter; each adapter's spec calls this once. */
export function describeCacheStoreContract(name: string, harness: CacheStoreContractHarness): void {
  const contractTest = (title: string, body: (stores: OpenStores, key: string) => Promise<void>): void => {
    void it(title, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const stores = await harness.open(t);
      if (!stores) return;
      const [first, ...rest] = stores;
      assert.ok(first, 'the harness opened no stores');
      // Unique per test, so tests never see each other's state even on a shared backend.
      await body([first, ...rest], `contract:${randomUUID()}`);
    });
  };

  void describe(`${name} satisfies the CacheStore contract`, () => {
    contractTest('ping resolves', async ([store]) => {
      await store.ping();
    });

    contractTest('get returns what set stored, as JSON, and undefined when absent', async ([store], key) => {
      assert.equal(await store.cache.get(key), undefined);
      const value = { id: 'a', n: 1, list: [true, null], nested: { s: 'é' } };
      await store.cache.set(key, value, 10_000);
      assert.deepEqual(await store.cache.get(key), value);
      await store.cache.set(key, 'overwritten', 10_000);
      assert.equal(await store.cache.get<string>(key), 'overwritten');
    });

    contractTest('values expire after their ttl', async ([store], key) => {
      await store.cache.set(key, 1, 100);
      assert.equal(await store.cache.get(key), 1);
      await sleep(180);
      assert.equal(await store.cache.get(key), undefined);
    });

    contractTest('delete removes a key and is a no-op when absent', async ([store], key) => {
      await store.cache.set(key, 'x', 10_000);
      await store.cache.delete(key);
      assert.equal(await store.cache.get(key), undefined);
      await store.cache.delete(key);
    });

    contractTest('rejects values that are not JSON and non-positive ttls', async ([store], key) => {
      await assert.rejects(store.cache.set(key, undefined, 1000), TypeError);
      await assert.rejects(store.cache.set(key, 1, 0), RangeError);
    });

    contractTest('setIfAbsent sets only when absent, and again after expiry', async ([store], key) => {
      assert.equal(await store.cache.setIfAbsent(key, 'first', 100), true);
      assert.equal(await store.cache.setIfAbsent(key, 'second', 100), false);
      assert.equal(await store.cache.get(key), 'first');
      await sleep(180);
      assert.equal(await store.cache.setIfAbsent(key, 'third', 10_000), true);
      assert.equal(await store.cache.get(key), 'third');
    });

    contractTest('exactly one of many concurrent setIfAbsent calls wins', async (stores, key) => {
      const results = await Promise.all(
        Array.from({ length: RACERS }, (_, i) => pick(stores, i).cache.setIfAbsent(key, i, 10_000)),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await stores[0].cache.get(key), results.indexOf(true));
    });

    contractTest('take returns the value once', async ([store], key) => {
      await store.cache.set(key, { token: 't' }, 10_000);
      assert.deepEqual(await store.cache.take(key), { token: 't' });
      assert.equal(await store.cache.take(key), undefined);
      assert.equal(await store.cache.get(key), undefined);
    });

    contractTest('exactly one of many concurrent takes gets the value', async (stores, key) => {
      await stores[0].cache.set(key, 'once', 10_000);
      const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => pick(stores, i).cache.take(key)));
      assert.deepEqual(
        results.filter((r) => r !== undefined),
        ['once'],
      );
    });

    contractTest('a held lock cannot be acquired until released', async ([store], key) => {
      const handle = await store.lock.tryAcquire(key, 10_000);
      assert.ok(handle);
      assert.equal(await store.lock.tryAcquire(key, 10_000), null);
      await handle.release();
      const again = await store.lock.tryAcquire(key, 10_000);
      assert.ok(again);
      await again.release();
    });

    contractTest('concurrent withLock sections on one key never overlap', async (stores, key) => {
      let active = 0;
      let maxActive = 0;
      let runs = 0;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          pick(stores, i).lock.withLock(
            key,
            5_000,
            async () => {
              active += 1;
              maxActive = Math.max(maxActive, active);
              await sleep(2);
              runs += 1;
              active -= 1;
            },
            10_000,
          ),
        ),
      );
      assert.equal(runs, 20);
      assert.equal(maxActive, 1);
    });

    contractTest('withLock returns the result and releases even when fn throws', async ([store], key) => {
      assert.equal(await store.lock.withLock(key, 5_000, () => Promise.resolve(42)), 42);
      await assert.rejects(
        store.lock.withLock(key, 5_000, () => Promise.reject(new Error('boom'))),
        /boom/,
      );
      const handle = await store.lock.tryAcquire(key, 5_000);
      assert.ok(handle, 'lock was released after fn threw');
      await handle.release();
    });

    contractTest('withLock throws LockTimeoutError after waitMs when the lock stays held', async ([store], key) => {
      const handle = await store.lock.tryAcquire(key, 10_000);
      assert.ok(handle);
      const started = Date.now();
      let ran = false;
      await assert.rejects(
        store.lock.withLock(
          key,
          1_000,
          () => {
            ran = true;
            return Promise.resolve();
          },
          150,
        ),
        LockTimeoutError,
      );
      assert.equal(ran, false);
      assert.ok(Date.now() - started >= 140, 'waited about waitMs');
      await handle.release();
    });

    contractTest('an expired lease lets another caller take the lock', async ([store], key) => {
      const crashed = await store.lock.tryAcquire(key, 100);
      assert.ok(crashed);
      await sleep(180);
      const next = await store.lock.tryAcquire(key, 10_000);
      assert.ok(next);
      await next.release();
    });

    contractTest('only the owner releases: a stale handle cannot free the next holder', async ([store], key) => {
      const stale = await store.lock.tryAcquire(key, 100);
      assert.ok(stale);
      await sleep(180);
      const owner = await store.lock.tryAcquire(key, 10_000);
      assert.ok(owner);
      await stale.release();
      assert.equal(await store.lock.tryAcquire(key, 10_000), null, 'stale release freed the lock');
      await owner.release();
      await owner.release(); // idempotent
      const after = await store.lock.tryAcquire(key, 10_000);
      assert.ok(after);
      await after.release();
    });

    contractTest('rate limiter allows exactly limit hits per window, then again after it', async ([store], key) => {
      const windowMs = 300;
      const decisions = [];
      for (let i = 0; i < 3; i++) decisions.push(await store.rateLimiter.hit(key, 3, windowMs));
      assert.deepEqual(
        decisions.map((d) => [d.allowed, d.remaining, d.retryAfterMs]),
        [
          [true, 2, 0],
          [true, 1, 0],
          [true, 0, 0],
        ],
      );
      const denied = await store.rateLimiter.hit(key, 3, windowMs);
      assert.equal(denied.allowed, false);
      assert.equal(denied.remaining, 0);
      assert.ok(denied.retryAfterMs > 0 && denied.retryAfterMs <= windowMs, `retryAfterMs ${denied.retryAfterMs}`);
      // Denied hits don't count: hammering does not push the window further out.
      const deniedAgain = await store.rateLimiter.hit(key, 3, windowMs);
      assert.ok(deniedAgain.retryAfterMs <= denied.retryAfterMs);
      await sleep(denied.retryAfterMs + 30);
      assert.equal((await store.rateLimiter.hit(key, 3, windowMs)).allowed, true);
      // Other keys are independent.
      assert.equal((await store.rateLimiter.hit(`${key}:other`, 3, windowMs)).allowed, true);
    });

    contractTest('the window slides: each hit stops counting windowMs after it was made', async ([store], key) => {
      const windowMs = 400;
      assert.equal((await store.rateLimiter.hit(key, 2, windowMs)).allowed, true);
      await sleep(200);
      assert.equal((await store.rateLimiter.hit(key, 2, windowMs)).allowed, true);
      const denied = await store.rateLimiter.hit(key, 2, windowMs);
      assert.equal(denied.allowed, false);
      // Only the first hit has to age out (~200 ms left), not a whole fresh window.
      assert.ok(denied.retryAfterMs > 0 && denied.retryAfterMs <= 210, `retryAfterMs ${denied.retryAfterMs}`);
      await sleep(denied.retryAfterMs + 20);
      const reopened = await store.rateLimiter.hit(key, 2, windowMs);
      assert.deepEqual([reopened.allowed, reopened.remaining], [true, 0]);
      // The second hit still counts, so there is no double burst at a window boundary.
      const again = await store.rateLimiter.hit(key, 2, windowMs);
      assert.equal(again.allowed, false);
      assert.ok(again.retryAfterMs > 0 && again.retryAfterMs < windowMs, `retryAfterMs ${again.retryAfterMs}`);
    });

    contractTest('concurrent hits never exceed the limit', async (stores, key) => {
      const results = await Promise.all(
        Array.from({ length: RACERS }, (_, i) => pick(stores, i).rateLimiter.hit(key, 7, 10_000)),
      );
      assert.equal(results.filter((d) => d.allowed).length, 7);
      assert.deepEqual(
        results
          .filter((d) => d.allowed)
          .map((d) => d.remaining)
          .sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6],
      );
      assert.ok(results.filter((d) => !d.allowed).every((d) => d.retryAfterMs > 0));
    });

    contractTest('reset clears a key', async ([store], key) => {
      await store.rateLimiter.hit(key, 1, 10_000);
      assert.equal((await store.rateLimiter.hit(key, 1, 10_000)).allowed, false);
      await store.rateLimiter.reset(key);
      assert.equal((await store.rateLimiter.hit(key, 1, 10_000)).allowed, true);
      await assert.rejects(store.rateLimiter.hit(key, 0, 10_000), RangeError);
    });
  });
}
