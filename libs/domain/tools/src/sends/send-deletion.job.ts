import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, JobScheduler, type ScheduledJob } from '@keyhaven/db';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { SendBlobs } from './send-blobs';
import { SendPush } from './send-push';
import { SendRepository } from './send.repository';

const BATCH = 500;
const JOB = 'send-deletion';

/**
 * Deletes Sends past their deletion date, then the files of every deleted Send (queued by the delete
 * trigger, so a crash in between loses none). One instance per period (SEND_DELETION_INTERVAL_SECONDS,
 * Bitwarden runs its DeleteSendsJob every 5 minutes) runs it, under the JobScheduler's advisory lock.
 * Safe to re-run.
 */
@Injectable()
export class SendDeletionJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('send-deletion');
  private job: ScheduledJob | undefined;

  constructor(
    private readonly db: Database,
    private readonly sends: SendRepository,
    private readonly revisions: AccountRevisionService,
    private readonly push: SendPush,
    private readonly files: SendBlobs,
    private readonly scheduler: JobScheduler,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.job = this.scheduler.schedule({
      name: JOB,
      periodMs: this.config.SEND_DELETION_INTERVAL_SECONDS * 1000,
      run: () => this.deletePastDue(new Date()),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }

  /** One run under the job's lock; the number of Sends deleted (0 when another instance holds it). */
  async runOnce(now = new Date()): Promise<number> {
    return (await this.scheduler.exclusively(JOB, () => this.deletePastDue(now))) ?? 0;
  }

  private async deletePastDue(now: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.sends.pastDeletion(now, BATCH);
      if (batch.length === 0) break;
      await this.db.transaction(async () => {
        await this.sends.deleteByIds(batch.map((s) => s.id));
        await this.revisions.touchUsers([...new Set(batch.map((s) => s.userId))]);
      });
      for (const send of batch) this.push.deleted(send, null);
      total += batch.length;
      if (batch.length < BATCH) break;
    }
    // The files of these and of any Send deleted otherwise (an account's deletion cascades).
    await this.files.sweep();
    if (total > 0) this.logger.log(`deleted ${total} Sends past their deletion date`);
    return total;
  }
}
