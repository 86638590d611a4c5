import { Controller, Get, Header, Inject, Param, UseGuards } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { ParseGuidPipe } from '@keyhaven/http';
import { Public } from '@keyhaven/platform-auth';
import {
  ScimError,
  resourceTypes,
  schemas,
  scimBaseUrl,
  scimListJson,
  serviceProviderConfig,
} from '@keyhaven/domain-admin-console';
import { ScimKeyGuard } from './scim-key.guard';
import { SCIM_MEDIA_TYPE } from './scim.controller';

function one(list: Record<string, unknown>[], id: string): Record<string, unknown> {
  const found = list.find((r) => String(r['id']).toLowerCase() === id.toLowerCase());
  if (!found) throw new ScimError(404, 'Resource not found.');
  return found;
}

/**
 * RFC 7644 §4 discovery, per organization and behind the same key (clients configure one base URL).
 * The documents are static: they describe exactly what the Users and Groups endpoints do.
 */
@Controller('v2/:orgId')
@Public()
@UseGuards(ScimKeyGuard)
export class ScimDiscoveryController {
  constructor(@Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig) {}

  @Get('ServiceProviderConfig')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  serviceProviderConfig(@Param('orgId', ParseGuidPipe) orgId: string): Record<string, unknown> {
    return serviceProviderConfig(scimBaseUrl(this.config.DOMAIN, orgId));
  }

  @Get('ResourceTypes')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  resourceTypes(@Param('orgId', ParseGuidPipe) orgId: string): Record<string, unknown> {
    const list = resourceTypes(scimBaseUrl(this.config.DOMAIN, orgId));
    return scimListJson(list, list.length, 1);
  }

  @Get('ResourceTypes/:id')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  resourceType(@Param('orgId', ParseGuidPipe) orgId: string, @Param('id') id: string): Record<string, unknown> {
    return one(resourceTypes(scimBaseUrl(this.config.DOMAIN, orgId)), id);
  }

  @Get('Schemas')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  schemas(@Param('orgId', ParseGuidPipe) orgId: string): Record<string, unknown> {
    const list = schemas(scimBaseUrl(this.config.DOMAIN, orgId));
    return scimListJson(list, list.length, 1);
  }

  @Get('Schemas/:id')
  @Header('Content-Type', SCIM_MEDIA_TYPE)
  schema(@Param('orgId', ParseGuidPipe) orgId: string, @Param('id') id: string): Record<string, unknown> {
    return one(schemas(scimBaseUrl(this.config.DOMAIN, orgId)), id);
  }
}
