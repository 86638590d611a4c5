/** Key/value cache with TTL. Values are JSON-serialisable. */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Set only when absent; true when this call set it (one-time tokens, dedupe). */
  setIfAbsent<T>(key: string, value: T, ttlMs: number): Promise<boolean>;
  /** Atomically read and remove (one-time tokens). */
  take<T>(key: string): Promise<T | undefined>;
}

export interface LockHandle {
  /** Releases only if this handle still owns the lock. */
  release(): Promise<void>;
}

/** Distributed mutual exclusion with a lease: a crashed holder's lock expires after ttlMs. */
export interface Lock {
  tryAcquire(key: string, ttlMs: number): Promise<LockHandle | null>;
  /** Waits up to waitMs for the lock, runs fn, always releases. Throws LockTimeoutError when it cannot get it. */
  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>, waitMs?: number): Promise<T>;
}

export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly remaining: number;
  /** Milliseconds until the next attempt is allowed (0 when allowed). */
  readonly retryAfterMs: number;
}

/** Fixed-window-or-better limiter: at most `limit` hits per `windowMs` per key. */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
  reset(key: string): Promise<void>;
}

export interface CacheStore {
  readonly cache: Cache;
  readonly lock: Lock;
  readonly rateLimiter: RateLimiter;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class LockTimeoutError extends Error {
  constructor(key: string) {
    super(`timed out waiting for lock ${key}`);
    this.name = 'LockTimeoutError';
  }
}

export const CACHE_STORE = Symbol('CACHE_STORE');
