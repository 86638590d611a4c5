import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database } from '@keyhaven/db';
import { badRequest } from '@keyhaven/contracts';
import { CollectionImportService, type Membership, type Need } from '@keyhaven/domain-admin-console';
import type { CipherRequest } from '../ciphers/cipher-request';
import { toNewCipher } from '../ciphers/new-cipher';
import { PersonalOwnership } from '../ciphers/personal-ownership';
import { FolderRepository } from '../folders/folder.repository';
import { assertActor } from '../org-actor';
import { VaultPush } from '../vault-push';
import { VaultRevisions } from '../vault-revisions';
import type { importRequestSchema, orgImportSchema } from './import-request';
import { ImportStagingRepository } from './import-staging.repository';

/** Who may import into an organization: the route's `@OrgPermission` declares the same. */
export const ORG_IMPORTERS: readonly Need[] = ['admin', 'accessImportExport'];

/**
 * Items per staging statement. Each statement runs on its own, so on the embedded database (one
 * connection, statements run on the event loop) other requests get a turn between two of them; every
 * query of another user's sync may wait for one, so they stay short (100 items of 4 KiB took about
 * 40 ms on an idle machine, 250 took up to 300 ms under load).
 */
const ITEMS_PER_STATEMENT = 100;

/**
 * Bitwarden JSON imports, personal or into an organization, each landing whole or not at all. The items
 * are first written ownerless (invisible) in short statements outside any transaction; one transaction
 * then creates the folders or collections, gives the items their owner and files them, with set-based
 * statements that do not copy the encrypted data again. A large file therefore holds the database (the
 * embedded one has a single connection, and runs each statement on the event loop) only briefly at a
 * time. An import that fails leaves nothing: its ownerless items and stage rows are removed.
 */
@Injectable()
export class ImportService {
  constructor(
    private readonly db: Database,
    private readonly staging: ImportStagingRepository,
    private readonly folders: FolderRepository,
    private readonly ownership: PersonalOwnership,
    private readonly collections: CollectionImportService,
    private readonly revisions: VaultRevisions,
    private readonly push: VaultPush,
  ) {}

  async importPersonal(userId: string, body: z.infer<typeof importRequestSchema>): Promise<void> {
    if (body.ciphers.some((c) => c.organizationId))
      throw badRequest('Organization items cannot be imported into a personal vault.');
    const folderOf = new Map<number, number>();
    for (const { key, value } of body.folderRelationships) {
      if (key >= body.ciphers.length || value >= body.folders.length)
        throw badRequest('A folder relationship points outside the import.');
      folderOf.set(key, value);
    }
    await this.ownership.assertAllowed(userId);
    await this.staged(
      body.ciphers.map((c, i) => ({ request: c, folderIndex: folderOf.get(i) ?? null, collectionIndexes: [] })),
      async (importId, slices) => {
        // A folder id from the file that this user already has is reused; any other entry is a new folder.
        const existing = new Set((await this.folders.listForUser(userId)).map((f) => f.id));
        const reused = body.folders.map((f) => (f.id && existing.has(f.id) ? f.id : null));
        const created = await this.folders.createMany(
          userId,
          body.folders.flatMap((f, i) => (reused[i] ? [] : [f.name])),
        );
        let next = 0;
        const folderIds = reused.map((id) => id ?? created[next++] ?? '');
        await this.staging.landForUser(importId, slices, userId, folderIds);
        await this.revisions.user(userId);
      },
    );
    this.push.vault(userId);
  }

  /** Admins, or Custom members allowed to import and export. Collections come from admin-console's service. */
  async importOrganization(actor: Membership, body: z.infer<typeof orgImportSchema>): Promise<void> {
    assertActor(actor, ...ORG_IMPORTERS);
    const organizationId = actor.organizationId;
    const collectionsOf = new Map<number, number[]>();
    for (const { key, value } of body.collectionRelationships) {
      if (key >= body.ciphers.length || value >= body.collections.length)
        throw badRequest('A collection relationship points outside the import.');
      collectionsOf.set(key, [...(collectionsOf.get(key) ?? []), value]);
    }
    await this.staged(
      body.ciphers.map((c, i) => ({ request: c, folderIndex: null, collectionIndexes: collectionsOf.get(i) ?? [] })),
      async (importId, slices) => {
        const collectionIds = await this.collections.createForImport(organizationId, body.collections);
        await this.staging.landForOrganization(importId, slices, organizationId, collectionIds);
        await this.revisions.organization(organizationId);
      },
    );
    await this.push.organizationVault(organizationId);
  }

  /** Stages the items a statement at a time, then runs `land` in one transaction; the stage is emptied after. */
  private async staged(
    items: readonly { request: CipherRequest; folderIndex: number | null; collectionIndexes: number[] }[],
    land: (importId: string, slices: readonly (readonly string[])[]) => Promise<void>,
  ): Promise<void> {
    const importId = randomUUID();
    const now = new Date();
    try {
      for (let i = 0; i < items.length; i += ITEMS_PER_STATEMENT) {
        const chunk = items.slice(i, i + ITEMS_PER_STATEMENT).map((item) => ({
          ...toNewCipher(item.request, null),
          folderIndex: item.folderIndex,
          collectionIndexes: item.collectionIndexes,
        }));
        await this.staging.stage(importId, chunk, now);
      }
      const slices = await this.staging.stagedSlices(importId);
      await this.db.transaction(() => land(importId, slices));
    } finally {
      await this.staging.discard(importId);
    }
  }
}
