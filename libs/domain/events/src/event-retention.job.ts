import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { JobScheduler, type ScheduledJob } from '@keyhaven/db';
import { EventRepository } from './event.repository';

const DAY_MS = 24 * 60 * 60 * 1000;
const LOCK_KEY = 'job:events-retention';
/** Held, not released: the lease itself says "done today" to every instance until it runs out. */
const LEASE_MS = DAY_MS - 5 * 60 * 1000;
const BATCH = 5000;

/**
 * EVENTS_DAYS_RETAIN: once a day (EVENTS_RETENTION_INTERVAL_SECONDS), one instance — the JobScheduler's
 * advisory lock and its record of the day's run — deletes events older than that many days, in batches
 * so no statement holds the table long. Safe to re-run; not scheduled at all when unset.
 */
@Injectable()
export class EventRetentionJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('events-retention');
  private job: ScheduledJob | undefined;

  constructor(
    private readonly events: EventRepository,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    private readonly scheduler: JobScheduler,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.EVENTS_DAYS_RETAIN === undefined) return;
    this.job = this.scheduler.schedule({
      name: 'events-retention',
      periodMs: this.config.EVENTS_RETENTION_INTERVAL_SECONDS * 1000,
      run: () => this.purge(new Date()),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }

  /**
   * Outside the scheduler (operator tools, tests): the day's run if no instance has done one within the
   * last day by the shared cache's lease; the events deleted.
   */
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
