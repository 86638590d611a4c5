import { Module } from '@nestjs/common';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { VaultDomainModule } from '@keyhaven/domain-vault';
import { AccountsController } from './accounts/accounts.controller';
import { DevicesController } from './accounts/devices.controller';
import { SettingsController } from './accounts/settings.controller';
import { TwoFactorController } from './accounts/two-factor.controller';
import { ConfigController } from './config.controller';
import { CiphersController } from './vault/ciphers.controller';
import { FoldersController } from './vault/folders.controller';
import { SyncController } from './vault/sync.controller';

/** The API service: accounts, vault and sync, under `/api`. */
@Module({
  imports: [AuthDomainModule, VaultDomainModule],
  controllers: [
    ConfigController,
    AccountsController,
    TwoFactorController,
    DevicesController,
    SettingsController,
    SyncController,
    FoldersController,
    CiphersController,
  ],
})
export class ApiServiceModule {}
