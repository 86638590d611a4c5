import { Module } from '@nestjs/common';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { CipherAccessRepository, CipherWriteRepository } from './ciphers/cipher-access.repository';
import { CipherRepository } from './ciphers/cipher.repository';
import { FolderRepository } from './folders/folder.repository';
import { PushPublisher } from '@keyhaven/bus';
import { SyncService } from './sync/sync.service';
import { VaultService } from './vault.service';

const providers = [
  CipherAccessRepository,
  CipherWriteRepository,
  CipherRepository,
  FolderRepository,
  PushPublisher,
  SyncService,
  VaultService,
];

@Module({ imports: [AuthDomainModule, AdminConsoleDomainModule], providers, exports: providers })
export class VaultDomainModule {}
