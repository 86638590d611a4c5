import type { Cache } from '../cache.port';
import { promised } from '../internal/promised';
import { fromJson, toJson, toTtlMs } from '../internal/validate';

interface Entry {
  readonly json: string;
  readonly expiresAt: number;
}

/** TTL map; expired entries are dropped lazily on access and by the owning store's sweep. */
export class MemoryCache implements Cache {
  private readonly entries = new Map<string, Entry>();

  get<T>(key: string): Promise<T | undefined> {
    return promised(() => fromJson<T>(this.live(key)?.json));
  }

  set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    return promised(() => {
      this.entries.set(key, this.entry(value, ttlMs));
    });
  }

  delete(key: string): Promise<void> {
    return promised(() => {
      this.entries.delete(key);
    });
  }

  setIfAbsent<T>(key: string, value: T, ttlMs: number): Promise<boolean> {
    return promised(() => {
      const entry = this.entry(value, ttlMs);
      if (this.live(key)) return false;
      this.entries.set(key, entry);
      return true;
    });
  }

  take<T>(key: string): Promise<T | undefined> {
    return promised(() => {
      const entry = this.live(key);
      this.entries.delete(key);
      return fromJson<T>(entry?.json);
    });
  }

  /** Keys held right now, including expired ones the sweep hasn't reached yet. */
  get size(): number {
    return this.entries.size;
  }

  sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private entry(value: unknown, ttlMs: number): Entry {
    return { json: toJson(value), expiresAt: Date.now() + toTtlMs(ttlMs) };
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
