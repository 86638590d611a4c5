import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database, EventRecorder } from '@keyhaven/db';
import { EventType, PushType, badRequest, notFound } from '@keyhaven/contracts';
import { OrgAccess, isAdmin, type Membership, type Need } from '@keyhaven/domain-admin-console';
import { attachmentKeyChanges } from '../attachments/attachment-request';
import { AttachmentRepository } from '../attachments/attachment.repository';
import { FolderService } from '../folders/folder.service';
import { assertActor } from '../org-actor';
import { VaultPush } from '../vault-push';
import { VaultRevisions } from '../vault-revisions';
import { cipherJson } from './cipher';
import { cipherEvent } from './cipher-events';
import { CipherAccessRepository, CipherWriteRepository, type AccessibleCipher } from './cipher-access.repository';
import type { CipherRequest } from './cipher-request';
import type { partialSchema } from './cipher-schemas';
import { CipherRepository } from './cipher.repository';
import { toNewCipher } from './new-cipher';
import { PersonalOwnership } from './personal-ownership';

/** Who may list every item of an organization: the route's `@OrgPermission` declares the same. */
export const ORG_ITEMS_VIEWERS: readonly Need[] = ['admin', 'editAnyCollection', 'accessImportExport'];

/**
 * One item at a time: read, create, update, and the caller's own folder and favourite. Each write is
 * one transaction, scoped in SQL to what the caller may touch, and bumps the revision dates polled.
 */
@Injectable()
export class CipherService {
  constructor(
    private readonly db: Database,
    private readonly ciphers: CipherRepository,
    private readonly access: CipherAccessRepository,
    private readonly writes: CipherWriteRepository,
    private readonly folders: FolderService,
    private readonly ownership: PersonalOwnership,
    private readonly orgAccess: OrgAccess,
    private readonly revisions: VaultRevisions,
    private readonly push: VaultPush,
    private readonly events: EventRecorder,
    private readonly attachments: AttachmentRepository,
  ) {}

  /** Every item the user reaches, with what they may do to each. */
  list(userId: string): Promise<AccessibleCipher[]> {
    return this.access.listForUser(userId);
  }

  /** The admin console's view of every item of an organization (admins, or Custom with item-wide rights). */
  listForOrganization(actor: Membership): Promise<AccessibleCipher[]> {
    assertActor(actor, ...ORG_ITEMS_VIEWERS);
    return this.access.listForOrg(actor.organizationId);
  }

  async getCipher(userId: string, id: string): Promise<AccessibleCipher> {
    const found = await this.access.findForUser(id, userId);
    if (!found) throw notFound('Cipher');
    return found;
  }

  async createCipher(
    userId: string,
    deviceId: string | null,
    request: CipherRequest,
    collectionIds: string[] = [],
  ): Promise<Record<string, unknown>> {
    if (request.organizationId)
      return this.createOrgCipher(userId, deviceId, request.organizationId, request, collectionIds);
    await this.ownership.assertAllowed(userId);
    const found = await this.db.transaction(async () => {
      const created = toNewCipher(request, await this.folders.requireOwn(userId, request.folderId));
      await this.ciphers.insertForUser(userId, created);
      await this.events.record(cipherEvent(EventType.Cipher_Created, created.id, null, userId));
      await this.revisions.user(userId);
      return this.mustFind(created.id, userId);
    });
    await this.push.cipher(PushType.SyncCipherCreate, userId, deviceId, found.cipher);
    return cipherJson(found.cipher, found.access);
  }

