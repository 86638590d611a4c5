import { KeyhavenError } from '@keyhaven/contracts';

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

/** Retry-After of a refusal while the store is down: about one reconnect of the client plus a margin. */
const CACHE_RETRY_AFTER_SECONDS = 5;

/**
 * The shared store (Redis) did not answer: it is down, restarting or unreachable. A 503 with Retry-After
 * through the global error filter (`unavailable`), so by default every use of the store fails closed;
 * callers for which a missing limit or cache entry is harmless catch it (see `isCacheUnavailable`) and
 * carry on without. The message is the client's; the cause stays in the log.
 */
export class CacheUnavailableError extends KeyhavenError {
  constructor(cause?: unknown) {
    super('unavailable', 'The service is temporarily unavailable. Try again shortly.', null, CACHE_RETRY_AFTER_SECONDS);
    this.name = 'CacheUnavailableError';
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, enumerable: false });
  }
}

export function isCacheUnavailable(error: unknown): error is CacheUnavailableError {
  return error instanceof CacheUnavailableError;
}
