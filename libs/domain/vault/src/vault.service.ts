import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database, type Sql } from '@keyhaven/db';
import { badRequest, isWellFormedEncString, notFound } from '@keyhaven/contracts';
import { UserRepository } from '@keyhaven/domain-auth';
import { cipherJson, type Cipher } from './ciphers/cipher';
import { CipherRepository, type NewCipher } from './ciphers/cipher.repository';
import { cipherData, cipherRequestSchema, type CipherRequest } from './ciphers/cipher-request';
import { FolderRepository, type Folder } from './folders/folder.repository';
import { PushPublisher, PushType } from './push';

export const folderRequestSchema = z.object({
  name: z.string().max(10_000).refine(isWellFormedEncString, { message: 'must be a valid encrypted string' }),
  id: z.uuid().nullish(),
});

export const importRequestSchema = z.object({
  ciphers: z.array(cipherRequestSchema).max(50_000),
  folders: z.array(folderRequestSchema).max(10_000).default([]),
  folderRelationships: z.array(z.object({ key: z.number().int().min(0), value: z.number().int().min(0) })).default([]),
});

export const idsSchema = z.object({ ids: z.array(z.uuid()).max(10_000) });
export const moveSchema = idsSchema.extend({ folderId: z.uuid().nullish() });
export const partialSchema = z.object({ folderId: z.uuid().nullish(), favorite: z.boolean().nullish() });

export function folderJson(folder: Folder): Record<string, unknown> {
  return { id: folder.id, name: folder.name, revisionDate: folder.revisionDate.toISOString(), object: 'folder' };
}

/** The personal vault's commands. Each changes its rows in one transaction and bumps the account revision. */
@Injectable()
export class VaultService {
  constructor(
    private readonly db: Database,
    private readonly ciphers: CipherRepository,
    private readonly folders: FolderRepository,
    private readonly users: UserRepository,
    private readonly push: PushPublisher,
  ) {}

  private async requireFolder(userId: string, folderId: string | null | undefined, sql: Sql): Promise<string | null> {
    if (!folderId) return null;
    if (!(await this.folders.findForUser(folderId, userId, sql)))
      throw badRequest('Invalid folder.', { folderId: ['Folder not found.'] });
    return folderId;
  }

  private toNewCipher(request: CipherRequest, folderId: string | null, id: string = randomUUID()): NewCipher {
    return {
      id,
      type: request.type,
      data: cipherData(request),
      key: request.key ?? null,
      reprompt: request.reprompt ?? 0,
      folderId,
      favorite: request.favorite ?? false,
      archivedDate: request.archivedDate ? new Date(request.archivedDate) : null,
    };
  }

  async getCipher(userId: string, id: string): Promise<Cipher> {
    const cipher = await this.ciphers.findForUser(id, userId);
    if (!cipher) throw notFound('Cipher');
    return cipher;
  }

  async createCipher(
    userId: string,
    deviceId: string | null,
    request: CipherRequest,
  ): Promise<Record<string, unknown>> {
    if (request.organizationId) throw badRequest('Organization items are created through the organization vault.');
    const cipher = await this.db.transaction(async (tx) => {
      const folderId = await this.requireFolder(userId, request.folderId, tx);
      const created = this.toNewCipher(request, folderId);
      await this.ciphers.insertForUser(userId, created, tx);
      await this.users.touchAccountRevision(userId, tx);
      return this.mustFind(created.id, userId, tx);
    });
    this.pushCipher(PushType.SyncCipherCreate, userId, deviceId, cipher);
    return cipherJson(cipher);
  }

