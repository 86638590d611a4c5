import { Inject, Injectable, Logger } from '@nestjs/common';
import { BLOB_STORE, type BlobStore } from '@keyhaven/storage';
import { AttachmentRepository } from './attachment.repository';

const BATCH = 500;
/** Blob deletions in flight at once (S3 round trips). */
const PARALLEL = 16;

/**
 * Removes the files of deleted attachments. Their keys were queued in the database by the delete
 * itself (a trigger, in the same transaction), so a crash or a failed delete loses nothing: the
 * blob goes first, then its queue entry; the periodic job retries whatever is left. Deleting a blob
 * twice (two instances draining at once) is harmless.
 */
@Injectable()
export class AttachmentBlobs {
  private readonly logger = new Logger('attachments');
  private draining: Promise<number> | undefined;

  constructor(
    private readonly attachments: AttachmentRepository,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  /** After a commit that deleted attachments: their files go now, without holding up the reply. */
  drainSoon(): void {
    this.draining ??= this.drain()
      .catch((error: unknown) => {
        this.logger.warn(`attachment files not removed yet: ${error instanceof Error ? error.message : String(error)}`);
        return 0;
      })
      .finally(() => {
        this.draining = undefined;
      });
  }

  /** Settles when the drain started by drainSoon (if any) has finished; for shutdown and tests. */
  async idle(): Promise<void> {
    await this.draining;
  }

  /** Removes every queued file; answers how many. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const keys = await this.attachments.queuedBlobs(BATCH);
      if (keys.length === 0) return total;
      for (let i = 0; i < keys.length; i += PARALLEL) {
        await Promise.all(keys.slice(i, i + PARALLEL).map((key) => this.blobs.delete(key)));
      }
      await this.attachments.unqueueBlobs(keys);
      total += keys.length;
      if (keys.length < BATCH) return total;
    }
  }

  /** A file written for an attachment that is gone by now (deleted during its upload). */
  async removeStray(key: string): Promise<void> {
    try {
      await this.blobs.delete(key);
    } catch (error) {
      this.logger.warn(`stray attachment file not removed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
