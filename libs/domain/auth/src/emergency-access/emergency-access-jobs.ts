import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database } from '@keyhaven/db';
import { emergencyMail } from './emergency-access-mail';
import { EmergencyAccessRepository } from './emergency-access.repository';
import { EmergencyAccessService } from './emergency-access.service';

const LOCK_KEY = 'job:emergency-access';
const DAY_MS = 24 * 3600 * 1000;

/**
 * The emergency-access jobs (Bitwarden runs both hourly): approve recoveries whose wait is over and
 * remind grantors a day before. Every instance of the api service ticks; each round runs under the
 * Lock port, and each grant is claimed by an UPDATE … RETURNING, so a grant is approved — and its
 * mails sent — once, however many instances there are and even if a lease expires mid-round.
 * Mounted by the api service only.
 */
@Injectable()
export class EmergencyAccessJobs implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('emergency-access-jobs');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly grants: EmergencyAccessRepository,
    private readonly service: EmergencyAccessService,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  onApplicationBootstrap(): void {
    const intervalMs = this.config.EMERGENCY_ACCESS_JOBS_INTERVAL_SECONDS * 1000;
    this.timer = setInterval(() => {
      this.running = this.tick();
    }, intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One round if no other instance is running one; false when another held the lock. */
  async tick(now = new Date()): Promise<boolean> {
    try {
      const lease = Math.max(60_000, this.config.EMERGENCY_ACCESS_JOBS_INTERVAL_SECONDS * 1000);
      const handle = await this.cacheStore.lock.tryAcquire(LOCK_KEY, lease);
      if (!handle) return false;
      try {
        await this.runOnce(now);
      } finally {
        await handle.release();
      }
      return true;
    } catch (error) {
      this.logger.error(`emergency access jobs failed: ${error instanceof Error ? error.message : 'unknown error'}`);
      return false;
    }
  }

  /** Approves what is due, then reminds; safe to re-run (claimed rows are no longer due). */
  async runOnce(now: Date): Promise<{ approved: number; reminded: number }> {
    const approved = await this.db.transaction(() => this.grants.approveExpired(now));
    const reminded = await this.db.transaction(() => this.grants.markDueReminders(now));
    const contacts = await this.grants.contacts([
      ...new Set([...approved, ...reminded].flatMap((g) => (g.granteeId ? [g.grantorId, g.granteeId] : [g.grantorId]))),
    ]);
    for (const grant of approved) {
      const grantor = contacts.get(grant.grantorId);
      const grantee = grant.granteeId ? contacts.get(grant.granteeId) : undefined;
      if (!grantor || !grantee) continue;
      await this.service.mail(emergencyMail.approved(grantee.email, grantor));
      await this.service.mail(emergencyMail.timedOut(grantor.email, grantee.email, grant.type));
    }
    for (const grant of reminded) {
      const grantor = contacts.get(grant.grantorId);
      const grantee = grant.granteeId ? contacts.get(grant.granteeId) : undefined;
      if (!grantor || !grantee || !grant.recoveryInitiatedDate) continue;
      const due = grant.recoveryInitiatedDate.getTime() + grant.waitTimeDays * DAY_MS;
      const daysLeft = Math.max(1, Math.ceil((due - now.getTime()) / DAY_MS));
      await this.service.mail(emergencyMail.reminder(grantor.email, grantee.email, grant.type, daysLeft));
    }
    if (approved.length + reminded.length > 0)
      this.logger.log(`emergency access: ${approved.length} approved, ${reminded.length} reminded`);
    return { approved: approved.length, reminded: reminded.length };
  }
}
