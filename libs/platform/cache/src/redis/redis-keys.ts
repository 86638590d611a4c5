export const DEFAULT_REDIS_KEY_PREFIX = 'keyhaven:';

/** Separate namespaces so a cache key, a lock and a rate-limit bucket with the same name never collide. */
export interface RedisKeys {
  cache(key: string): string;
  lock(key: string): string;
  rateLimit(key: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    cache: (key) => `${prefix}cache:${key}`,
    lock: (key) => `${prefix}lock:${key}`,
    rateLimit: (key) => `${prefix}rl:${key}`,
  };
}
