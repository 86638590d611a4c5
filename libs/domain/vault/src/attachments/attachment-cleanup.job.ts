import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database, JobScheduler, type ScheduledJob } from '@keyhaven/db';
import { AttachmentBlobs } from './attachment-blobs';
import { AttachmentRepository } from './attachment.repository';

const BATCH = 500;
const JOB = 'attachment-cleanup';

/**
 * Removes attachments whose upload never completed (older than ATTACHMENTS_PENDING_UPLOAD_TTL_SECONDS),
 * then the files of every deleted attachment still queued — including those deleted by cascades
 * (a user's or an organization's deletion). One instance per period runs it, under the JobScheduler's
 * advisory lock. Safe to re-run after a crash.
 */
@Injectable()
export class AttachmentCleanupJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('attachment-cleanup');
  private job: ScheduledJob | undefined;

  constructor(
    private readonly db: Database,
    private readonly attachments: AttachmentRepository,
    private readonly files: AttachmentBlobs,
    private readonly scheduler: JobScheduler,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.job = this.scheduler.schedule({
      name: JOB,
      periodMs: this.config.ATTACHMENTS_CLEANUP_INTERVAL_SECONDS * 1000,
      run: () => this.cleanUp(new Date()),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
    await this.files.idle();
  }

  /** One run under the job's lock: abandoned uploads removed and files deleted (null when another instance ran). */
  async runOnce(now = new Date()): Promise<{ abandoned: number; files: number } | null> {
    return this.scheduler.exclusively(JOB, () => this.cleanUp(now));
  }

  private async cleanUp(now: Date): Promise<{ abandoned: number; files: number }> {
    const before = new Date(now.getTime() - this.config.ATTACHMENTS_PENDING_UPLOAD_TTL_SECONDS * 1000);
    let abandoned = 0;
    for (;;) {
      // Each batch commits on its own: the trigger queues the files, removed below.
      const removed = await this.db.transaction(() => this.attachments.deleteAbandoned(before, BATCH));
      abandoned += removed.length;
      if (removed.length < BATCH) break;
    }
    const files = await this.files.drain();
    if (abandoned > 0 || files > 0) this.logger.log(`removed ${abandoned} abandoned uploads, ${files} files`);
    return { abandoned, files };
  }
}
