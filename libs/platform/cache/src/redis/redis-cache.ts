import type { Redis } from 'ioredis';
import type { Cache } from '../cache.port';
import { fromJson, toJson, toTtlMs } from '../internal/validate';
import type { RedisKeys } from './redis-keys';
import { reachable } from './reachable';

/** JSON values with PX expiry; setIfAbsent is SET NX and take is GETDEL (Redis ≥ 6.2), both atomic server-side. */
export class RedisCache implements Cache {
  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async get<T>(key: string): Promise<T | undefined> {
    return fromJson<T>(await reachable(() => this.client.get(this.keys.cache(key))));
  }

  async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    const json = toJson(value);
    const ttl = toTtlMs(ttlMs);
    await reachable(() => this.client.set(this.keys.cache(key), json, 'PX', ttl));
  }

  async delete(key: string): Promise<void> {
    await reachable(() => this.client.del(this.keys.cache(key)));
  }

  async setIfAbsent<T>(key: string, value: T, ttlMs: number): Promise<boolean> {
    const json = toJson(value);
    const ttl = toTtlMs(ttlMs);
    const reply = await reachable(() => this.client.set(this.keys.cache(key), json, 'PX', ttl, 'NX'));
    return reply === 'OK';
  }

  async take<T>(key: string): Promise<T | undefined> {
    return fromJson<T>(await reachable(() => this.client.getdel(this.keys.cache(key))));
  }
}
