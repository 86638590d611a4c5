import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateLimitDecision, RateLimiter } from '../cache.port';
import { assertRateLimit } from '../internal/validate';
import { LuaScript } from './lua-script';
import { reachable } from './reachable';
import type { RedisKeys } from './redis-keys';

/**
 * Sliding-window log in a sorted set (score = hit time in ms), evaluated atomically in one script so
 * concurrent hits from any number of instances never exceed the limit. Time comes from the Redis
 * server, so instance clock skew doesn't matter. Same semantics as MemoryRateLimiter.
 */
const hitScript = new LuaScript(
  `local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - count - 1, 0}
end
local blocker = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
local retry = tonumber(blocker[2]) + window - now
if retry < 1 then retry = 1 end
return {0, 0, retry}`,
  1,
);

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    assertRateLimit(limit, windowMs);
    // The member only needs to be unique; several hits can share a millisecond score.
    const reply = await reachable(() =>
      hitScript.run(this.client, [this.keys.rateLimit(key)], [limit, windowMs, randomUUID()]),
    );
    if (!Array.isArray(reply) || reply.length !== 3 || !reply.every((n) => typeof n === 'number')) {
      throw new Error(`unexpected rate limit script reply: ${JSON.stringify(reply)}`);
    }
    const [allowed, remaining, retryAfterMs] = reply as [number, number, number];
    return { allowed: allowed === 1, remaining, retryAfterMs };
  }

  async reset(key: string): Promise<void> {
    await reachable(() => this.client.del(this.keys.rateLimit(key)));
  }
}
