import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';
import { PushType, badRequest, notFound } from '@keyhaven/contracts';
import { VaultPush } from '../vault-push';
import { VaultRevisions } from '../vault-revisions';
import { FolderRepository, type Folder } from './folder.repository';

/** A user's folders: each change bumps the account revision and tells the user's other clients. */
@Injectable()
export class FolderService {
  constructor(
    private readonly db: Database,
    private readonly folders: FolderRepository,
    private readonly revisions: VaultRevisions,
    private readonly push: VaultPush,
  ) {}

  list(userId: string): Promise<Folder[]> {
    return this.folders.listForUser(userId);
  }

  async getFolder(userId: string, id: string): Promise<Folder> {
    const folder = await this.folders.findForUser(id, userId);
    if (!folder) throw notFound('Folder');
    return folder;
  }

  /** The folder an item is filed into: null for none, 400 when it is not the user's. */
  async requireOwn(userId: string, folderId: string | null | undefined): Promise<string | null> {
    if (!folderId) return null;
    if (!(await this.folders.findForUser(folderId, userId)))
      throw badRequest('Invalid folder.', { folderId: ['Folder not found.'] });
    return folderId;
  }

  /** `contextId`: the acting client's device identifier, which the pushes carry. */
  async createFolder(userId: string, name: string, contextId: string | null = null): Promise<Folder> {
    const folder = await this.db.transaction(async () => {
      const created = await this.folders.create(userId, name);
      await this.revisions.user(userId);
      return created;
    });
    this.push.folder(PushType.SyncFolderCreate, userId, folder.id, folder.revisionDate, contextId);
    return folder;
  }

  async renameFolder(userId: string, id: string, name: string, contextId: string | null = null): Promise<Folder> {
    const folder = await this.db.transaction(async () => {
      const renamed = await this.folders.renameForUser(id, userId, name);
      if (!renamed) throw notFound('Folder');
      await this.revisions.user(userId);
      return renamed;
    });
    this.push.folder(PushType.SyncFolderUpdate, userId, folder.id, folder.revisionDate, contextId);
    return folder;
  }

  async deleteFolder(userId: string, id: string, contextId: string | null = null): Promise<void> {
    await this.db.transaction(async () => {
      if (!(await this.folders.deleteForUser(id, userId))) throw notFound('Folder');
      await this.revisions.user(userId);
    });
    this.push.folder(PushType.SyncFolderDelete, userId, id, new Date(), contextId);
  }
}
