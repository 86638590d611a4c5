import { Inject, Injectable } from '@nestjs/common';
import { badRequest } from '@keyhaven/contracts';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { CACHE_STORE, LockTimeoutError, isCacheUnavailable, type CacheStore } from '@keyhaven/cache';
import { BLOB_STORE, type BlobStore } from '@keyhaven/storage';
import { GuardedFetcher } from '@keyhaven/outbound';
import { FALLBACK_ICON } from './fallback-icon';
import { IconCache, type CachedIcon } from './icon-cache';
import { normalizeIconDomain, urlHost } from './icon-domain';
import { IconFinder } from './find/icon-finder';

export interface IconAnswer {
  readonly png: Buffer;
  /** False when this is the fallback icon. */
  readonly found: boolean;
  /** How long browsers may keep it. */
  readonly maxAgeSeconds: number;
}

/** The fallback is cached by browsers for at most this long, so a site that gains an icon shows it soon. */
const FALLBACK_MAX_AGE_SECONDS = 24 * 3600;
/** When another instance holds the lookup too long, or the client is over its lookup limit, the fallback is served for this long only. */
const BUSY_MAX_AGE_SECONDS = 60;

/**
 * Icons by site: the cache (Redis, then the BlobStore) first; on a miss one lookup per site at a
 * time, coalesced within this instance (one promise per host) and across instances (a short lease
 * lock in the cache port, re-reading the cache once it is ours). Lookups are fully async, bounded by
 * ICONS_FETCH_TIMEOUT_MS, so a slow site never holds up other requests.
 */
@Injectable()
export class IconsService {
  private readonly inflight = new Map<string, Promise<CachedIcon | null>>();
  private readonly cache: IconCache;
  private readonly finder: IconFinder;

  constructor(
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    @Inject(BLOB_STORE) blobs: BlobStore,
    @Inject(CACHE_STORE) private readonly store: CacheStore,
    @Inject(GuardedFetcher) fetcher: GuardedFetcher,
  ) {
    this.cache = new IconCache(blobs, store.cache, {
      hitMs: config.ICONS_CACHE_TTL_SECONDS * 1000,
      missMs: config.ICONS_MISS_TTL_SECONDS * 1000,
    });
    this.finder = new IconFinder(fetcher, {
      timeoutMs: config.ICONS_FETCH_TIMEOUT_MS,
      maxImageBytes: config.ICONS_MAX_BYTES,
    });
  }

  /** @param clientIp who asks: lookups (not cache hits) are limited per client IP. */
  async icon(rawDomain: string, clientIp: string): Promise<IconAnswer> {
    const host = normalizeIconDomain(rawDomain, this.config.ICONS_ALLOW_IP_LITERALS);
    if (host === null) throw badRequest('Invalid domain.');
    const entry = (await this.cache.get(host)) ?? (await this.limitedLookup(host, clientIp));
    if (!entry) return { png: FALLBACK_ICON, found: false, maxAgeSeconds: BUSY_MAX_AGE_SECONDS };
    const remaining = Math.max(0, Math.floor((entry.expiresAt - Date.now()) / 1000));
    if (entry.png) return { png: entry.png, found: true, maxAgeSeconds: remaining };
    return { png: FALLBACK_ICON, found: false, maxAgeSeconds: Math.min(remaining, FALLBACK_MAX_AGE_SECONDS) };
  }

  /**
   * An anonymous route that makes the server fetch from other hosts: one client may start only so
   * many lookups a minute (joining one already running is free); beyond, it gets the fallback for a
   * minute rather than an error, since the clients show icons as plain images.
   */
  private async limitedLookup(host: string, clientIp: string): Promise<CachedIcon | null> {
    if (!this.inflight.has(host)) {
      const limit = this.config.ICONS_LOOKUPS_PER_MINUTE_PER_IP;
      // Fails closed towards other hosts: with no shared limit (Redis down) nothing is fetched; cached icons
      // are still served from the blob store and everything else gets the fallback.
      const decision = await this.store.rateLimiter
        .hit(`icons:lookups:${clientIp}`, limit, 60_000)
        .catch((error: unknown) => {
          if (isCacheUnavailable(error)) return null;
          throw error;
        });
      if (!decision?.allowed) return null;
    }
    return this.lookupOnce(host);
  }

  private lookupOnce(host: string): Promise<CachedIcon | null> {
    let running = this.inflight.get(host);
    if (!running) {
      running = this.lookupLocked(host).finally(() => this.inflight.delete(host));
      this.inflight.set(host, running);
    }
    return running;
  }

  private async lookupLocked(host: string): Promise<CachedIcon | null> {
    const budget = this.config.ICONS_FETCH_TIMEOUT_MS;
    try {
      return await this.store.lock.withLock(
        `icons:lookup:${host}`,
        budget + 5000,
        async () => (await this.cache.get(host)) ?? (await this.cache.put(host, await this.finder.find(urlHost(host)))),
        budget + 2000,
      );
    } catch (err) {
      if (err instanceof LockTimeoutError || isCacheUnavailable(err)) return null;
      throw err;
    }
  }
}