  /** An org item needs a collection the user may write to, unless the user administers the org. */
  private async createOrgCipher(
    userId: string,
    deviceId: string | null,
    organizationId: string,
    request: CipherRequest,
    collectionIds: string[],
  ): Promise<Record<string, unknown>> {
    const membership = await this.orgAccess.require(organizationId, userId);
    const found = await this.db.transaction(async () => {
      const folderId = await this.folders.requireOwn(userId, request.folderId);
      const created = toNewCipher(request, folderId);
      const linked = await this.writes.insertForOrg(userId, organizationId, created.id, created, collectionIds);
      if (linked === 0 && !isAdmin(membership))
        throw badRequest('Choose at least one collection you can edit.', {
          collectionIds: ['No writable collection.'],
        });
      await this.ciphers.setUserState(userId, [created.id], folderId, created.favorite);
      await this.revisions.organization(organizationId);
      await this.events.record(cipherEvent(EventType.Cipher_Created, created.id, organizationId, userId));
      return this.mustFind(created.id, userId);
    });
    await this.push.cipher(PushType.SyncCipherCreate, userId, deviceId, found.cipher);
    return cipherJson(found.cipher, found.access);
  }

  /**
   * The access query runs once: it locks the row it checks, and the answer is that row with the
   * change applied (an update moves neither the item's collections nor the caller's rights).
   */
  async updateCipher(
    userId: string,
    deviceId: string | null,
    id: string,
    request: CipherRequest,
  ): Promise<Record<string, unknown>> {
    const updated = await this.db.transaction(async () => {
      const existing = await this.access.findForUpdate(id, userId);
      if (!existing) throw notFound('Cipher');
      if (!existing.access.edit) throw badRequest('You do not have permission to edit this item.');
      if (request.lastKnownRevisionDate) {
        const known = new Date(request.lastKnownRevisionDate).getTime();
        // Clients send second precision at times; only a clearly newer server copy is a conflict.
        if (Number.isFinite(known) && existing.cipher.revisionDate.getTime() - known > 1000) {
          throw badRequest('The client copy of this cipher is out of date. Resync the client and try again.');
        }
      }
      if ((request.organizationId ?? null) !== existing.cipher.organizationId) {
        throw badRequest('Use the share endpoint to move an item into an organization.');
      }
      const next = toNewCipher(request, await this.folders.requireOwn(userId, request.folderId), id);
      const revisionDate = await this.writes.replaceData(id, next);
      await this.ciphers.setUserState(userId, [id], next.folderId, next.favorite);
      await this.revisions.ownerOf(existing.cipher, userId);
      await this.events.record(cipherEvent(EventType.Cipher_Updated, id, existing.cipher.organizationId, userId));
      // Re-encrypted names and keys of the item's attachments (a key rotation or a new item key).
      const renamed = attachmentKeyChanges(id, request);
      await this.attachments.applyKeys(renamed);
      if (renamed.length > 0) return { ...(await this.mustFind(id, userId)), access: existing.access };
      const { folderId, favorite, type, data, key, reprompt, archivedDate } = next;
      const cipher = { ...existing.cipher, folderId, favorite, type, data, key, reprompt, archivedDate, revisionDate };
      return { cipher, access: existing.access };
    });
    await this.push.cipher(PushType.SyncCipherUpdate, userId, deviceId, updated.cipher);
    return cipherJson(updated.cipher, updated.access);
  }

  /** Folder and favourite only: what a user may change on any item they can see. */
  async partialUpdate(
    userId: string,
    id: string,
    body: z.infer<typeof partialSchema>,
  ): Promise<Record<string, unknown>> {
    const found = await this.db.transaction(async () => {
      const existing = await this.access.findForUser(id, userId);
      if (!existing) throw notFound('Cipher');
      const folderId = await this.folders.requireOwn(userId, body.folderId);
      const favorite = body.favorite ?? false;
      await this.ciphers.setUserState(userId, [id], folderId, favorite);
      await this.revisions.user(userId);
      return { cipher: { ...existing.cipher, folderId, favorite }, access: existing.access };
    });
    return cipherJson(found.cipher, found.access);
  }

  private async mustFind(id: string, userId: string): Promise<AccessibleCipher> {
    const found = await this.access.findForUser(id, userId);
    if (!found) throw new Error('cipher vanished inside its own transaction');
    return found;
  }
}
