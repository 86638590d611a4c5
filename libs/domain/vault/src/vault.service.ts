import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database } from '@keyhaven/db';
import { badRequest, isWellFormedEncString, notFound, guid } from '@keyhaven/contracts';
import { UserRepository } from '@keyhaven/domain-auth';
import { MemberType, OrgAccess, PolicyRepository, PolicyType } from '@keyhaven/domain-admin-console';
import { cipherJson, type Cipher } from './ciphers/cipher';
import {
  CipherAccessRepository,
  CipherWriteRepository,
  type AccessibleCipher,
} from './ciphers/cipher-access.repository';
import { CipherRepository, type NewCipher } from './ciphers/cipher.repository';
import { cipherData, cipherRequestSchema, type CipherRequest } from './ciphers/cipher-request';
import { FolderRepository, type Folder } from './folders/folder.repository';
import { PushPublisher } from '@keyhaven/bus';
import { PushType } from '@keyhaven/contracts';

export const folderRequestSchema = z.object({
  name: z.string().max(10_000).refine(isWellFormedEncString, { message: 'must be a valid encrypted string' }),
  id: guid.nullish(),
});

export const importRequestSchema = z.object({
  ciphers: z.array(cipherRequestSchema).max(50_000),
  folders: z.array(folderRequestSchema).max(10_000).default([]),
  folderRelationships: z.array(z.object({ key: z.number().int().min(0), value: z.number().int().min(0) })).default([]),
});

export const orgImportSchema = z.object({
  ciphers: z.array(cipherRequestSchema).max(50_000),
  collections: z
    .array(
      z.object({
        name: z.string().refine(isWellFormedEncString, { message: 'must be a valid encrypted string' }),
        id: guid.nullish(),
        externalId: z.string().max(300).nullish(),
      }),
    )
    .max(10_000)
    .default([]),
  collectionRelationships: z
    .array(z.object({ key: z.number().int().min(0), value: z.number().int().min(0) }))
    .default([]),
});

export const idsSchema = z.object({ ids: z.array(guid).max(10_000) });
export const moveSchema = idsSchema.extend({ folderId: guid.nullish() });
export const shareSchema = z.object({
  cipher: cipherRequestSchema,
  collectionIds: z.array(guid).max(1000).default([]),
});
export const collectionsSchema = z.object({ collectionIds: z.array(guid).max(1000) });
export const partialSchema = z.object({ folderId: guid.nullish(), favorite: z.boolean().nullish() });

export function folderJson(folder: Folder): Record<string, unknown> {
  return { id: folder.id, name: folder.name, revisionDate: folder.revisionDate.toISOString(), object: 'folder' };
}

/**
 * The vault's commands, for personal items and the organization items a user reaches. Each changes
 * its rows in one transaction, scoped in SQL to what the caller may touch, and bumps the revision
 * dates the clients poll.
 */
@Injectable()
export class VaultService {
  constructor(
    private readonly db: Database,
    private readonly ciphers: CipherRepository,
    private readonly access: CipherAccessRepository,
    private readonly writes: CipherWriteRepository,
    private readonly folders: FolderRepository,
    private readonly users: UserRepository,
    private readonly orgAccess: OrgAccess,
    private readonly policies: PolicyRepository,
    private readonly push: PushPublisher,
  ) {}

