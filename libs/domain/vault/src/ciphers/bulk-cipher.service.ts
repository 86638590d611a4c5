import { Injectable } from '@nestjs/common';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, PushType, badRequest, notFound } from '@keyhaven/contracts';
import { AttachmentBlobs } from '../attachments/attachment-blobs';
import { FolderService } from '../folders/folder.service';
import { VaultPush } from '../vault-push';
import { VaultRevisions } from '../vault-revisions';
import { CipherAccessRepository, CipherWriteRepository, type AccessibleCipher } from './cipher-access.repository';
import type { CipherAudience } from './cipher-audience.repository';
import { CipherRepository } from './cipher.repository';
import { cipherEvent } from './cipher-events';

/**
 * Trash, restore, permanent delete and move, for one item or many: each in one transaction, bounded in
 * SQL by what the user may edit; revision dates move only when some item really changed.
 */
@Injectable()
export class BulkCipherService {
  constructor(
    private readonly db: Database,
    private readonly ciphers: CipherRepository,
    private readonly access: CipherAccessRepository,
    private readonly writes: CipherWriteRepository,
    private readonly folders: FolderService,
    private readonly revisions: VaultRevisions,
    private readonly push: VaultPush,
    private readonly events: EventRecorder,
    private readonly attachmentFiles: AttachmentBlobs,
  ) {}

  async softDelete(userId: string, deviceId: string | null, ids: string[]): Promise<void> {
    const changed = await this.changeMany(
      userId,
      ids,
      () => this.writes.softDelete(ids, userId),
      EventType.Cipher_SoftDeleted,
    );
    await this.push.cipherIds(PushType.SyncCipherUpdate, userId, deviceId, changed);
  }

  async restore(userId: string, deviceId: string | null, ids: string[]): Promise<AccessibleCipher[]> {
    const changed = await this.changeMany(
      userId,
      ids,
      () => this.writes.restore(ids, userId),
      EventType.Cipher_Restored,
    );
    await this.push.cipherIds(PushType.SyncCipherUpdate, userId, deviceId, changed);
    return this.access.findManyForUser(changed, userId);
  }

  async deletePermanently(userId: string, deviceId: string | null, ids: string[]): Promise<void> {
    // The items' readers are read before the rows (and their collection links) go.
    let audiences: CipherAudience[] = [];
    const changed = await this.changeMany(
      userId,
      ids,
      async () => {
        audiences = (await this.push.audienceOf(ids)) ?? [];
        return this.writes.delete(ids, userId);
      },
      EventType.Cipher_Deleted,
    );
    // The deleted items' attachment files were queued by the same transaction; they go now.
    if (changed.length > 0) this.attachmentFiles.drainSoon();
    const deleted = new Set(changed);
    const gone = audiences.filter((a) => deleted.has(a.id));
    this.push.toAudiences(PushType.SyncLoginDelete, userId, deviceId, gone);
  }

  /** Items already in the target folder do not count: nothing changed, nothing is pushed. */
  async move(userId: string, ids: string[], folderId: string | null | undefined): Promise<void> {
    const changed = await this.changeMany(userId, ids, async () => {
      const target = await this.folders.requireOwn(userId, folderId);
      const visible = (await this.access.findManyForUser(ids, userId)).map((c) => c.cipher.id);
      return this.ciphers.moveToFolder(userId, visible, target);
    });
    if (changed.length > 0) this.push.ciphers(userId);
  }

  /** Single-item routes answer 404 for what the caller cannot see and 400 for what they may only read. */
  async softDeleteOne(userId: string, deviceId: string | null, id: string): Promise<void> {
    await this.requireEditable(userId, id);
    await this.softDelete(userId, deviceId, [id]);
  }

  /** Restoring an item that is not in the trash changes nothing and answers with the item. */
  async restoreOne(userId: string, deviceId: string | null, id: string): Promise<AccessibleCipher> {
    const current = await this.requireEditable(userId, id);
    const [restored] = await this.restore(userId, deviceId, [id]);
    return restored ?? current;
  }

  async deleteOne(userId: string, deviceId: string | null, id: string): Promise<void> {
    await this.requireEditable(userId, id);
    await this.deletePermanently(userId, deviceId, [id]);
  }

  private async requireEditable(userId: string, id: string): Promise<AccessibleCipher> {
    const found = await this.access.findForUser(id, userId);
    if (!found) throw notFound('Cipher');
    if (!found.access.edit) throw badRequest('You do not have permission to change this item.');
    return found;
  }

  /** `eventType`: what to record for each changed item (moving between folders records nothing). */
  private async changeMany(
    userId: string,
    ids: string[],
    change: () => Promise<string[]>,
    eventType?: EventType,
  ): Promise<string[]> {
    if (ids.length === 0) throw badRequest('No items given.', { ids: ['At least one id is required.'] });
    return this.db.transaction(async () => {
      // Read the owning organizations first: a permanent delete takes the rows with it.
      const owners = await this.access.organizationsOf(ids);
      const changed = await change();
      if (changed.length > 0) {
        await this.revisions.user(userId);
        const organizations = new Set(changed.flatMap((id) => owners.get(id) ?? []));
        for (const organizationId of organizations) await this.revisions.organization(organizationId);
        if (eventType !== undefined)
          await this.events.record(changed.map((id) => cipherEvent(eventType, id, owners.get(id) ?? null, userId)));
      }
      return changed;
    });
  }
}
