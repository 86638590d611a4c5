import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Lock, LockHandle } from '../cache.port';
import type { CacheLogger } from '../logger';
import { toTtlMs } from '../internal/validate';
import { withLockPolling } from '../internal/with-lock';
import { LuaScript } from './lua-script';
import { reachable } from './reachable';
import type { RedisKeys } from './redis-keys';

/** Compare-and-delete: a holder whose lease expired (and was re-taken) must not release the new owner's lock. */
const releaseScript = new LuaScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  1,
);

/** Single-instance Redis lock (SET NX PX with a random owner token), not Redlock. */
export class RedisLock implements Lock {
  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
    private readonly logger: CacheLogger,
  ) {}

  async tryAcquire(key: string, ttlMs: number): Promise<LockHandle | null> {
    const redisKey = this.keys.lock(key);
    const token = randomUUID();
    const ttl = toTtlMs(ttlMs);
    const reply = await reachable(() => this.client.set(redisKey, token, 'PX', ttl, 'NX'));
    if (reply !== 'OK') return null;
    return {
      release: async () => {
        await reachable(() => releaseScript.run(this.client, [redisKey], [token]));
      },
    };
  }

  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>, waitMs?: number): Promise<T> {
    return withLockPolling((k, ttl) => this.tryAcquire(k, ttl), this.logger, key, ttlMs, fn, waitMs);
  }
}