  private async requireFolder(userId: string, folderId: string | null | undefined): Promise<string | null> {
    if (!folderId) return null;
    if (!(await this.folders.findForUser(folderId, userId)))
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

  /** Personal ownership policy: members it applies to keep items in the organization only. */
  async assertMayOwnPersonalItems(userId: string): Promise<void> {
    const policies = await this.policies.enabledForUser(userId);
    if (
      policies.some(
        (p) =>
          p.type === PolicyType.OrganizationDataOwnership &&
          p.memberType !== MemberType.Owner &&
          p.memberType !== MemberType.Admin,
      )
    ) {
      throw badRequest('Due to an Enterprise Policy, you are restricted from saving items to your personal vault.');
    }
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
    await this.assertMayOwnPersonalItems(userId);
    const found = await this.db.transaction(async () => {
      const folderId = await this.requireFolder(userId, request.folderId);
      const created = this.toNewCipher(request, folderId);
      await this.ciphers.insertForUser(userId, created);
      await this.users.touchAccountRevision(userId);
      return this.mustFind(created.id, userId);
    });
    this.pushCipher(PushType.SyncCipherCreate, userId, deviceId, found.cipher);
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
    const isAdmin = membership.type === MemberType.Owner || membership.type === MemberType.Admin;
    const found = await this.db.transaction(async () => {
      const folderId = await this.requireFolder(userId, request.folderId);
      const created = this.toNewCipher(request, folderId);
      const linked = await this.writes.insertForOrg(userId, organizationId, created.id, created, collectionIds);
      if (linked === 0 && !isAdmin)
        throw badRequest('Choose at least one collection you can edit.', {
          collectionIds: ['No writable collection.'],
        });
      await this.ciphers.setUserState(userId, [created.id], folderId, created.favorite);
      await this.touchOrgMembers(organizationId);
      return this.mustFind(created.id, userId);
    });
    this.pushCipher(PushType.SyncCipherCreate, userId, deviceId, found.cipher);
    return cipherJson(found.cipher, found.access);
  }

  async updateCipher(
    userId: string,
    deviceId: string | null,
    id: string,
    request: CipherRequest,
  ): Promise<Record<string, unknown>> {
    const found = await this.db.transaction(async () => {
      const existing = await this.access.findForUser(id, userId);
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
      const folderId = await this.requireFolder(userId, request.folderId);
      const next = this.toNewCipher(request, folderId, id);
      await this.writes.update(id, userId, next);
      await this.ciphers.setUserState(userId, [id], folderId, next.favorite);
      await this.touchFor(existing.cipher, userId);
      return this.mustFind(id, userId);
    });
    this.pushCipher(PushType.SyncCipherUpdate, userId, deviceId, found.cipher);
    return cipherJson(found.cipher, found.access);
  }

  /** Folder and favourite only: what a user may change on any item they can see. */
  async partialUpdate(
    userId: string,
    id: string,
    body: z.infer<typeof partialSchema>,
  ): Promise<Record<string, unknown>> {
    const found = await this.db.transaction(async () => {
      if (!(await this.access.findForUser(id, userId))) throw notFound('Cipher');
      const folderId = await this.requireFolder(userId, body.folderId);
      await this.ciphers.setUserState(userId, [id], folderId, body.favorite ?? false);
      await this.users.touchAccountRevision(userId);
      return this.mustFind(id, userId);
    });
    return cipherJson(found.cipher, found.access);
  }

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

  /** Every item moves, or none does: one transaction for the whole batch. */
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
    const shared = await this.db.transaction(async () => {
      const results: AccessibleCipher[] = [];
      for (const cipher of ciphers) {
        if (typeof cipher.id !== 'string') throw badRequest('Each item needs its id.');
        const change = this.toNewCipher(cipher, null, cipher.id);
        if (!(await this.writes.share(userId, organizationId, cipher.id, change))) throw notFound('Cipher');
        const linked = await this.writes.addCollections(userId, organizationId, cipher.id, collectionIds);
        if (linked === 0)
          throw badRequest('Choose at least one collection you can edit.', {
            collectionIds: ['No writable collection.'],
          });
        results.push(await this.mustFind(cipher.id, userId));
      }
      await this.touchOrgMembers(organizationId);
      return results;
    });
    for (const found of shared) this.pushCipher(PushType.SyncCipherUpdate, userId, deviceId, found.cipher);
    return shared.map((found) => cipherJson(found.cipher, found.access));
  }

