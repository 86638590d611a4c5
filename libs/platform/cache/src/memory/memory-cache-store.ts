import type { CacheStore } from '../cache.port';
import { type CacheLogger, silentCacheLogger } from '../logger';
import { MemoryCache } from './memory-cache';
import { MemoryLock } from './memory-lock';
import { MemoryRateLimiter } from './memory-rate-limiter';

export interface MemoryCacheStoreOptions {
  /** How often expired entries, leases and rate-limit logs are purged. Default 60 s. */
  readonly sweepIntervalMs?: number;
  readonly logger?: CacheLogger;
}

/** Single-process CacheStore for development and tests; state is lost on restart and not shared. */
export class MemoryCacheStore implements CacheStore {
  readonly cache: MemoryCache = new MemoryCache();
  readonly lock: MemoryLock;
  readonly rateLimiter: MemoryRateLimiter = new MemoryRateLimiter();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryCacheStoreOptions = {}) {
    this.lock = new MemoryLock(options.logger ?? silentCacheLogger);
    // Lazy expiry alone would keep never-read keys forever; unref so the timer never holds the process open.
    this.sweepTimer = setInterval(() => {
      this.sweep();
    }, options.sweepIntervalMs ?? 60_000);
    this.sweepTimer.unref();
  }

  /** Purges everything expired now; the timer calls this periodically. */
  sweep(): void {
    const now = Date.now();
    this.cache.sweep(now);
    this.lock.sweep(now);
    this.rateLimiter.sweep(now);
  }

  ping(): Promise<void> {
    return this.sweepTimer ? Promise.resolve() : Promise.reject(new Error('memory cache store is closed'));
  }

  close(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.cache.clear();
    this.lock.clear();
    this.rateLimiter.clear();
    return Promise.resolve();
  }
}
