import { Inject, Injectable } from '@nestjs/common';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { rateLimited } from '@keyhaven/contracts';

const WINDOW_MS = 5 * 60_000;

/**
 * Failed admin-token attempts per client IP (RateLimiter port, shared by every instance). Past the
 * limit the address is blocked until the window moves, even for the right token, so guessing stays
 * at a handful of tries per 5 minutes.
 */
@Injectable()
export class AdminAttempts {
  private readonly limit: number;

  constructor(
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) config: KeyhavenConfig,
  ) {
    this.limit = config.ADMIN_LOGIN_ATTEMPTS;
  }

  /** Throws 429 while the address is blocked. */
  async assertAllowed(ip: string): Promise<void> {
    const until = await this.cacheStore.cache.get<number>(`admin-blocked:${ip}`);
    if (until !== undefined && until > Date.now()) throw rateLimited(Math.ceil((until - Date.now()) / 1000));
  }

  /** Counts a failure; the one past the limit blocks the address and answers 429 instead of 401. */
  async failed(ip: string): Promise<void> {
    const decision = await this.cacheStore.rateLimiter.hit(`admin-login:${ip}`, this.limit, WINDOW_MS);
    if (decision.allowed) return;
    const retryAfterMs = Math.max(1000, decision.retryAfterMs);
    await this.cacheStore.cache.set(`admin-blocked:${ip}`, Date.now() + retryAfterMs, retryAfterMs);
    throw rateLimited(Math.ceil(retryAfterMs / 1000));
  }
}
