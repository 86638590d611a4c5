import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, JobScheduler, type ScheduledJob } from '@keyhaven/db';
import { BillingLifecycle, type AfterCommit } from './billing-lifecycle';
import { BillingRepository } from './billing.repository';

const JOB = 'billing-grace';
const BATCH = 200;

/**
 * Disables organizations whose grace period is over (their data stays; a payment enables them again).
 * One instance per period runs it (the JobScheduler's advisory lock); each organization in its own short
 * transaction, re-checked under the row lock, so a payment arriving meanwhile wins. Safe to re-run.
 */
@Injectable()
export class GracePeriodJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('billing-grace');
  private job: ScheduledJob | undefined;

  constructor(
    private readonly db: Database,
    private readonly billing: BillingRepository,
    private readonly lifecycle: BillingLifecycle,
    private readonly scheduler: JobScheduler,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.BILLING !== 'stripe') return;
    this.job = this.scheduler.schedule({
      name: JOB,
      periodMs: this.config.BILLING_JOBS_INTERVAL_SECONDS * 1000,
      run: () => this.disableExpired(new Date()),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }

  /** Organizations disabled by this run (0 when another instance holds the job's lock). */
  async runOnce(now = new Date()): Promise<number> {
    return (await this.scheduler.exclusively(JOB, () => this.disableExpired(now))) ?? 0;
  }

  private async disableExpired(now: Date): Promise<number> {
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
  }
}
