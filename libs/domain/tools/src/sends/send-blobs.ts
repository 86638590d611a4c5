import { Inject, Injectable } from '@nestjs/common';
import { BLOB_STORE, type BlobStore } from '@keyhaven/storage';
import { SendRepository } from './send.repository';

const BATCH = 500;

/**
 * Removes the files of deleted Sends. Their keys were queued by the delete trigger in the deleting
 * transaction, so removing after commit (or in the next sweep, after a crash) never loses one.
 */
@Injectable()
export class SendBlobs {
  constructor(
    private readonly sends: SendRepository,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  /** Right after the commit that deleted the rows; a failure leaves the keys for the sweep. */
  async remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) await this.blobs.delete(key);
    await this.sends.forgetBlobKeys(keys);
  }

  /** Everything still queued (the deletion job's round); the number of files removed. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const keys = await this.sends.queuedBlobKeys(BATCH);
      await this.remove(keys);
      total += keys.length;
      if (keys.length < BATCH) return total;
    }
  }
}
