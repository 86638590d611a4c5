import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Database } from '@keyhaven/db';
import { badRequest } from '@keyhaven/contracts';
import { CollectionImportService, type Membership, type Need } from '@keyhaven/domain-admin-console';
import { CipherWriteRepository } from '../ciphers/cipher-access.repository';
import { CipherRepository } from '../ciphers/cipher.repository';
import { toNewCipher } from '../ciphers/new-cipher';
import { PersonalOwnership } from '../ciphers/personal-ownership';
import { FolderRepository } from '../folders/folder.repository';
import { assertActor } from '../org-actor';
import { VaultPush } from '../vault-push';
import { VaultRevisions } from '../vault-revisions';
import type { importRequestSchema, orgImportSchema } from './import-request';

/** Who may import into an organization: the route's `@OrgPermission` declares the same. */
export const ORG_IMPORTERS: readonly Need[] = ['admin', 'accessImportExport'];

/**
 * Items per insert statement. The embedded database runs each statement synchronously on the event loop,
 * so a large file is written in statements of this many items (with a turn of the loop between them).
 */
const ITEMS_PER_STATEMENT = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += ITEMS_PER_STATEMENT) out.push(items.slice(i, i + ITEMS_PER_STATEMENT));
  return out;
}

/**
 * Bitwarden JSON imports, personal or into an organization: each lands whole or not at all, in a
 * number of statements that grows only by one per ITEMS_PER_STATEMENT items.
 */
@Injectable()
export class ImportService {
  constructor(
    private readonly db: Database,
    private readonly ciphers: CipherRepository,
    private readonly writes: CipherWriteRepository,
    private readonly folders: FolderRepository,
    private readonly ownership: PersonalOwnership,
    private readonly collections: CollectionImportService,
    private readonly revisions: VaultRevisions,
    private readonly push: VaultPush,
  ) {}

  async importPersonal(userId: string, body: z.infer<typeof importRequestSchema>): Promise<void> {
    if (body.ciphers.some((c) => c.organizationId))
      throw badRequest('Organization items cannot be imported into a personal vault.');
    await this.ownership.assertAllowed(userId);
    await this.db.transaction(async () => {
      // A folder id from the file that this user already has is reused; any other entry is a new folder.
      const existing = new Set((await this.folders.listForUser(userId)).map((f) => f.id));
      const reused = body.folders.map((f) => (f.id && existing.has(f.id) ? f.id : null));
      const created = await this.folders.createMany(
        userId,
        body.folders.flatMap((f, i) => (reused[i] ? [] : [f.name])),
      );
      let next = 0;
      const folderIds = reused.map((id) => id ?? created[next++]);
      const folderOf = new Map<number, string>();
      for (const { key, value } of body.folderRelationships) {
        const folderId = folderIds[value];
        if (key >= body.ciphers.length || folderId === undefined)
          throw badRequest('A folder relationship points outside the import.');
        folderOf.set(key, folderId);
      }
      const ciphers = body.ciphers.map((c, i) => toNewCipher(c, folderOf.get(i) ?? null));
      for (const chunk of chunks(ciphers)) await this.ciphers.insertManyForUser(userId, chunk);
      await this.revisions.user(userId);
    });
    this.push.vault(userId);
  }

  /** Admins, or Custom members allowed to import and export. Collections come from admin-console's service. */
  async importOrganization(actor: Membership, body: z.infer<typeof orgImportSchema>): Promise<void> {
    assertActor(actor, ...ORG_IMPORTERS);
    const organizationId = actor.organizationId;
    await this.db.transaction(async () => {
      const collectionIds = await this.collections.createForImport(organizationId, body.collections);
      const ciphers = body.ciphers.map((c) => toNewCipher(c, null));
      const links: { cipherId: string; collectionId: string }[] = [];
      for (const { key, value } of body.collectionRelationships) {
        const cipher = ciphers[key];
        const collectionId = collectionIds[value];
        if (!cipher || !collectionId) throw badRequest('A collection relationship points outside the import.');
        links.push({ cipherId: cipher.id, collectionId });
      }
      for (const chunk of chunks(ciphers)) {
        const ids = new Set(chunk.map((c) => c.id));
        await this.writes.insertManyForOrg(
          organizationId,
          chunk,
          links.filter((l) => ids.has(l.cipherId)),
        );
      }
      await this.revisions.organization(organizationId);
    });
  }
}
