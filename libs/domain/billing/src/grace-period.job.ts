import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database } from '@keyhaven/db';
import { CACHE_STORE, PeriodicJob, runExclusively, type CacheStore } from '@keyhaven/cache';
import { BillingLifecycle, type AfterCommit } from './billing-lifecycle';
import { BillingRepository } from './billing.repository';

const LOCK_KEY = 'job:billing-grace';
const LOCK_TTL_MS = 5 * 60 * 1000;
const BATCH = 200;

/**
 * Disables organizations whose grace period is over (their data stays; a payment enables them again).
 * Every instance ticks, the one holding the shared lock runs; each organization in its own short
 * transaction, re-checked under the row lock, so a payment arriving meanwhile wins. Safe to re-run.
 */
@Injectable()
export class GracePeriodJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('billing-grace');
  private readonly job = new PeriodicJob(
    () => this.runOnce(),
    (error: unknown) => {
      this.logger.warn(`grace period check failed: ${error instanceof Error ? error.message : String(error)}`);
    },
  );

  constructor(
    private readonly db: Database,
    private readonly billing: BillingRepository,
    private readonly lifecycle: BillingLifecycle,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.BILLING === 'stripe') this.job.start(this.config.BILLING_JOBS_INTERVAL_SECONDS * 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job.stop();
  }

  /** Organizations disabled by this run (0 when another instance holds the lock). */
  async runOnce(now = new Date()): Promise<number> {
    const done = await runExclusively(this.cacheStore.lock, LOCK_KEY, LOCK_TTL_MS, async () => {
      let total = 0;
      for (;;) {
        const due = await this.billing.graceExpired(now, BATCH);
        const results: AfterCommit[] = [];
        for (const organizationId of due) {
          results.push(await this.db.transaction(() => this.lifecycle.expireGrace(organizationId, now)));
        }
        await this.lifecycle.afterCommit(results);
        total += results.filter((r) => r.standingChanged).length;
        if (due.length < BATCH) break;
      }
      return total;
    });
    return done ?? 0;
  }
}