  /**
   * Changes which collections an org item is in; the user must manage the item. Null when the
   * change took the item out of every collection the user reaches.
   */
  async setCollections(userId: string, id: string, collectionIds: string[]): Promise<Record<string, unknown> | null> {
    const found = await this.db.transaction(async () => {
      const existing = await this.access.findForUser(id, userId);
      if (!existing?.cipher.organizationId || !existing.access.manage) throw notFound('Cipher');
      await this.writes.replaceCollections(userId, existing.cipher.organizationId, id, collectionIds);
      await this.touchOrgMembers(existing.cipher.organizationId);
      return this.access.findForUser(id, userId);
    });
    return found ? cipherJson(found.cipher, found.access) : null;
  }

  async softDelete(userId: string, deviceId: string | null, ids: string[]): Promise<void> {
    const changed = await this.changeMany(userId, ids, () => this.writes.softDelete(ids, userId));
    for (const id of changed)
      this.push.publish({
        type: PushType.SyncCipherUpdate,
        userId,
        contextId: deviceId,
        payload: { Id: id, UserId: userId },
      });
  }

  async restore(userId: string, ids: string[]): Promise<AccessibleCipher[]> {
    const changed = await this.changeMany(userId, ids, () => this.writes.restore(ids, userId));
    return this.access.findManyForUser(changed, userId);
  }

  async deletePermanently(userId: string, deviceId: string | null, ids: string[]): Promise<void> {
    const changed = await this.changeMany(userId, ids, () => this.writes.delete(ids, userId));
    for (const id of changed)
      this.push.publish({
        type: PushType.SyncLoginDelete,
        userId,
        contextId: deviceId,
        payload: { Id: id, UserId: userId },
      });
  }

  async move(userId: string, ids: string[], folderId: string | null | undefined): Promise<void> {
    const changed = await this.changeMany(userId, ids, async () => {
      const target = await this.requireFolder(userId, folderId);
      const visible = (await this.access.findManyForUser(ids, userId)).map((c) => c.cipher.id);
      await this.ciphers.setUserState(userId, visible, target, null);
      return visible;
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
    await this.db.transaction(async () => {
      await this.ciphers.deleteAllForUser(userId);
      await this.folders.deleteAllForUser(userId);
      await this.users.touchAccountRevision(userId);
    });
    this.push.publish({
      type: PushType.SyncVault,
      userId,
      contextId: null,
      payload: { UserId: userId, Date: new Date() },
    });
  }

  async purgeOrganization(organizationId: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.writes.purgeOrg(organizationId);
      await this.touchOrgMembers(organizationId);
    });
  }

  /** Folders and items in one transaction: an import lands whole or not at all. */
  async importPersonal(userId: string, body: z.infer<typeof importRequestSchema>): Promise<void> {
    if (body.ciphers.some((c) => c.organizationId))
      throw badRequest('Organization items cannot be imported into a personal vault.');
    await this.assertMayOwnPersonalItems(userId);
    await this.db.transaction(async () => {
      const existing = new Set((await this.folders.listForUser(userId)).map((f) => f.id));
      const folderIds: string[] = [];
      for (const folder of body.folders) {
        // A folder id from the file that this user already has is reused; any other id is new to us.
        if (folder.id && existing.has(folder.id)) folderIds.push(folder.id);
        else folderIds.push((await this.folders.create(userId, folder.name)).id);
      }
      const folderOf = new Map<number, string>();
      for (const { key, value } of body.folderRelationships) {
        const folderId = folderIds[value];
        if (key >= body.ciphers.length || folderId === undefined)
          throw badRequest('A folder relationship points outside the import.');
        folderOf.set(key, folderId);
      }
      const ciphers = body.ciphers.map((c, i) => this.toNewCipher(c, folderOf.get(i) ?? null));
      await this.ciphers.insertManyForUser(userId, ciphers);
      await this.users.touchAccountRevision(userId);
    });
    this.push.publish({
      type: PushType.SyncVault,
      userId,
      contextId: null,
      payload: { UserId: userId, Date: new Date() },
    });
  }

