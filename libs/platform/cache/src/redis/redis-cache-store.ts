import type { Redis } from 'ioredis';
import type { CacheStore } from '../cache.port';
import { type CacheLogger, silentCacheLogger } from '../logger';
import { type ConnectRedisOptions, connectRedis } from './connect-redis';
import { RedisCache } from './redis-cache';
import { DEFAULT_REDIS_KEY_PREFIX, redisKeys } from './redis-keys';
import { RedisLock } from './redis-lock';
import { RedisRateLimiter } from './redis-rate-limiter';

export interface RedisCacheStoreOptions {
  /** Prepended to every key this store touches. Default `keyhaven:`. */
  readonly keyPrefix?: string;
  readonly logger?: CacheLogger;
}

/** CacheStore on one ioredis client, which it owns: close() quits it. */
export class RedisCacheStore implements CacheStore {
  readonly cache: RedisCache;
  readonly lock: RedisLock;
  readonly rateLimiter: RedisRateLimiter;
  readonly keyPrefix: string;

  constructor(
    private readonly client: Redis,
    options: RedisCacheStoreOptions = {},
  ) {
    this.keyPrefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    const keys = redisKeys(this.keyPrefix);
    this.cache = new RedisCache(client, keys);
    this.lock = new RedisLock(client, keys, options.logger ?? silentCacheLogger);
    this.rateLimiter = new RedisRateLimiter(client, keys);
  }

  /** connectRedis (fails fast when Redis is down) + a store owning that client. */
  static async connect(
    url: string,
    options: RedisCacheStoreOptions & ConnectRedisOptions = {},
  ): Promise<RedisCacheStore> {
    return new RedisCacheStore(await connectRedis(url, options), options);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    if (this.client.status === 'end') return;
    if (this.client.status !== 'ready') {
      // QUIT would wait for a reconnect that may never come.
      this.client.disconnect();
      return;
    }
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
