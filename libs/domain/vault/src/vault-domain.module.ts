import { Module } from '@nestjs/common';
import { PushPublisher } from '@keyhaven/bus';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { AdminConsoleDomainModule, CollectionImportModule } from '@keyhaven/domain-admin-console';
import { AttachmentBlobs } from './attachments/attachment-blobs';
import { AttachmentCleanupJob } from './attachments/attachment-cleanup.job';
import { AttachmentService } from './attachments/attachment.service';
import { AttachmentRepository } from './attachments/attachment.repository';
import { AttachmentStorage } from './attachments/attachment-storage';
import { AttachmentUrls } from './attachments/attachment-urls';
import { BulkCipherService } from './ciphers/bulk-cipher.service';
import { CipherAccessRepository, CipherWriteRepository } from './ciphers/cipher-access.repository';
import { CipherAudienceRepository } from './ciphers/cipher-audience.repository';
import { CipherService } from './ciphers/cipher.service';
import { CipherRepository } from './ciphers/cipher.repository';
import { PersonalOwnership } from './ciphers/personal-ownership';
import { EmergencyVaultService } from './emergency/emergency-vault.service';
import { FolderRepository } from './folders/folder.repository';
import { FolderService } from './folders/folder.service';
import { ImportStagingRepository } from './import/import-staging.repository';
import { ImportService } from './import/import.service';
import { PurgeService } from './purge/purge.service';
import { SharingService } from './sharing/sharing.service';
import { SyncService } from './sync/sync.service';
import { VaultPush } from './vault-push';
import { VaultRevisions } from './vault-revisions';

/** What controllers and other domains use: the services (and the read repository the org views share). */
const services = [
  AttachmentService,
  AttachmentStorage,
  BulkCipherService,
  CipherService,
  EmergencyVaultService,
  FolderService,
  ImportService,
  PurgeService,
  SharingService,
  SyncService,
  CipherAccessRepository,
];

const internals = [
  AttachmentBlobs,
  AttachmentCleanupJob,
  AttachmentRepository,
  AttachmentUrls,
  CipherAudienceRepository,
  CipherRepository,
  CipherWriteRepository,
  FolderRepository,
  ImportStagingRepository,
  PersonalOwnership,
  PushPublisher,
  VaultPush,
  VaultRevisions,
];

@Module({
  imports: [AuthDomainModule, AdminConsoleDomainModule, CollectionImportModule],
  providers: [...services, ...internals],
  exports: services,
})
export class VaultDomainModule {}
