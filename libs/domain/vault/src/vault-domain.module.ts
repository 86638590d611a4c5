import { Module } from '@nestjs/common';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { CipherRepository } from './ciphers/cipher.repository';
import { FolderRepository } from './folders/folder.repository';
import { PushPublisher } from './push';
import { SyncService } from './sync/sync.service';
import { VaultService } from './vault.service';

const providers = [CipherRepository, FolderRepository, PushPublisher, SyncService, VaultService];

@Module({ imports: [AuthDomainModule], providers, exports: providers })
export class VaultDomainModule {}
