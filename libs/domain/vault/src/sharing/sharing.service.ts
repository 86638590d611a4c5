import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, badRequest, notFound } from '@keyhaven/contracts';
import { OrgAccess } from '@keyhaven/domain-admin-console';
import { attachmentKeyChanges } from '../attachments/attachment-request';
import { AttachmentRepository } from '../attachments/attachment.repository';
import { cipherJson } from '../ciphers/cipher';
import { cipherEvent } from '../ciphers/cipher-events';
import {
  CipherAccessRepository,
  CipherWriteRepository,
  type AccessibleCipher,
} from '../ciphers/cipher-access.repository';
import type { CipherAudience } from '../ciphers/cipher-audience.repository';
import type { CipherRequest } from '../ciphers/cipher-request';
import type { shareSchema } from '../ciphers/cipher-schemas';
import { toNewCipher } from '../ciphers/new-cipher';
import { VaultPush } from '../vault-push';
import { VaultRevisions } from '../vault-revisions';

/** Moving personal items into an organization, and which collections an organization item is in. */
@Injectable()
export class SharingService {
  constructor(
    private readonly db: Database,
    private readonly access: CipherAccessRepository,
    private readonly writes: CipherWriteRepository,
    private readonly orgAccess: OrgAccess,
    private readonly revisions: VaultRevisions,
    private readonly push: VaultPush,
    private readonly events: EventRecorder,
    private readonly attachments: AttachmentRepository,
  ) {}

  /** Moves a personal item into an organization, re-encrypted by the client with the org key. */
  async share(
    userId: string,
    deviceId: string | null,
    id: string,
    body: z.infer<typeof shareSchema>,
  ): Promise<Record<string, unknown>> {
    const [shared] = await this.shareMany(userId, deviceId, [{ ...body.cipher, id }], body.collectionIds);
    if (!shared) throw notFound('Cipher');
    return shared;
  }

  /** Every item moves, or none does: one transaction and a fixed number of statements for the whole batch. */
  async shareMany(
    userId: string,
    deviceId: string | null,
    ciphers: (CipherRequest & { id?: unknown })[],
    collectionIds: string[],
  ): Promise<Record<string, unknown>[]> {
    const organizationIds = new Set(ciphers.map((c) => c.organizationId));
    const [organizationId] = organizationIds;
    if (!organizationId || organizationIds.size !== 1) {
      throw badRequest('Every item must name the same organization.', { organizationId: ['The field is required.'] });
    }
    await this.orgAccess.require(organizationId, userId);
    const changes = ciphers.map((cipher) => {
      if (typeof cipher.id !== 'string') throw badRequest('Each item needs its id.');
      return toNewCipher(cipher, null, cipher.id);
    });
    const ids = changes.map((c) => c.id);
    const shared = await this.db.transaction(async () => {
      if ((await this.writes.share(userId, organizationId, changes)) !== ids.length) throw notFound('Cipher');
      // The files stay where they are; their keys arrive re-wrapped under the organization key.
      await this.attachments.applyKeys(ciphers.flatMap((c) => attachmentKeyChanges(String(c.id), c)));
      if ((await this.writes.addCollections(userId, organizationId, ids, collectionIds)) === 0)
        throw badRequest('Choose at least one collection you can edit.', {
          collectionIds: ['No writable collection.'],
        });
      await this.revisions.organization(organizationId);
      await this.events.record(ids.map((id) => cipherEvent(EventType.Cipher_Shared, id, organizationId, userId)));
      return this.findAll(ids, userId);
    });
    await this.push.shared(userId, deviceId, ids);
    return shared.map((found) => cipherJson(found.cipher, found.access));
  }

  /**
   * Changes which collections an org item is in; the user must manage the item. Null when the
   * change took the item out of every collection the user reaches.
   */
  async setCollections(
    userId: string,
    deviceId: string | null,
    id: string,
    collectionIds: string[],
  ): Promise<Record<string, unknown> | null> {
    let readers: CipherAudience[] | null = null;
    const found = await this.db.transaction(async () => {
      const existing = await this.access.findForUser(id, userId);
      if (!existing?.cipher.organizationId || !existing.access.manage) throw notFound('Cipher');
      // Who sees it before the change: those who lose it are told to drop it.
      readers = await this.push.audienceOf([id]);
      await this.writes.replaceCollections(userId, existing.cipher.organizationId, id, collectionIds);
      await this.revisions.organization(existing.cipher.organizationId);
      await this.events.record(
        cipherEvent(EventType.Cipher_UpdatedCollections, id, existing.cipher.organizationId, userId),
      );
      return this.access.findForUser(id, userId);
    });
    await this.push.collectionsChanged(userId, deviceId, readers, id);
    return found ? cipherJson(found.cipher, found.access) : null;
  }

  /** The shared items as the user now sees them, in the order given: one query for the batch. */
  private async findAll(ids: string[], userId: string): Promise<AccessibleCipher[]> {
    const byId = new Map((await this.access.findManyForUser(ids, userId)).map((f) => [f.cipher.id, f]));
    return ids.map((id) => {
      const found = byId.get(id);
      if (!found) throw new Error('cipher vanished inside its own transaction');
      return found;
    });
  }
}
