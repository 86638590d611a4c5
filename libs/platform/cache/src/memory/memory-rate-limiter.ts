import type { RateLimitDecision, RateLimiter } from '../cache.port';
import { promised } from '../internal/promised';
import { assertRateLimit } from '../internal/validate';

interface HitLog {
  /** Times of allowed hits, oldest first; never longer than the largest limit used for the key. */
  readonly times: number[];
  windowMs: number;
}

/**
 * Sliding-window log: a hit is allowed when fewer than `limit` allowed hits happened in the last
 * `windowMs` (a hit at t stops counting at exactly t + windowMs). Unlike a fixed window there is
 * no double burst across a boundary. Denied hits are not recorded, so hammering doesn't extend a ban.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly logs = new Map<string, HitLog>();

  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    return promised(() => this.hitNow(key, limit, windowMs));
  }

  reset(key: string): Promise<void> {
    return promised(() => {
      this.logs.delete(key);
    });
  }

  /** Keys held right now, including expired ones the sweep hasn't reached yet. */
  get size(): number {
    return this.logs.size;
  }

  sweep(now: number): void {
    for (const [key, log] of this.logs) {
      const newest = log.times.at(-1);
      if (newest === undefined || newest <= now - log.windowMs) this.logs.delete(key);
    }
  }

  clear(): void {
    this.logs.clear();
  }

  private hitNow(key: string, limit: number, windowMs: number): RateLimitDecision {
    assertRateLimit(limit, windowMs);
    const now = Date.now();
    let log = this.logs.get(key);
    if (!log) {
      log = { times: [], windowMs };
      this.logs.set(key, log);
    }
    log.windowMs = windowMs;
    const times = log.times;
    let oldest = times[0];
    while (oldest !== undefined && oldest <= now - windowMs) {
      times.shift();
      oldest = times[0];
    }
    if (times.length < limit) {
      times.push(now);
      return { allowed: true, remaining: limit - times.length, retryAfterMs: 0 };
    }
    // The (count - limit + 1)th oldest hit must age out before one more fits.
    const blocking = times.at(-limit);
    // Unreachable: limit >= 1 (assertRateLimit) and times.length >= limit here.
    if (blocking === undefined) throw new Error('rate limiter: hit log shorter than its limit');
    const unblockAt = blocking + windowMs;
    return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, unblockAt - now) };
  }
}
