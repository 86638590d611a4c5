import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { EventType, PushType, badRequest, notFound } from '@keyhaven/contracts';
import { Database, EventRecorder } from '@keyhaven/db';
import { BLOB_STORE, BlobSizeMismatchError, type BlobStore } from '@keyhaven/storage';
import { cipherJson } from '../ciphers/cipher';
import { CipherAccessRepository, type AccessibleCipher } from '../ciphers/cipher-access.repository';
import { VaultPush } from '../vault-push';
import { VaultRevisions } from '../vault-revisions';
import { attachmentBlobKey, attachmentJson, newAttachmentId, type StoredAttachment } from './attachment';
import { AttachmentBlobs } from './attachment-blobs';
import type { AttachmentCreateRequest } from './attachment-request';
import { AttachmentUrls } from './attachment-urls';
import { AttachmentRepository } from './attachment.repository';
import { AttachmentStorage } from './attachment-storage';

const OUT_OF_DATE =
  'The item cannot be saved because it is out of date. To edit this item, first sync your vault, or log out and back in.';
const LENGTH_MISMATCH = 'File received does not match expected file length.';

/** Who asks, from which client: pushes name the device so it skips its own change. */
export interface AttachmentCaller {
  readonly userId: string;
  readonly deviceId: string | null;
}

/** What an upload route hands over: the file part, streamed, and whether it passed the size cap. */
export interface AttachmentUpload {
  readonly stream: Readable;
  truncated(): boolean;
}

/** The JSON of an item for admin callers (`cipherMiniResponse`, the delete answer): no per-user fields. */
function cipherMiniJson(found: AccessibleCipher): Record<string, unknown> {
  return { ...cipherJson(found.cipher, found.access), object: 'cipherMini' };
}

/**
 * Attachments of items, the v2 flow the 2026 clients use: create the row (checks, storage reserved at
 * the declared size), upload the file once (streamed into the BlobStore, its length checked while it
 * streams), download through a signed link, delete. Every change bumps the item's revision date
 * (except the upload itself: the client keeps the date the create answered) and pushes SyncCipherUpdate.
 */
