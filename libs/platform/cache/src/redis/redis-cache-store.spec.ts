import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { httpStatusOf } from '@keyhaven/contracts';
import { requireServices, serviceUrls, silentServer, startPrivateRedis } from '@keyhaven/testing';
import { CacheUnavailableError, isCacheUnavailable, type RateLimitDecision } from '../cache.port';
import { describeCacheStoreContract } from '../testing/cache-store.contract';
import { RedisConnectError, connectRedis } from './connect-redis';
import { RedisCacheStore } from './redis-cache-store';

// A fresh prefix per run keeps concurrent runs apart; `after` deletes everything under it.
const prefix = `keyhaven-test:${randomUUID()}:`;
const openedStores: RedisCacheStore[] = [];
const openedClients: Redis[] = [];
let opening: Promise<{ stores: RedisCacheStore[]; clients: Redis[] }> | undefined;

/** Three connections (so races cross connections) plus one admin client for inspection and cleanup. */
function openAll(): Promise<{ stores: RedisCacheStore[]; clients: Redis[] }> {
  opening ??= (async () => {
    for (let i = 0; i < 4; i++) openedClients.push(await connectRedis(serviceUrls.redis()));
    openedStores.push(...openedClients.slice(0, 3).map((c) => new RedisCacheStore(c, { keyPrefix: prefix })));
    return { stores: openedStores, clients: openedClients };
  })();
  return opening;
}

after(async () => {
  const admin = openedClients.at(3);
  if (admin) {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await admin.quit();
  }
  await Promise.all(openedStores.map((s) => s.close()));
});

describeCacheStoreContract('RedisCacheStore', {
  async open(t) {
    if (!(await requireServices(t, 'redis'))) return null;
    return (await openAll()).stores;
  },
});

void describe('connectRedis', () => {
  void it('fails fast with a clear error when nothing listens', async () => {
    const { port, close } = await silentServer();
    await close(); // now a port that refuses connections
    const started = Date.now();
    await assert.rejects(connectRedis(`redis://:hunter2@127.0.0.1:${port}`), (err: unknown) => {
      assert.ok(err instanceof RedisConnectError);
      assert.match(err.message, new RegExp(`^cannot connect to Redis at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    });
    assert.ok(Date.now() - started < 2_000);
  });

  void it('times out when the server never answers', async () => {
    const server = await silentServer();
    try {
      const started = Date.now();
      await assert.rejects(
        connectRedis(`redis://127.0.0.1:${server.port}`, { connectTimeoutMs: 200 }),
        RedisConnectError,
      );
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await server.close();
    }
  });
});

void describe('RedisCacheStore on Redis', () => {
  void it('stores JSON under the configured prefix with a PX ttl', async (t) => {
    if (!(await requireServices(t, 'redis'))) return;
    const { stores, clients } = await openAll();
    const [store, admin] = [stores[0], clients[3]];
    assert.ok(store && admin);
    const key = `prefixed:${randomUUID()}`;
    await store.cache.set(key, { a: 1 }, 5_000);
    assert.equal(await admin.get(`${prefix}cache:${key}`), '{"a":1}');
    const pttl = await admin.pttl(`${prefix}cache:${key}`);
    assert.ok(pttl > 0 && pttl <= 5_000);
  });

  void it('survives a dropped connection by reconnecting', async (t) => {
    if (!(await requireServices(t, 'redis'))) return;
    const client = await connectRedis(serviceUrls.redis());
    const store = new RedisCacheStore(client, { keyPrefix: prefix });
    try {
      const admin = (await openAll()).clients[3];
      assert.ok(admin);
      const id = await client.client('ID');
      await admin.client('KILL', 'ID', String(id));
      const key = `blip:${randomUUID()}`;
      await store.cache.set(key, 'ok', 5_000);
      assert.equal(await store.cache.get(key), 'ok');
      await store.ping();
    } finally {
      await store.close();
      await store.close(); // idempotent
    }
  });

  void it('Redis down: every operation fails with CacheUnavailableError (a 503), promptly; back when Redis is', async () => {
    // A private redis-server: the machine's shared one is never stopped.
    const redis = await startPrivateRedis();
    const store = await RedisCacheStore.connect(redis.url, { keyPrefix: prefix });
    try {
      await store.cache.set('k', 1, 5_000);
      await redis.stop();
      const operations: [string, () => Promise<unknown>][] = [
        ['cache.get', () => store.cache.get('k')],
        ['cache.set', () => store.cache.set('k', 2, 5_000)],
        ['cache.setIfAbsent', () => store.cache.setIfAbsent('n', 1, 5_000)],
        ['cache.take', () => store.cache.take('k')],
        ['lock.tryAcquire', () => store.lock.tryAcquire('l', 5_000)],
        ['rateLimiter.hit', () => store.rateLimiter.hit('r', 3, 60_000)],
        ['rateLimiter.reset', () => store.rateLimiter.reset('r')],
      ];
      for (const [name, run] of operations) {
        await assert.rejects(run(), (err: unknown) => {
          assert.ok(err instanceof CacheUnavailableError, `${name}: ${String(err)}`);
          assert.equal(httpStatusOf(err.code), 503);
          assert.ok(isCacheUnavailable(err));
          return true;
        });
      }
      // A limiter's own argument errors stay what they are: only "Redis did not answer" becomes a 503.
      await assert.rejects(store.rateLimiter.hit('r', 0, 60_000), RangeError);
      await redis.start();
      let decision: RateLimitDecision | undefined;
      for (let i = 0; i < 50 && !decision; i++) {
        decision = await store.rateLimiter.hit('r', 3, 60_000).catch(async () => {
          await new Promise((r) => setTimeout(r, 200));
          return undefined;
        });
      }
      assert.equal(decision?.allowed, true, 'the client did not reconnect to the restarted Redis');
    } finally {
      await store.close();
      await redis.stop();
    }
  });

  void it('connect() builds a store that pings', async (t) => {
    if (!(await requireServices(t, 'redis'))) return;
    const store = await RedisCacheStore.connect(serviceUrls.redis(), { keyPrefix: prefix });
    try {
      await store.ping();
      assert.equal(store.keyPrefix, prefix);
    } finally {
      await store.close();
    }
  });
});
