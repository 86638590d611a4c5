import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { EventRepository } from './event.repository';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Instances look hourly; the first to take the day's lease runs the cleanup, the others skip. */
const TICK_MS = 60 * 60 * 1000;
const LOCK_KEY = 'job:events-retention';
/** Held, not released: the lease itself says "done today" to every instance until it runs out. */
const LEASE_MS = DAY_MS - 5 * 60 * 1000;
const BATCH = 5000;

/**
 * EVENTS_DAYS_RETAIN: once a day, one instance (the Lock port's lease) deletes events older than
 * that many days, in batches so no statement holds the table long. Safe to re-run; off when unset.
 */
@Injectable()
export class EventRetentionJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('events-retention');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly events: EventRepository,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.EVENTS_DAYS_RETAIN === undefined) return;
    const tick = (): void => {
      this.running ??= this.runDaily()
        .catch((error: unknown) => {
          this.logger.warn(`event retention failed: ${error instanceof Error ? error.message : String(error)}`);
        })
        .finally(() => {
          this.running = undefined;
        });
    };
    setImmediate(tick);
    this.timer = setInterval(tick, TICK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** The day's run if no instance has done it within the last day; the events deleted. */
  async runDaily(now = new Date()): Promise<number> {
    const lease = await this.cacheStore.lock.tryAcquire(LOCK_KEY, LEASE_MS);
    if (!lease) return 0;
    return this.purge(now);
  }

  /** Deletes every event older than the retention period (as of `now`). */
  async purge(now = new Date()): Promise<number> {
    const days = this.config.EVENTS_DAYS_RETAIN;
    if (days === undefined) return 0;
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    let total = 0;
    for (;;) {
      const deleted = await this.events.deleteOlderThan(cutoff, BATCH);
      total += deleted;
      if (deleted < BATCH) break;
    }
    if (total > 0) this.logger.log(`deleted ${total} events older than ${days} days`);
    return total;
  }
}
