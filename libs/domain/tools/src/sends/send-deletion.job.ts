import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { CACHE_STORE, PeriodicJob, runExclusively, type CacheStore } from '@keyhaven/cache';
import { SendBlobs } from './send-blobs';
import { SendPush } from './send-push';
import { SendRepository } from './send.repository';

/** Bitwarden's DeleteSendsJob runs every 5 minutes. */
export const SEND_DELETION_INTERVAL_MS = 5 * 60 * 1000;
const BATCH = 500;
const LOCK_KEY = 'job:send-deletion';
/** Longer than a run takes; a crashed runner's lease runs out before the next tick. */
const LOCK_TTL_MS = 4 * 60 * 1000;

/**
 * Deletes Sends past their deletion date, then the files of every deleted Send (queued by the delete
 * trigger, so a crash in between loses none). Every instance ticks; the one that takes the lock
 * (shared cache) runs, the others skip. Safe to re-run.
 */
@Injectable()
export class SendDeletionJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('send-deletion');
  private readonly job = new PeriodicJob(
    () => this.runOnce(),
    (error: unknown) => {
      this.logger.warn(`send deletion failed: ${error instanceof Error ? error.message : String(error)}`);
    },
  );

  constructor(
    private readonly db: Database,
    private readonly sends: SendRepository,
    private readonly revisions: AccountRevisionService,
    private readonly push: SendPush,
    private readonly files: SendBlobs,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
  ) {}

  onApplicationBootstrap(): void {
    this.job.start(SEND_DELETION_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job.stop();
  }

  /** One run under the lock; the number of Sends deleted (0 when another instance holds the lock). */
  async runOnce(now = new Date()): Promise<number> {
    const deleted = await runExclusively(this.cacheStore.lock, LOCK_KEY, LOCK_TTL_MS, async () => {
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
      return total;
    });
    return deleted ?? 0;
  }
}