  /** Collections and items straight into the organization, in one transaction. */
  async importOrganization(organizationId: string, body: z.infer<typeof orgImportSchema>): Promise<void> {
    await this.db.transaction(async () => {
      const collectionIds: string[] = [];
      const existing = new Set(
        (
          await this.db.rows<{ id: string }>('SELECT id FROM collection WHERE organization_id = $1', [organizationId])
        ).map((r) => r.id),
      );
      for (const collection of body.collections) {
        if (collection.id && existing.has(collection.id)) {
          collectionIds.push(collection.id);
          continue;
        }
        const id = randomUUID();
        const now = new Date();
        await this.db.execute(
          'INSERT INTO collection (id, organization_id, name, external_id, creation_date, revision_date) VALUES ($1, $2, $3, $4, $5, $5)',
          [id, organizationId, collection.name, collection.externalId ?? null, now],
        );
        collectionIds.push(id);
      }
      const ciphers = body.ciphers.map((c) => ({ ...this.toNewCipher(c, null) }));
      const links: { cipherId: string; collectionId: string }[] = [];
      for (const { key, value } of body.collectionRelationships) {
        const cipher = ciphers[key];
        const collectionId = collectionIds[value];
        if (!cipher || !collectionId) throw badRequest('A collection relationship points outside the import.');
        links.push({ cipherId: cipher.id, collectionId });
      }
      await this.writes.insertManyForOrg(organizationId, ciphers, links);
      await this.touchOrgMembers(organizationId);
    });
  }

  async createFolder(userId: string, name: string): Promise<Folder> {
    const folder = await this.db.transaction(async () => {
      const created = await this.folders.create(userId, name);
      await this.users.touchAccountRevision(userId);
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
    await this.db.transaction(async () => {
      if (!(await this.folders.deleteForUser(id, userId))) throw notFound('Folder');
      await this.users.touchAccountRevision(userId);
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

  /** A bulk change in one transaction; revision dates move only when some item really changed. */
  private async changeMany(userId: string, ids: string[], change: () => Promise<string[]>): Promise<string[]> {
    if (ids.length === 0) throw badRequest('No items given.', { ids: ['At least one id is required.'] });
    return this.db.transaction(async () => {
      // Read the owning organizations first: a permanent delete takes the rows with it.
      const owners = await this.db.rows<{ id: string; organization_id: string }>(
        'SELECT id, organization_id FROM cipher WHERE id = ANY($1::uuid[]) AND organization_id IS NOT NULL',
        [ids],
      );
      const changed = await change();
      if (changed.length > 0) {
        await this.users.touchAccountRevision(userId);
        const organizations = new Set(owners.filter((o) => changed.includes(o.id)).map((o) => o.organization_id));
        for (const organizationId of organizations) await this.touchOrgMembers(organizationId);
      }
      return changed;
    });
  }

  private async touchFor(cipher: Cipher, userId: string): Promise<void> {
    if (cipher.organizationId) await this.touchOrgMembers(cipher.organizationId);
    else await this.users.touchAccountRevision(userId);
  }

  /** Org items changed: every member's clients should sync. */
  private async touchOrgMembers(organizationId: string): Promise<void> {
    await this.db.execute(
      'UPDATE app_user SET account_revision_date = $2 WHERE id IN (SELECT user_id FROM organization_user WHERE organization_id = $1 AND user_id IS NOT NULL)',
      [organizationId, new Date()],
    );
  }

  private async mustFind(id: string, userId: string): Promise<AccessibleCipher> {
    const found = await this.access.findForUser(id, userId);
    if (!found) throw new Error('cipher vanished inside its own transaction');
    return found;
  }

  private pushCipher(type: number, userId: string, deviceId: string | null, cipher: Cipher): void {
    this.push.publish({
      type,
      userId,
      contextId: deviceId,
      payload: {
        Id: cipher.id,
        UserId: userId,
        OrganizationId: cipher.organizationId,
        CollectionIds: null,
        RevisionDate: cipher.revisionDate,
      },
    });
  }
}
