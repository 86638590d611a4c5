import { Inject, Injectable } from '@nestjs/common';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';

/** The window failed credential checks are counted in. */
export const FAILURE_WINDOW_MS = 15 * 60 * 1000;

/** Either the keys the attempt counted against (cleared on success), or how long until a retry may pass. */
export type AttemptDecision =
  { readonly allowed: true; readonly keys: string[] } | { readonly allowed: false; readonly retryAfterSeconds: number };

/**
 * The per-account failed-attempt limiter behind every check of a secret: logins, two-step codes,
 * API keys, and the master-password re-checks of signed-in users (`LOGIN_FAILURES_PER_ACCOUNT`
 * per 15 minutes). An attempt counts before the secret is checked, so parallel guesses all count;
 * a success clears the keys. Counters live in the shared limiter (Redis or memory), never in one
 * instance.
 */
@Injectable()
export class AttemptLimiter {
  constructor(
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /**
   * With an address, keys pair the account with it (so a stranger elsewhere cannot lock the owner
   * out) and a looser account-wide key still caps guessing spread over many addresses.
   */
  async attempt(account: string, ip: string | null): Promise<AttemptDecision> {
    const perAccount = this.config.LOGIN_FAILURES_PER_ACCOUNT;
    const keys: [string, number][] = ip
      ? [
          [`attempts:${account}:${ip}`, perAccount],
          [`attempts:${account}`, perAccount * 10],
        ]
      : [[`attempts:${account}`, perAccount]];
    for (const [key, limit] of keys) {
      const decision = await this.cacheStore.rateLimiter.hit(key, limit, FAILURE_WINDOW_MS);
      if (!decision.allowed)
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) };
    }
    return { allowed: true, keys: keys.map(([key]) => key) };
  }

  async succeeded(keys: string[]): Promise<void> {
    for (const key of keys) await this.cacheStore.rateLimiter.reset(key);
  }
}
