import { Module } from '@nestjs/common';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { IdentityAccountsController } from './accounts.controller';
import { TokenController } from './token.controller';

/** The identity service: registration, prelogin and the OAuth token endpoint, under `/identity`. */
@Module({ imports: [AuthDomainModule], controllers: [IdentityAccountsController, TokenController] })
export class IdentityServiceModule {}