  async updateCipher(
    userId: string,
    deviceId: string | null,
    id: string,
    request: CipherRequest,
  ): Promise<Record<string, unknown>> {
    const cipher = await this.db.transaction(async (tx) => {
      const existing = await this.ciphers.findForUser(id, userId, tx);
      if (!existing) throw notFound('Cipher');
      if (request.lastKnownRevisionDate) {
        const known = new Date(request.lastKnownRevisionDate).getTime();
        // Clients send second precision at times; only a clearly newer server copy is a conflict.
        if (Number.isFinite(known) && existing.revisionDate.getTime() - known > 1000) {
          throw badRequest('The client copy of this cipher is out of date. Resync the client and try again.');
        }
      }
      if (request.organizationId && request.organizationId !== existing.organizationId) {
        throw badRequest('Use the share endpoint to move an item into an organization.');
      }
      const folderId = await this.requireFolder(userId, request.folderId, tx);
      const next = this.toNewCipher(request, folderId, id);
      await this.ciphers.updateForUser(id, userId, next, tx);
      await this.ciphers.setUserState(userId, [id], folderId, next.favorite, tx);
      await this.users.touchAccountRevision(userId, tx);
      return this.mustFind(id, userId, tx);
    });
    this.pushCipher(PushType.SyncCipherUpdate, userId, deviceId, cipher);
    return cipherJson(cipher);
  }

  /** Folder and favourite only: what a user may change on an item they cannot edit. */
  async partialUpdate(
    userId: string,
    id: string,
    body: z.infer<typeof partialSchema>,
  ): Promise<Record<string, unknown>> {
    const cipher = await this.db.transaction(async (tx) => {
      if (!(await this.ciphers.findForUser(id, userId, tx))) throw notFound('Cipher');
      const folderId = await this.requireFolder(userId, body.folderId, tx);
      await this.ciphers.setUserState(userId, [id], folderId, body.favorite ?? false, tx);
      await this.ciphers.touchForUser([id], userId, tx);
      await this.users.touchAccountRevision(userId, tx);
      return this.mustFind(id, userId, tx);
    });
    return cipherJson(cipher);
  }

  async softDelete(userId: string, deviceId: string | null, ids: string[]): Promise<void> {
    const changed = await this.changeMany(userId, ids, (tx) => this.ciphers.softDeleteForUser(ids, userId, tx));
    for (const id of changed)
      this.push.publish({
        type: PushType.SyncCipherUpdate,
        userId,
        contextId: deviceId,
        payload: { Id: id, UserId: userId },
      });
  }

  async restore(userId: string, ids: string[]): Promise<Cipher[]> {
    const changed = await this.changeMany(userId, ids, (tx) => this.ciphers.restoreForUser(ids, userId, tx));
    return this.ciphers.findManyForUser(changed, userId);
  }

  async deletePermanently(userId: string, deviceId: string | null, ids: string[]): Promise<void> {
    const changed = await this.changeMany(userId, ids, (tx) => this.ciphers.deleteForUser(ids, userId, tx));
    for (const id of changed)
      this.push.publish({
        type: PushType.SyncLoginDelete,
        userId,
        contextId: deviceId,
        payload: { Id: id, UserId: userId },
      });
  }

  async move(userId: string, ids: string[], folderId: string | null | undefined): Promise<void> {
    const changed = await this.changeMany(userId, ids, async (tx) => {
      const target = await this.requireFolder(userId, folderId, tx);
      const owned = (await this.ciphers.findManyForUser(ids, userId, tx)).map((c) => c.id);
      await this.ciphers.setUserState(userId, owned, target, null, tx);
      await this.ciphers.touchForUser(owned, userId, tx);
      return owned;
    });
    if (changed.length > 0)
      this.push.publish({
        type: PushType.SyncCiphers,
        userId,
        contextId: null,
        payload: { UserId: userId, Date: new Date() },
      });
  }

