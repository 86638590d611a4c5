import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { parseBody } from '@keyhaven/contracts';
import {
  OrgAccess,
  OrganizationsService,
  createOrganizationSchema,
  organizationJson,
  secretSchema,
  updateOrganizationSchema,
} from '@keyhaven/domain-admin-console';
import { CollectionRepository, collectionJson } from '@keyhaven/domain-admin-console';
import { CipherAccessRepository, accessibleCipherJson } from '@keyhaven/domain-vault';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

@Controller('organizations')
export class OrganizationsController {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly access: OrgAccess,
    private readonly collections: CollectionRepository,
    private readonly ciphers: CipherAccessRepository,
  ) {}

  @Post()
  @HttpCode(200)
  async create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return organizationJson(
      await this.organizations.create(principal.userId, parseBody(createOrganizationSchema, body)),
    );
  }

  @Get(':orgId')
  async get(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'admin');
    return organizationJson(await this.organizations.require(orgId));
  }

  @Put(':orgId')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'owner');
    return organizationJson(await this.organizations.update(orgId, parseBody(updateOrganizationSchema, body)));
  }

  @Delete(':orgId')
  @HttpCode(200)
  async delete(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.access.require(orgId, principal.userId, 'owner');
    await this.organizations.delete(orgId, principal.userId, parseBody(secretSchema, body));
  }

  @Post(':orgId/delete')
  @HttpCode(200)
  async deletePost(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.delete(principal, orgId, body);
  }

  @Post(':orgId/leave')
  @HttpCode(200)
  async leave(@CurrentUser() principal: Principal, @Param('orgId', ParseGuidPipe) orgId: string): Promise<void> {
    await this.organizations.leave(await this.access.require(orgId, principal.userId));
  }

  @Get(':orgId/keys')
  async keys(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId);
    const org = await this.organizations.require(orgId);
    return { publicKey: org.publicKey, privateKey: org.privateKey, object: 'organizationKeys' };
  }

  @Post(':orgId/api-key')
  @HttpCode(200)
  async apiKey(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'owner');
    const apiKey = await this.organizations.apiKey(orgId, principal.userId, parseBody(secretSchema, body), false);
    return { apiKey, revisionDate: new Date().toISOString(), object: 'apiKey' };
  }

  @Post(':orgId/rotate-api-key')
  @HttpCode(200)
  async rotateApiKey(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'owner');
    const apiKey = await this.organizations.apiKey(orgId, principal.userId, parseBody(secretSchema, body), true);
    return { apiKey, revisionDate: new Date().toISOString(), object: 'apiKey' };
  }

  /** Every collection and item of the organization; each item carries an explicit `deletedDate: null`. */
  @Get(':orgId/export')
  async export(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'admin', 'accessImportExport');
    const [collections, ciphers] = await Promise.all([
      this.collections.listForOrg(orgId),
      this.ciphers.listForOrg(orgId),
    ]);
    return {
      collections: collections.map(collectionJson),
      ciphers: ciphers.filter((c) => c.cipher.deletedDate === null).map(accessibleCipherJson),
    };
  }
}
