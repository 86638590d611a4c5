import { setTimeout as sleep } from 'node:timers/promises';
import { type Lock, LockTimeoutError } from '../cache.port';
import type { CacheLogger } from '../logger';

export const DEFAULT_LOCK_WAIT_MS = 5_000;
const MIN_POLL_MS = 5;
const MAX_POLL_MS = 50;

/**
 * Shared `withLock`: poll `tryAcquire` with capped exponential backoff plus jitter (so waiters on
 * other instances don't retry in lockstep), run fn, always release.
 */
export async function withLockPolling<T>(
  tryAcquire: Lock['tryAcquire'],
  logger: CacheLogger,
  key: string,
  ttlMs: number,
  fn: () => Promise<T>,
  waitMs: number = DEFAULT_LOCK_WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  let pollMs = MIN_POLL_MS;
  for (;;) {
    const handle = await tryAcquire(key, ttlMs);
    if (handle) {
      const startedAt = Date.now();
      try {
        return await fn();
      } finally {
        const heldMs = Date.now() - startedAt;
        if (heldMs > ttlMs) logger.warn({ key, ttlMs, heldMs }, 'lock lease expired before the critical section ended');
        // A failed release must not mask fn's outcome: the lease expires on its own.
        await handle.release().catch((err: unknown) => {
          logger.warn({ key, err }, 'lock release failed; the lease will expire');
        });
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new LockTimeoutError(key);
    await sleep(Math.min(left, pollMs + Math.random() * pollMs));
    pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
  }
}
