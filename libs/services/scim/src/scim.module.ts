import { Module } from '@nestjs/common';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { ScimDiscoveryController } from './scim-discovery.controller';
import { ScimGroupsController, ScimUsersController } from './scim.controller';
import { ScimKeyGuard } from './scim-key.guard';

/**
 * The scim service: `/scim/v2/{organizationId}/…`, mounted under `/scim` both in the all-in-one
 * server and as its own app (apps/scim). Authenticated by the organization's SCIM key, not by tokens.
 */
@Module({
  imports: [AdminConsoleDomainModule],
  controllers: [ScimUsersController, ScimGroupsController, ScimDiscoveryController],
  providers: [ScimKeyGuard],
})
export class ScimServiceModule {}
