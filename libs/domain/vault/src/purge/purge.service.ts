import { Injectable } from '@nestjs/common';
import { EventType } from '@keyhaven/contracts';
import { Database, EventRecorder } from '@keyhaven/db';
import { AccountsService } from '@keyhaven/domain-auth';
import { OrgAccess } from '@keyhaven/domain-admin-console';
import { AttachmentBlobs } from '../attachments/attachment-blobs';
import { CipherWriteRepository } from '../ciphers/cipher-access.repository';
import { CipherRepository } from '../ciphers/cipher.repository';
import { FolderRepository } from '../folders/folder.repository';
import { VaultPush } from '../vault-push';
import { VaultRevisions } from '../vault-revisions';

/** `POST ciphers/purge`: the personal vault, or every item of an organization (owners only). */
@Injectable()
export class PurgeService {
  constructor(
    private readonly db: Database,
    private readonly ciphers: CipherRepository,
    private readonly writes: CipherWriteRepository,
    private readonly folders: FolderRepository,
    private readonly accounts: AccountsService,
    private readonly orgAccess: OrgAccess,
    private readonly revisions: VaultRevisions,
    private readonly push: VaultPush,
    private readonly attachmentFiles: AttachmentBlobs,
    private readonly events: EventRecorder,
  ) {}

  /** The master password first; with an organization id, the caller must own that organization. */
  async purgeWithPassword(
    userId: string,
    masterPasswordHash: string | null | undefined,
    organizationId: string | null,
  ): Promise<void> {
    await this.accounts.verifyMasterPassword(userId, masterPasswordHash);
    if (organizationId) {
      await this.orgAccess.require(organizationId, userId, 'owner');
      await this.purgeOrganization(organizationId);
    } else {
      await this.purge(userId);
    }
  }

  /** Every personal item and folder of the user; organization items stay. */
  async purge(userId: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.ciphers.deleteAllForUser(userId);
      await this.folders.deleteAllForUser(userId);
      await this.revisions.user(userId);
    });
    this.attachmentFiles.drainSoon(); // the purged items' files, queued by the same transaction
    this.push.vault(userId);
  }

  /** Every item of the organization; recorded in its event log, and every member's clients run a full sync. */
  async purgeOrganization(organizationId: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.writes.purgeOrg(organizationId);
      await this.revisions.organization(organizationId);
      await this.events.record({ type: EventType.Organization_PurgedVault, organizationId });
    });
    this.attachmentFiles.drainSoon();
    // The items left every member's vault at once, as when collections are deleted: one org-wide SyncVault.
    await this.push.organizationVault(organizationId);
  }
}
