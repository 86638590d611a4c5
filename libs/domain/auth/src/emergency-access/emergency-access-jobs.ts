import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, JobScheduler, type ScheduledJob } from '@keyhaven/db';
import { emergencyMail } from './emergency-access-mail';
import { EmergencyAccessRepository } from './emergency-access.repository';
import { EmergencyAccessService } from './emergency-access.service';

const JOB = 'emergency-access';
const DAY_MS = 24 * 3600 * 1000;

/**
 * The emergency-access jobs (Bitwarden runs both hourly): approve recoveries whose wait is over and
 * remind grantors a day before. One instance per period runs a round (the JobScheduler's advisory
 * lock), and each grant is claimed by an UPDATE … RETURNING, so a grant is approved — and its mails
 * sent — once, however many instances there are and even if a round is cut short and run again.
 * Mounted by the api service only.
 */
@Injectable()
export class EmergencyAccessJobs implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('emergency-access-jobs');
  private job: ScheduledJob | undefined;

  constructor(
    private readonly db: Database,
    private readonly grants: EmergencyAccessRepository,
    private readonly service: EmergencyAccessService,
    private readonly scheduler: JobScheduler,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.job = this.scheduler.schedule({
      name: JOB,
      periodMs: this.config.EMERGENCY_ACCESS_JOBS_INTERVAL_SECONDS * 1000,
      run: () => this.runOnce(new Date()),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }

  /** One round if no other instance is running one; false when another held the lock or the round failed. */
  async tick(now = new Date()): Promise<boolean> {
    try {
      return (await this.scheduler.exclusively(JOB, () => this.runOnce(now))) !== null;
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