  async purge(userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.ciphers.deleteAllForUser(userId, tx);
      await this.folders.deleteAllForUser(userId, tx);
      await this.users.touchAccountRevision(userId, tx);
    });
    this.push.publish({
      type: PushType.SyncVault,
      userId,
      contextId: null,
      payload: { UserId: userId, Date: new Date() },
    });
  }

  /** Folders and items in one transaction: an import lands whole or not at all. */
  async importPersonal(userId: string, body: z.infer<typeof importRequestSchema>): Promise<void> {
    if (body.ciphers.some((c) => c.organizationId))
      throw badRequest('Organization items cannot be imported into a personal vault.');
    await this.db.transaction(async (tx) => {
      const existing = new Set((await this.folders.listForUser(userId, tx)).map((f) => f.id));
      const folderIds: string[] = [];
      for (const folder of body.folders) {
        // A folder id from the file that this user already has is reused; any other id is new to us.
        if (folder.id && existing.has(folder.id)) folderIds.push(folder.id);
        else folderIds.push((await this.folders.create(userId, folder.name, tx)).id);
      }
      const folderOf = new Map<number, string>();
      for (const { key, value } of body.folderRelationships) {
        const folderId = folderIds[value];
        if (key >= body.ciphers.length || folderId === undefined)
          throw badRequest('A folder relationship points outside the import.');
        folderOf.set(key, folderId);
      }
      const ciphers = body.ciphers.map((c, i) => this.toNewCipher(c, folderOf.get(i) ?? null));
      await this.ciphers.insertManyForUser(userId, ciphers, tx);
      await this.users.touchAccountRevision(userId, tx);
    });
    this.push.publish({
      type: PushType.SyncVault,
      userId,
      contextId: null,
      payload: { UserId: userId, Date: new Date() },
    });
  }

  async createFolder(userId: string, name: string): Promise<Folder> {
    const folder = await this.db.transaction(async (tx) => {
      const created = await this.folders.create(userId, name, tx);
      await this.users.touchAccountRevision(userId, tx);
      return created;
    });
    this.push.publish({
      type: PushType.SyncFolderCreate,
      userId,
      contextId: null,
      payload: { Id: folder.id, UserId: userId, RevisionDate: folder.revisionDate },
    });
    return folder;
  }

  async renameFolder(userId: string, id: string, name: string): Promise<Folder> {
    const folder = await this.folders.renameForUser(id, userId, name);
    if (!folder) throw notFound('Folder');
    await this.users.touchAccountRevision(userId);
    this.push.publish({
      type: PushType.SyncFolderUpdate,
      userId,
      contextId: null,
      payload: { Id: folder.id, UserId: userId, RevisionDate: folder.revisionDate },
    });
    return folder;
  }

  async deleteFolder(userId: string, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (!(await this.folders.deleteForUser(id, userId, tx))) throw notFound('Folder');
      await this.users.touchAccountRevision(userId, tx);
    });
    this.push.publish({
      type: PushType.SyncFolderDelete,
      userId,
      contextId: null,
      payload: { Id: id, UserId: userId, RevisionDate: new Date() },
    });
  }

  async getFolder(userId: string, id: string): Promise<Folder> {
    const folder = await this.folders.findForUser(id, userId);
    if (!folder) throw notFound('Folder');
    return folder;
  }

  /** A bulk change in one transaction; the account revision moves only when some item really changed. */
  private async changeMany(userId: string, ids: string[], change: (tx: Sql) => Promise<string[]>): Promise<string[]> {
    if (ids.length === 0) throw badRequest('No items given.', { ids: ['At least one id is required.'] });
    return this.db.transaction(async (tx) => {
      const changed = await change(tx);
      if (changed.length > 0) await this.users.touchAccountRevision(userId, tx);
      return changed;
    });
  }

  private async mustFind(id: string, userId: string, tx: Sql): Promise<Cipher> {
    const cipher = await this.ciphers.findForUser(id, userId, tx);
    if (!cipher) throw new Error('cipher vanished inside its own transaction');
    return cipher;
  }

  private pushCipher(type: number, userId: string, deviceId: string | null, cipher: Cipher): void {
    this.push.publish({
      type,
      userId,
      contextId: deviceId,
      payload: {
        Id: cipher.id,
        UserId: userId,
        OrganizationId: null,
        CollectionIds: null,
        RevisionDate: cipher.revisionDate,
      },
    });
  }
}
