import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { parseBody, parseBodyInSlices, listJson, guid } from '@keyhaven/contracts';
import type { Membership } from '@keyhaven/domain-admin-console';
import {
  BulkCipherService,
  CipherService,
  ImportService,
  ORG_IMPORTERS,
  ORG_ITEMS_VIEWERS,
  PurgeService,
  SharingService,
  accessibleCipherJson,
  cipherRequestSchema,
  collectionsSchema,
  idsSchema,
  importRequestHeadSchema,
  moveSchema,
  orgImportHeadSchema,
  partialSchema,
  shareSchema,
} from '@keyhaven/domain-vault';
import { ExpensiveCall, CurrentUser, OrgMember, OrgPermission, type Principal } from '@keyhaven/platform-auth';

const createWithCollectionsSchema = z.object({
  cipher: cipherRequestSchema,
  collectionIds: z.array(guid).max(1000).default([]),
});
const shareManySchema = z.object({
  ciphers: z
    .array(cipherRequestSchema.extend({ id: guid }))
    .min(1)
    .max(1000),
  collectionIds: z.array(guid).max(1000).default([]),
});
const purgeSchema = z.object({ masterPasswordHash: z.string().nullish() });
const orgIdSchema = guid;

/**
 * Items: one domain call per route. Routes naming the organization in the query declare their
 * permission with `@OrgPermission`; personal and item-scoped routes are scoped in the vault's SQL.
 */
@Controller('ciphers')
export class CiphersController {
  constructor(
    private readonly ciphers: CipherService,
    private readonly bulk: BulkCipherService,
    private readonly sharing: SharingService,
    private readonly imports: ImportService,
    private readonly purges: PurgeService,
  ) {}

  /** Every item the user can see, as in a sync: drawn from the sync budget. */
  @Get()
  @ExpensiveCall('sync')
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.ciphers.list(principal.userId)).map(accessibleCipherJson));
  }

  /** The admin console's view of every item of an organization. */
  @Get('organization-details')
  @ExpensiveCall('details')
  @OrgPermission.at({ query: 'organizationId' }, ...ORG_ITEMS_VIEWERS)
  async organizationDetails(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return listJson((await this.ciphers.listForOrganization(actor)).map(accessibleCipherJson));
  }

  @Post()
  @HttpCode(200)
  create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return this.ciphers.createCipher(
      principal.userId,
      principal.deviceIdentifier ?? null,
      parseBody(cipherRequestSchema, body),
    );
  }

  /** The create call of clients that can pick collections (organization items). */
  @Post('create')
  @HttpCode(200)
  createWithCollections(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const request = parseBody(createWithCollectionsSchema, body);
    return this.ciphers.createCipher(
      principal.userId,
      principal.deviceIdentifier ?? null,
      request.cipher,
      request.collectionIds,
    );
  }

  @Post('import')
  @ExpensiveCall('import')
  @HttpCode(200)
  async import(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.imports.importPersonal(
      principal.userId,
      await parseBodyInSlices(importRequestHeadSchema, 'ciphers', cipherRequestSchema, body),
    );
  }

  @Post('import-organization')
  @ExpensiveCall('import')
  @HttpCode(200)
  @OrgPermission.at({ query: 'organizationId' }, ...ORG_IMPORTERS)
  async importOrganization(@OrgMember() actor: Membership, @Body() body: unknown): Promise<void> {
    await this.imports.importOrganization(
      actor,
      await parseBodyInSlices(orgImportHeadSchema, 'ciphers', cipherRequestSchema, body),
    );
  }

  @Put('share')
  @ExpensiveCall('bulk')
  @HttpCode(200)
  async shareMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const request = parseBody(shareManySchema, body);
    return listJson(
      await this.sharing.shareMany(
        principal.userId,
        principal.deviceIdentifier ?? null,
        request.ciphers,
        request.collectionIds,
      ),
    );
  }

  @Put('delete')
  @ExpensiveCall('bulk')
  @HttpCode(200)
  async softDeleteMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.bulk.softDelete(principal.userId, principal.deviceIdentifier ?? null, parseBody(idsSchema, body).ids);
  }

  @Delete()
  @ExpensiveCall('bulk')
  @HttpCode(200)
  async deleteMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.bulk.deletePermanently(
      principal.userId,
      principal.deviceIdentifier ?? null,
      parseBody(idsSchema, body).ids,
    );
  }

  @Put('restore')
  @ExpensiveCall('bulk')
  @HttpCode(200)
  async restoreMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const restored = await this.bulk.restore(
      principal.userId,
      principal.deviceIdentifier ?? null,
      parseBody(idsSchema, body).ids,
    );
    return listJson(restored.map(accessibleCipherJson));
  }

  @Put('move')
  @ExpensiveCall('bulk')
  @HttpCode(200)
  async moveMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    const request = parseBody(moveSchema, body);
    await this.bulk.move(principal.userId, request.ids, request.folderId);
  }

  /**
   * The personal vault, or with `organizationId` every item of that organization. The organization is
   * optional here, so the owner check is the purge service's, after the master password.
   */
  @Post('purge')
  @HttpCode(200)
  async purge(
    @CurrentUser() principal: Principal,
    @Query('organizationId') organizationId: string | undefined,
    @Body() body: unknown,
  ): Promise<void> {
    const { masterPasswordHash } = parseBody(purgeSchema, body);
    const orgId = organizationId ? parseBody(orgIdSchema, organizationId) : null;
    await this.purges.purgeWithPassword(principal.userId, masterPasswordHash, orgId);
  }

  @Get([':id', ':id/details'])
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return accessibleCipherJson(await this.ciphers.getCipher(principal.userId, id));
  }

  @Put(':id')
  @HttpCode(200)
  update(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.ciphers.updateCipher(
      principal.userId,
      principal.deviceIdentifier ?? null,
      id,
      parseBody(cipherRequestSchema, body),
    );
  }

  @Put(':id/partial')
  @HttpCode(200)
  partial(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.ciphers.partialUpdate(principal.userId, id, parseBody(partialSchema, body));
  }

  @Put(':id/share')
  @HttpCode(200)
  share(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.sharing.share(principal.userId, principal.deviceIdentifier ?? null, id, parseBody(shareSchema, body));
  }

  /** Without a body when the change took the item out of the caller's reach. */
  @Put(':id/collections')
  @HttpCode(200)
  async collections(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown> | undefined> {
    const { collectionIds } = parseBody(collectionsSchema, body);
    const deviceId = principal.deviceIdentifier ?? null;
    return (await this.sharing.setCollections(principal.userId, deviceId, id, collectionIds)) ?? undefined;
  }

  @Put(':id/collections_v2')
  @HttpCode(200)
  async collectionsV2(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { collectionIds } = parseBody(collectionsSchema, body);
    const deviceId = principal.deviceIdentifier ?? null;
    const cipher = await this.sharing.setCollections(principal.userId, deviceId, id, collectionIds);
    return { cipher, unavailable: cipher === null, object: 'optionalCipherDetails' };
  }

  @Put(':id/delete')
  @HttpCode(200)
  async softDelete(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.bulk.softDeleteOne(principal.userId, principal.deviceIdentifier ?? null, id);
  }

  @Put(':id/restore')
  @HttpCode(200)
  async restore(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return accessibleCipherJson(await this.bulk.restoreOne(principal.userId, principal.deviceIdentifier ?? null, id));
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.bulk.deleteOne(principal.userId, principal.deviceIdentifier ?? null, id);
  }
}
