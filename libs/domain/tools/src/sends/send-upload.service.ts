import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { badRequest, notFound } from '@keyhaven/contracts';
import { Database } from '@keyhaven/db';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { BLOB_STORE, BlobSizeMismatchError, type BlobStore } from '@keyhaven/storage';
import { SendType } from './send';
import { SendBlobs } from './send-blobs';
import { SendEvents } from './send-events';
import { SendPolicies } from './send-policies';
import { SendPush } from './send-push';
import { SendRepository } from './send.repository';
import { sendBlobKey } from './send.service';

/** How long one upload may hold the Send's upload lock (a crashed holder's lease runs out). */
const UPLOAD_LOCK_MS = 30 * 60 * 1000;

/** The file part of an upload as the HTTP layer streams it. */
export interface IncomingFile {
  readonly stream: Readable;
  /** True when the HTTP layer cut the part at its cap (it was longer than allowed). */
  truncated(): boolean;
}

/**
 * `POST sends/{id}/file/{fileId}`: the one upload a file Send takes, streamed to the blob store with
 * exactly the declared length (longer stops the stream; shorter or longer leaves nothing stored and
 * deletes the whole Send, as Bitwarden does). A lock in the shared cache makes a second, concurrent
 * upload to the same Send fail instead of racing the first for the blob.
 */
@Injectable()
export class SendUploadService {
  constructor(
    private readonly db: Database,
    private readonly sends: SendRepository,
    private readonly policies: SendPolicies,
    private readonly revisions: AccountRevisionService,
    private readonly push: SendPush,
    private readonly events: SendEvents,
    private readonly files: SendBlobs,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
  ) {}

  /** The most bytes the upload may carry: its declared size (known before the body is read). */
  private async expectedSize(userId: string, id: string, fileId: string): Promise<number> {
    const send = await this.sends.findForUser(id, userId);
    if (!send || send.type !== SendType.File || send.fileId !== fileId) throw notFound('Send');
    if (send.fileUploaded) throw badRequest('File has already been uploaded.');
    return send.fileSize ?? 0;
  }

  /**
   * `open(maxBytes)` starts reading the body only once the Send is known to await this upload; it
   * is given one byte more than declared, so a longer file is seen as longer rather than cut to fit.
   */
  async upload(
    userId: string,
    id: string,
    fileId: string,
    open: (maxBytes: number) => Promise<IncomingFile>,
    contextId: string | null,
  ): Promise<void> {
    const lock = await this.cacheStore.lock.tryAcquire(`send-upload:${id}`, UPLOAD_LOCK_MS);
    if (!lock) throw badRequest('File has already been uploaded.');
    let file: IncomingFile | undefined;
    try {
      const size = await this.expectedSize(userId, id, fileId);
      await this.policies.assertAllowed(userId, false);
      file = await open(size + 1);
      const key = sendBlobKey(id, fileId);
      try {
        await this.blobs.put(key, file.stream, size);
        if (file.truncated()) throw new BlobSizeMismatchError(key, size, -1);
      } catch (error) {
        if (!(error instanceof BlobSizeMismatchError)) throw error;
        await this.discard(userId, id, key, contextId);
        throw badRequest('File received does not match expected file length.');
      }
      const send = await this.db.transaction(async () => {
        const uploaded = await this.sends.markUploaded(id, userId, fileId);
        if (uploaded) await this.revisions.touchUsers([userId]);
        return uploaded;
      });
      if (!send) {
        // Deleted while the bytes arrived: nothing may keep them.
        await this.blobs.delete(key);
        throw notFound('Send');
      }
      this.push.updated(send, contextId);
    } finally {
      file?.stream.resume();
      await lock.release();
    }
  }

  /** A failed upload takes its Send along (the clients roll back by deleting it anyway). */
  private async discard(userId: string, id: string, key: string, contextId: string | null): Promise<void> {
    const deleted = await this.db.transaction(async () => {
      const removed = await this.sends.deleteForUser(id, userId);
      if (removed) {
        await this.revisions.touchUsers([userId]);
        await this.events.deleted(removed);
      }
      return removed;
    });
    // The size check left nothing behind, but a queued key must still leave the queue.
    await this.files.remove([key]);
    if (deleted) this.push.deleted(deleted, contextId);
  }
}
