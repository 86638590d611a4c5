import type { Redis } from 'ioredis';
import type { Cache } from '../cache.port';
import { fromJson, toJson, toTtlMs } from '../internal/validate';
import type { RedisKeys } from './redis-keys';

/** JSON values with PX expiry; setIfAbsent is SET NX and take is GETDEL (Redis ≥ 6.2), both atomic server-side. */
export class RedisCache implements Cache {
  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async get<T>(key: string): Promise<T | undefined> {
    return fromJson<T>(await this.client.get(this.keys.cache(key)));
  }

  async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    await this.client.set(this.keys.cache(key), toJson(value), 'PX', toTtlMs(ttlMs));
  }

  async delete(key: string): Promise<void> {
    await this.client.del(this.keys.cache(key));
  }

  async setIfAbsent<T>(key: string, value: T, ttlMs: number): Promise<boolean> {
    const reply = await this.client.set(this.keys.cache(key), toJson(value), 'PX', toTtlMs(ttlMs), 'NX');
    return reply === 'OK';
  }

  async take<T>(key: string): Promise<T | undefined> {
    return fromJson<T>(await this.client.getdel(this.keys.cache(key)));
  }
}
