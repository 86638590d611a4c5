import { Body, Controller, Delete, Get, HttpCode, Ip, Param, Post } from '@nestjs/common';
import { ParseGuidPipe } from '@keyhaven/http';
import { listJson, parseBody } from '@keyhaven/contracts';
import {
  OrganizationDomainsService,
  domainCreateSchema,
  domainLookupSchema,
  organizationDomainJson,
  verifiedDomainSsoJson,
  type Membership,
} from '@keyhaven/domain-admin-console';
import { OrgMember, OrgPermission, Public } from '@keyhaven/platform-auth';

/** Claimed domains of an organization (`manageSso`; reading also with `managePolicies`). */
@Controller('organizations/:orgId/domain')
export class OrganizationDomainsController {
  constructor(private readonly domains: OrganizationDomainsService) {}

  @Get()
  @OrgPermission('manageSso', 'managePolicies')
  async list(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return listJson((await this.domains.list(actor.organizationId)).map(organizationDomainJson));
  }

  @Get(':id')
  @OrgPermission('manageSso', 'managePolicies')
  async get(@OrgMember() actor: Membership, @Param('id', ParseGuidPipe) id: string): Promise<Record<string, unknown>> {
    return organizationDomainJson(await this.domains.get(actor.organizationId, id));
  }

  @Post()
  @HttpCode(200)
  @OrgPermission('manageSso')
  async create(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    return organizationDomainJson(await this.domains.create(actor.organizationId, parseBody(domainCreateSchema, body)));
  }

  @Post(':id/verify')
  @HttpCode(200)
  @OrgPermission('manageSso')
  async verify(
    @OrgMember() actor: Membership,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return organizationDomainJson(await this.domains.verify(actor.organizationId, id));
  }

  /** `POST …/{id}/remove` is the obsolete alias older clients still send. */
  @Delete(':id')
  @OrgPermission('manageSso')
  async remove(@OrgMember() actor: Membership, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.domains.remove(actor.organizationId, id);
  }

  @Post(':id/remove')
  @HttpCode(200)
  @OrgPermission('manageSso')
  async removeAlias(@OrgMember() actor: Membership, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.domains.remove(actor.organizationId, id);
  }
}

/** The web vault's and mobile's "which organization's SSO covers this email": anonymous. */
@Controller('organizations/domain')
export class OrganizationDomainLookupController {
  constructor(private readonly domains: OrganizationDomainsService) {}

  @Public()
  @Post('sso/verified')
  @HttpCode(200)
  async verified(@Body() body: unknown, @Ip() ip: string): Promise<Record<string, unknown>> {
    return listJson(
      (await this.domains.ssoVerified(parseBody(domainLookupSchema, body), ip)).map(verifiedDomainSsoJson),
    );
  }
}
