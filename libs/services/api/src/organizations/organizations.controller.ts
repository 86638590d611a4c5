import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Put } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { parseBody } from '@keyhaven/contracts';
import {
  CollectionsService,
  OrganizationsService,
  SCIM_TYPE,
  ScimSetupService,
  apiKeyTypeFor,
  collectionJson,
  createOrganizationSchema,
  organizationJson,
  secretSchema,
  updateOrganizationSchema,
  type Membership,
} from '@keyhaven/domain-admin-console';
import { CipherService, accessibleCipherJson } from '@keyhaven/domain-vault';
import { ExpensiveCall, CurrentUser, OrgMember, OrgPermission, type Principal } from '@keyhaven/platform-auth';

@Controller('organizations')
export class OrganizationsController {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly collections: CollectionsService,
    private readonly ciphers: CipherService,
    private readonly scim: ScimSetupService,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  @Post()
  @HttpCode(200)
  async create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return organizationJson(
      await this.organizations.create(principal.userId, parseBody(createOrganizationSchema, body)),
    );
  }

  @Get(':orgId')
  @OrgPermission('admin')
  async get(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return organizationJson(
      await this.organizations.require(actor.organizationId),
      this.config.ATTACHMENTS_ORG_MAX_STORAGE_GB,
    );
  }

  @Put(':orgId')
  @HttpCode(200)
  @OrgPermission('owner')
  async update(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    return organizationJson(
      await this.organizations.update(actor.organizationId, parseBody(updateOrganizationSchema, body)),
    );
  }

  @Delete(':orgId')
  @HttpCode(200)
  @OrgPermission('owner')
  async delete(@OrgMember() actor: Membership, @Body() body: unknown): Promise<void> {
    await this.organizations.delete(actor.organizationId, actor.userId ?? '', parseBody(secretSchema, body));
  }

  @Post(':orgId/delete')
  @HttpCode(200)
  @OrgPermission('owner')
  async deletePost(@OrgMember() actor: Membership, @Body() body: unknown): Promise<void> {
    await this.delete(actor, body);
  }

  @Post(':orgId/leave')
  @HttpCode(200)
  @OrgPermission('member')
  async leave(@OrgMember() actor: Membership): Promise<void> {
    await this.organizations.leave(actor);
  }

  /** Also before confirmation: a new SSO member wraps their user key to this public key to auto-enrol in account recovery. */
  @Get(':orgId/keys')
  @OrgPermission('joining')
  async keys(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    const org = await this.organizations.require(actor.organizationId);
    return { publicKey: org.publicKey, privateKey: org.privateKey, object: 'organizationKeys' };
  }

  /** The public-API key (type 0, owners) or the SCIM key (type 2, `manageScim`): see apiKeyTypeFor. */
  @Post(':orgId/api-key')
  @HttpCode(200)
  @OrgPermission('manageScim')
  async apiKey(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    if (apiKeyTypeFor(actor, body) === SCIM_TYPE) return this.scimKey(actor, body, false);
    const apiKey = await this.organizations.apiKey(
      actor.organizationId,
      actor.userId ?? '',
      parseBody(secretSchema, body),
      false,
    );
    return { apiKey, revisionDate: new Date().toISOString(), object: 'apiKey' };
  }

  @Post(':orgId/rotate-api-key')
  @HttpCode(200)
  @OrgPermission('manageScim')
  async rotateApiKey(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    if (apiKeyTypeFor(actor, body) === SCIM_TYPE) return this.scimKey(actor, body, true);
    const apiKey = await this.organizations.apiKey(
      actor.organizationId,
      actor.userId ?? '',
      parseBody(secretSchema, body),
      true,
    );
    return { apiKey, revisionDate: new Date().toISOString(), object: 'apiKey' };
  }

  /** The SCIM key (type 2): shown (created when missing) or rotated; the old key stops working at once. */
  private async scimKey(actor: Membership, body: unknown, rotate: boolean): Promise<Record<string, unknown>> {
    const key = await this.scim.apiKey(actor.organizationId, actor.userId ?? '', parseBody(secretSchema, body), rotate);
    return { apiKey: key.apiKey, revisionDate: key.revisionDate.toISOString(), object: 'apiKey' };
  }

  /**
   * Every collection and item of the organization; each item carries an explicit `deletedDate: null`.
   * One call per domain (the vault builds on the admin console, not the other way round): the
   * collections are the admin console's, the items the vault's.
   */
  @Get(':orgId/export')
  @ExpensiveCall('export')
  @OrgPermission('admin', 'accessImportExport')
  async export(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    const [collections, ciphers] = await Promise.all([
      this.collections.listForOrg(actor.organizationId),
      this.ciphers.listForOrganization(actor),
    ]);
    return {
      collections: collections.map(collectionJson),
      ciphers: ciphers.filter((c) => c.cipher.deletedDate === null).map(accessibleCipherJson),
    };
  }
}
