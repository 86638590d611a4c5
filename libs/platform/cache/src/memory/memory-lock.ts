import { randomUUID } from 'node:crypto';
import type { Lock, LockHandle } from '../cache.port';
import type { CacheLogger } from '../logger';
import { promised } from '../internal/promised';
import { toTtlMs } from '../internal/validate';
import { withLockPolling } from '../internal/with-lock';

interface Lease {
  readonly token: string;
  readonly expiresAt: number;
}

/** Leases keyed by name; a handle releases only while its token is still the current lease. */
export class MemoryLock implements Lock {
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly logger: CacheLogger) {}

  tryAcquire(key: string, ttlMs: number): Promise<LockHandle | null> {
    return promised(() => {
      const now = Date.now();
      const expiresAt = now + toTtlMs(ttlMs);
      const current = this.leases.get(key);
      if (current && current.expiresAt > now) return null;
      const token = randomUUID();
      this.leases.set(key, { token, expiresAt });
      return {
        release: () =>
          promised(() => {
            if (this.leases.get(key)?.token === token) this.leases.delete(key);
          }),
      };
    });
  }

  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>, waitMs?: number): Promise<T> {
    return withLockPolling((k, ttl) => this.tryAcquire(k, ttl), this.logger, key, ttlMs, fn, waitMs);
  }

  /** Keys held right now, including expired ones the sweep hasn't reached yet. */
  get size(): number {
    return this.leases.size;
  }

  sweep(now: number): void {
    for (const [key, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(key);
  }

  clear(): void {
    this.leases.clear();
  }
}
