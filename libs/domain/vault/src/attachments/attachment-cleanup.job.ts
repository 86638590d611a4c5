import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CACHE_STORE, PeriodicJob, runExclusively, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database } from '@keyhaven/db';
import { AttachmentBlobs } from './attachment-blobs';
import { AttachmentRepository } from './attachment.repository';

const BATCH = 500;
const LOCK_KEY = 'job:attachment-cleanup';
/** Longer than a run takes; a crashed runner's lease runs out before long. */
const LOCK_TTL_MS = 4 * 60 * 1000;

/**
 * Removes attachments whose upload never completed (older than ATTACHMENTS_PENDING_UPLOAD_TTL_SECONDS),
 * then the files of every deleted attachment still queued — including those deleted by cascades
 * (a user's or an organization's deletion). Every instance ticks; the one that takes the lock in the
 * shared cache runs, the others skip. Safe to re-run after a crash.
 */
@Injectable()
export class AttachmentCleanupJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('attachment-cleanup');
  private readonly job = new PeriodicJob(
    () => this.runOnce(),
    (error: unknown) => {
      this.logger.warn(`attachment clean-up failed: ${error instanceof Error ? error.message : String(error)}`);
    },
  );

  constructor(
    private readonly db: Database,
    private readonly attachments: AttachmentRepository,
    private readonly files: AttachmentBlobs,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.job.start(this.config.ATTACHMENTS_CLEANUP_INTERVAL_SECONDS * 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job.stop();
    await this.files.idle();
  }

  /** One run under the lock: abandoned uploads removed and files deleted (null when another instance ran). */
  async runOnce(now = new Date()): Promise<{ abandoned: number; files: number } | null> {
    return runExclusively(this.cacheStore.lock, LOCK_KEY, LOCK_TTL_MS, async () => {
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
    });
  }
}
