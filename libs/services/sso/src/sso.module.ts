import { Module } from '@nestjs/common';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { OidcCallbackController } from './oidc-callback.controller';
import { SamlController } from './saml.controller';

/** The sso service: the IdP-facing callbacks, mounted under `/sso` both in the all-in-one server and as its own app. */
@Module({
  imports: [AuthDomainModule, AdminConsoleDomainModule],
  controllers: [OidcCallbackController, SamlController],
})
export class SsoServiceModule {}
