import { Module } from '@nestjs/common';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { ToolsDomainModule } from '@keyhaven/domain-tools';
import { IdentityAccountsController } from './accounts.controller';
import { TokenController } from './token.controller';
import { SsoController } from './sso.controller';

/** The identity service: registration, prelogin and the OAuth token endpoint (users and organization API keys), under `/identity`. */
@Module({
  imports: [AuthDomainModule, AdminConsoleDomainModule, ToolsDomainModule],
  controllers: [IdentityAccountsController, TokenController, SsoController],
})
export class IdentityServiceModule {}
