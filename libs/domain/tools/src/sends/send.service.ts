import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { badRequest, notFound, parseBody } from '@keyhaven/contracts';
import { Database } from '@keyhaven/db';
import { AccountRevisionService } from '@keyhaven/domain-auth';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { SendAuthType, SendType, type Send } from './send';
import { SendBlobs } from './send-blobs';
import { SendEvents } from './send-events';
import { SendFieldsFactory } from './send-fields';
import { SendPolicies } from './send-policies';
import { SendPush } from './send-push';
import { SendStorage } from './send-storage';
import { SendRepository } from './send.repository';
import { MAX_SEND_FILE_BYTES, sendRequestSchema, validType } from './send-request';

/** Where a file Send's encrypted bytes live. */
export const sendBlobKey = (sendId: string, fileId: string): string => `sends/${sendId}/${fileId}`;

/** What `POST sends/file/v2` and the renew route answer: where to upload, and the Send. */
export interface SendUpload {
  readonly send: Send;
  readonly url: string;
}

/**
 * The owner's side of Sends: create (text, or file metadata before the upload), edit, remove the
 * password, delete. Every change bumps the account revision in its transaction and pushes after commit.
 */
@Injectable()
export class SendService {
  constructor(
    private readonly db: Database,
    private readonly sends: SendRepository,
    private readonly fields: SendFieldsFactory,
    private readonly policies: SendPolicies,
    private readonly revisions: AccountRevisionService,
    private readonly push: SendPush,
    private readonly events: SendEvents,
    private readonly storage: SendStorage,
    private readonly files: SendBlobs,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  list(userId: string): Promise<Send[]> {
    return this.sends.listForUser(userId);
  }

  async get(userId: string, id: string): Promise<Send> {
    const send = await this.sends.findForUser(id, userId);
    if (!send) throw notFound('Send');
    return send;
  }

  /** `POST sends`: text Sends only (files go through `sends/file/v2`). */
  async createText(userId: string, body: unknown, contextId: string | null): Promise<Send> {
    const request = parseBody(sendRequestSchema, body);
    if (validType(request.type) !== SendType.Text)
      throw badRequest('File Sends are created through sends/file/v2.', { type: ['Must be 0 (text).'] });
    const fields = await this.fields.from(request, SendType.Text, null);
    await this.policies.assertAllowed(userId, fields.hideEmail);
    return this.created(userId, () => this.sends.create(randomUUID(), userId, SendType.Text, fields, null), contextId);
  }

  /** `POST sends/file/v2`: the Send with its file's id and declared size; the bytes come next. */
  async createFile(userId: string, body: unknown, contextId: string | null): Promise<SendUpload> {
    const request = parseBody(sendRequestSchema, body);
    if (validType(request.type) !== SendType.File)
      throw badRequest('Text Sends are created through sends.', { type: ['Must be 1 (file).'] });
    const size = request.fileLength;
    if (size === null || size === undefined)
      throw badRequest('Invalid content. File size hint is required.', { fileLength: ['The field is required.'] });
    if (size > MAX_SEND_FILE_BYTES) throw badRequest('Max file size is 500 MB.', { fileLength: ['Too large.'] });
    const fields = await this.fields.from(request, SendType.File, null);
    await this.policies.assertAllowed(userId, fields.hideEmail);
    const fileId = randomBytes(16).toString('hex');
    const send = await this.created(
      userId,
      async () => {
        await this.storage.reserve(userId, size);
        return this.sends.create(randomUUID(), userId, SendType.File, fields, { id: fileId, size });
      },
      contextId,
    );
    return { send, url: this.uploadUrl(send) };
  }

  /** `GET sends/{id}/file/{fileId}`: the upload URL again, while the upload has not arrived. */
  async renewUpload(userId: string, id: string, fileId: string): Promise<SendUpload> {
    const send = await this.get(userId, id);
    if (send.type !== SendType.File || send.fileId !== fileId || send.fileUploaded) throw notFound('Send file');
    return { send, url: this.uploadUrl(send) };
  }

  async update(userId: string, id: string, body: unknown, contextId: string | null): Promise<Send> {
    const request = parseBody(sendRequestSchema, body);
    const existing = await this.get(userId, id);
    if (request.type !== existing.type) throw badRequest("Cannot change a Send's type.", { type: ['Cannot change.'] });
    const fields = await this.fields.from(request, existing.type, existing);
    await this.policies.assertAllowed(userId, fields.hideEmail);
    const send = await this.db.transaction(async () => {
      const updated = await this.sends.updateForUser(id, userId, fields);
      if (!updated) throw notFound('Send');
      await this.revisions.touchUsers([userId]);
      await this.events.updated(updated);
      return updated;
    });
    this.push.updated(send, contextId);
    return send;
  }

  /** `PUT sends/{id}/remove-password` (alias of remove-auth): clears password and emails. */
  async removePassword(userId: string, id: string, contextId: string | null): Promise<Send> {
    const existing = await this.get(userId, id);
    await this.policies.assertAllowed(userId, false);
    const send = await this.db.transaction(async () => {
      const updated = await this.sends.updateForUser(id, userId, {
        ...existing,
        data: existing.file ?? existing.text ?? { text: null, hidden: false },
        authType: SendAuthType.None,
        passwordHash: null,
        emails: null,
      });
      if (!updated) throw notFound('Send');
      await this.revisions.touchUsers([userId]);
      await this.events.updated(updated);
      return updated;
    });
    this.push.updated(send, contextId);
    return send;
  }

  /** Deleting is always allowed, whatever the policies; the file goes once the row is gone (see SendBlobs). */
  async delete(userId: string, id: string, contextId: string | null): Promise<void> {
    const send = await this.db.transaction(async () => {
      const deleted = await this.sends.deleteForUser(id, userId);
      if (!deleted) throw notFound('Send');
      await this.revisions.touchUsers([userId]);
      await this.events.deleted(deleted);
      return deleted;
    });
    if (send.fileId) await this.files.remove([sendBlobKey(send.id, send.fileId)]);
    this.push.deleted(send, contextId);
  }

  private async created(userId: string, insert: () => Promise<Send>, contextId: string | null): Promise<Send> {
    const send = await this.db.transaction(async () => {
      const created = await insert();
      await this.revisions.touchUsers([userId]);
      await this.events.created(created);
      return created;
    });
    this.push.created(send, contextId);
    return send;
  }

  /** Direct upload (`fileUploadType: 0`): the clients post the multipart body to this API path. */
  private uploadUrl(send: Send): string {
    return `${this.config.DOMAIN}/api/sends/${send.id}/file/${send.fileId ?? ''}`;
  }
}