@Injectable()
export class AttachmentService {
  constructor(
    private readonly db: Database,
    private readonly access: CipherAccessRepository,
    private readonly attachments: AttachmentRepository,
    private readonly storage: AttachmentStorage,
    private readonly urls: AttachmentUrls,
    private readonly files: AttachmentBlobs,
    private readonly revisions: VaultRevisions,
    private readonly push: VaultPush,
    private readonly events: EventRecorder,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  /** The cap an upload route reads the file part up to. */
  get maxFileBytes(): number {
    return this.config.ATTACHMENTS_MAX_FILE_BYTES;
  }

  /** `POST ciphers/{id}/attachment/v2` (and `/admin` callers through `adminRequest`). */
  async create(
    caller: AttachmentCaller,
    cipherId: string,
    request: AttachmentCreateRequest,
  ): Promise<Record<string, unknown>> {
    const maxBytes = this.config.ATTACHMENTS_MAX_FILE_BYTES;
    const { attachmentId, found } = await this.db.transaction(async () => {
      const existing = await this.access.findForUpdate(cipherId, caller.userId);
      if (!existing) throw notFound('Cipher');
      if (request.fileSize > maxBytes) {
        // Clients show the first validation error rather than the message: both say the same.
        const tooLarge = `Max file size is ${Math.floor(maxBytes / (1024 * 1024))} MB.`;
        throw badRequest(tooLarge, { fileSize: [tooLarge] });
      }
      if (request.lastKnownRevisionDate) {
        const known = new Date(request.lastKnownRevisionDate).getTime();
        if (Number.isFinite(known) && Math.abs(existing.cipher.revisionDate.getTime() - known) > 1000) {
          throw badRequest(OUT_OF_DATE);
        }
      }
      if (!existing.access.edit) throw badRequest('You do not have permissions to edit this.');
      if (request.fileSize < 1) throw badRequest('No data to attach.', { fileSize: ['No data to attach.'] });
      await this.storage.reserve(existing.cipher, caller.userId, request.fileSize);
      const id = newAttachmentId();
      const now = new Date();
      await this.attachments.insert(
        { id, cipherId, fileName: request.fileName, key: request.key ?? null, size: request.fileSize },
        now,
      );
      await this.attachments.touchCipher(cipherId, now);
      await this.revisions.ownerOf(existing.cipher, caller.userId);
      await this.recordEvent(EventType.Cipher_AttachmentCreated, existing);
      return { attachmentId: id, found: await this.mustFind(cipherId, caller.userId) };
    });
    await this.push.cipher(PushType.SyncCipherUpdate, caller.userId, caller.deviceId, found.cipher);
    const admin = request.adminRequest === true;
    return {
      attachmentId,
      url: `${cipherId}/attachment/${attachmentId}`,
      fileUploadType: 0,
      cipherResponse: admin ? null : cipherJson(found.cipher, found.access),
      cipherMiniResponse: admin ? cipherMiniJson(found) : null,
      object: 'attachment-fileUpload',
    };
  }

  /**
   * `POST ciphers/{id}/attachment/{attachmentId}`: the one upload of a pending attachment. The file must
   * have exactly the declared length; otherwise (or when the upload breaks off) the attachment is
   * deleted with whatever was written, as the client expects (it rolls back by deleting it too).
   */
  async upload(
    caller: AttachmentCaller,
    cipherId: string,
    attachmentId: string,
    upload: AttachmentUpload,
  ): Promise<void> {
    let attachment: StoredAttachment;
    try {
      attachment = await this.db.transaction(async () => {
        const existing = await this.access.findForUpdate(cipherId, caller.userId);
        const pending = existing ? await this.attachments.find(cipherId, attachmentId) : null;
        if (!existing || !pending) throw notFound('Attachment');
        if (!existing.access.edit) throw badRequest('You do not have permissions to edit this.');
        if (!(await this.attachments.claimUpload(cipherId, attachmentId, new Date()))) {
          throw badRequest('This attachment has already been uploaded.');
        }
        return pending;
      });
    } catch (error) {
      upload.stream.resume(); // discard the refused file, so the client gets the answer
      throw error;
    }
    const key = attachmentBlobKey(cipherId, attachmentId);
    try {
      await this.blobs.put(key, upload.stream, attachment.size);
      if (upload.truncated()) throw new BlobSizeMismatchError(key, attachment.size, -1);
    } catch (error) {
      upload.stream.resume();
      await this.discard(caller, cipherId, attachmentId);
      if (error instanceof BlobSizeMismatchError) throw badRequest(LENGTH_MISMATCH, { data: [LENGTH_MISMATCH] });
      throw error;
    }
    const found = await this.db.transaction(async () => {
      if (!(await this.attachments.markUploaded(cipherId, attachmentId, attachment.size))) return null;
      const cipher = await this.access.findForUser(cipherId, caller.userId);
      if (cipher) await this.revisions.ownerOf(cipher.cipher, caller.userId);
      return cipher;
    });
    if (!found) {
      // Deleted while it streamed: the delete queued this key before the file existed.
      await this.files.removeStray(key);
      throw notFound('Attachment');
    }
    await this.push.cipher(PushType.SyncCipherUpdate, caller.userId, caller.deviceId, found.cipher);
  }

  /** `GET …/renew`: only the Azure upload path calls it; Keyhaven's uploads are Direct. */
  async renew(userId: string, cipherId: string, attachmentId: string): Promise<Record<string, unknown>> {
    const attachment = await this.findVisible(userId, cipherId, attachmentId);
    if (attachment.validated) throw notFound('Attachment');
    return { url: `${cipherId}/attachment/${attachmentId}`, fileUploadType: 0, object: 'attachment-fileUpload' };
  }

  /** `GET ciphers/{id}/attachment/{attachmentId}` (and `/admin`): the metadata with a fresh download link. */
  async get(userId: string, cipherId: string, attachmentId: string): Promise<Record<string, unknown>> {
    const attachment = await this.findVisible(userId, cipherId, attachmentId);
    if (!attachment.validated) throw notFound('Attachment');
    return attachmentJson(this.urls.view(attachment));
  }

  /**
   * The same metadata for an item the user owns personally (not through an organization): what an
   * emergency contact may read of the grantor's vault. Anything else is the same 404.
   */
  async getPersonal(ownerId: string, cipherId: string, attachmentId: string): Promise<Record<string, unknown>> {
    const found = await this.access.findForUser(cipherId, ownerId);
    if (found?.cipher.organizationId !== null) throw notFound('Attachment');
    const attachment = await this.attachments.find(cipherId, attachmentId);
    if (!attachment?.validated) throw notFound('Attachment');
    return attachmentJson(this.urls.view(attachment));
  }

  /** The anonymous download behind a signed link: the file and its length, or null (404). */
  async download(
    cipherId: string,
    attachmentId: string,
    token: string | undefined,
  ): Promise<{ stream: Readable; size: number } | null> {
    if (!this.urls.verify(cipherId, attachmentId, token)) return null;
    const attachment = await this.attachments.find(cipherId, attachmentId);
    if (!attachment?.validated) return null;
    const key = attachmentBlobKey(cipherId, attachmentId);
    const [info, stream] = await Promise.all([this.blobs.stat(key), this.blobs.get(key)]);
    if (!info || !stream) {
      stream?.destroy();
      return null;
    }
    return { stream, size: info.size };
  }

  /** `DELETE ciphers/{id}/attachment/{attachmentId}` and its aliases: 200 with the item's new revision date. */
  async delete(caller: AttachmentCaller, cipherId: string, attachmentId: string): Promise<Record<string, unknown>> {
    const found = await this.db.transaction(async () => {
      const existing = await this.access.findForUpdate(cipherId, caller.userId);
      if (!existing) throw notFound('Cipher');
      if (!existing.access.edit) throw badRequest('You do not have permissions to delete this.');
      if (!(await this.attachments.delete(cipherId, attachmentId))) throw notFound('Attachment');
      await this.attachments.touchCipher(cipherId, new Date());
      await this.revisions.ownerOf(existing.cipher, caller.userId);
      await this.recordEvent(EventType.Cipher_AttachmentDeleted, existing);
      return this.mustFind(cipherId, caller.userId);
    });
    this.files.drainSoon();
    await this.push.cipher(PushType.SyncCipherUpdate, caller.userId, caller.deviceId, found.cipher);
    return { cipher: cipherMiniJson(found), object: 'deleteAttachment' };
  }

  /** A failed upload: the attachment goes (its file with it, through the queue); the item's clients sync. */
  private async discard(caller: AttachmentCaller, cipherId: string, attachmentId: string): Promise<void> {
    const found = await this.db.transaction(async () => {
      if (!(await this.attachments.delete(cipherId, attachmentId))) return null;
      await this.attachments.touchCipher(cipherId, new Date());
      const cipher = await this.access.findForUser(cipherId, caller.userId);
      if (cipher) await this.revisions.ownerOf(cipher.cipher, caller.userId);
      return cipher;
    });
    this.files.drainSoon();
    if (found) await this.push.cipher(PushType.SyncCipherUpdate, caller.userId, caller.deviceId, found.cipher);
  }

  /** In the change's transaction; acting user, device and address come from the request. */
  private recordEvent(type: EventType, found: AccessibleCipher): Promise<void> {
    const { id, userId, organizationId } = found.cipher;
    return this.events.record({ type, cipherId: id, userId, organizationId });
  }

  private async findVisible(userId: string, cipherId: string, attachmentId: string): Promise<StoredAttachment> {
    const found = await this.access.findForUser(cipherId, userId);
    const attachment = found ? await this.attachments.find(cipherId, attachmentId) : null;
    if (!attachment) throw notFound('Attachment');
    return attachment;
  }

  private async mustFind(cipherId: string, userId: string): Promise<AccessibleCipher> {
    const found = await this.access.findForUser(cipherId, userId);
    if (!found) throw new Error('cipher vanished inside its own transaction');
    return found;
  }
}
