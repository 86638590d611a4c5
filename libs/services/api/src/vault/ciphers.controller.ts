import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { badRequest, parseBody, listJson, guid } from '@keyhaven/contracts';
import { AccountsService, UserRepository } from '@keyhaven/domain-auth';
import { OrgAccess } from '@keyhaven/domain-admin-console';
import {
  CipherAccessRepository,
  VaultService,
  accessibleCipherJson,
  cipherRequestSchema,
  collectionsSchema,
  idsSchema,
  importRequestSchema,
  moveSchema,
  orgImportSchema,
  partialSchema,
  shareSchema,
} from '@keyhaven/domain-vault';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

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

@Controller('ciphers')
export class CiphersController {
  constructor(
    private readonly vault: VaultService,
    private readonly ciphers: CipherAccessRepository,
    private readonly accounts: AccountsService,
    private readonly users: UserRepository,
    private readonly orgAccess: OrgAccess,
  ) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.ciphers.listForUser(principal.userId)).map(accessibleCipherJson));
  }

  /** The admin console's view of every item of an organization. */
  @Get('organization-details')
  async organizationDetails(
    @CurrentUser() principal: Principal,
    @Query('organizationId') organizationId?: string,
  ): Promise<Record<string, unknown>> {
    const orgId = parseBody(orgIdSchema, organizationId);
    await this.orgAccess.require(orgId, principal.userId, 'admin', 'editAnyCollection', 'accessImportExport');
    return listJson((await this.ciphers.listForOrg(orgId)).map(accessibleCipherJson));
  }

  @Post()
  @HttpCode(200)
  create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return this.vault.createCipher(principal.userId, principal.deviceId, parseBody(cipherRequestSchema, body));
  }

  /** The create call of clients that can pick collections (organization items). */
  @Post('create')
  @HttpCode(200)
  createWithCollections(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const request = parseBody(createWithCollectionsSchema, body);
    return this.vault.createCipher(principal.userId, principal.deviceId, request.cipher, request.collectionIds);
  }

  @Post('import')
  @HttpCode(200)
  async import(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.vault.importPersonal(principal.userId, parseBody(importRequestSchema, body));
  }

  @Post('import-organization')
  @HttpCode(200)
  async importOrganization(
    @CurrentUser() principal: Principal,
    @Query('organizationId') organizationId: string | undefined,
    @Body() body: unknown,
  ): Promise<void> {
    const orgId = parseBody(orgIdSchema, organizationId);
    await this.orgAccess.require(orgId, principal.userId, 'admin', 'accessImportExport');
    await this.vault.importOrganization(orgId, parseBody(orgImportSchema, body));
  }

  @Put('share')
  @HttpCode(200)
  async shareMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const request = parseBody(shareManySchema, body);
    return listJson(
      await this.vault.shareMany(principal.userId, principal.deviceId, request.ciphers, request.collectionIds),
    );
  }

  @Put('delete')
  @HttpCode(200)
  async softDeleteMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.vault.softDelete(principal.userId, principal.deviceId, parseBody(idsSchema, body).ids);
  }

  @Delete()
  @HttpCode(200)
  async deleteMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.vault.deletePermanently(principal.userId, principal.deviceId, parseBody(idsSchema, body).ids);
  }

  @Put('restore')
  @HttpCode(200)
  async restoreMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const restored = await this.vault.restore(principal.userId, parseBody(idsSchema, body).ids);
    return listJson(restored.map(accessibleCipherJson));
  }

  @Put('move')
  @HttpCode(200)
  async moveMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    const request = parseBody(moveSchema, body);
    await this.vault.move(principal.userId, request.ids, request.folderId);
  }

  /** The personal vault, or with `organizationId` every item of that organization (owners only). */
  @Post('purge')
  @HttpCode(200)
  async purge(
    @CurrentUser() principal: Principal,
    @Query('organizationId') organizationId: string | undefined,
    @Body() body: unknown,
  ): Promise<void> {
    const user = await this.users.require(principal.userId);
    await this.accounts.requireMasterPassword(user, parseBody(purgeSchema, body).masterPasswordHash);
    if (organizationId) {
      const orgId = parseBody(orgIdSchema, organizationId);
      await this.orgAccess.require(orgId, principal.userId, 'owner');
      await this.vault.purgeOrganization(orgId);
      return;
    }
    await this.vault.purge(user.id);
  }

  @Get([':id', ':id/details'])
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return accessibleCipherJson(await this.vault.getCipher(principal.userId, id));
  }

  @Put(':id')
  @HttpCode(200)
  update(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.vault.updateCipher(principal.userId, principal.deviceId, id, parseBody(cipherRequestSchema, body));
  }

  @Put(':id/partial')
  @HttpCode(200)
  partial(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.vault.partialUpdate(principal.userId, id, parseBody(partialSchema, body));
  }

  @Put(':id/share')
  @HttpCode(200)
  share(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.vault.share(principal.userId, principal.deviceId, id, parseBody(shareSchema, body));
  }

  /** Without a body when the change took the item out of the caller's reach. */
  @Put(':id/collections')
  @HttpCode(200)
  async collections(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown> | undefined> {
    return (
      (await this.vault.setCollections(principal.userId, id, parseBody(collectionsSchema, body).collectionIds)) ??
      undefined
    );
  }

  @Put(':id/collections_v2')
  @HttpCode(200)
  async collectionsV2(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const cipher = await this.vault.setCollections(
      principal.userId,
      id,
      parseBody(collectionsSchema, body).collectionIds,
    );
    return { cipher, unavailable: cipher === null, object: 'optionalCipherDetails' };
  }

  @Put(':id/delete')
  @HttpCode(200)
  async softDelete(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.requireEditable(principal.userId, id);
    await this.vault.softDelete(principal.userId, principal.deviceId, [id]);
  }

  @Put(':id/restore')
  @HttpCode(200)
  async restore(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    const current = await this.requireEditable(principal.userId, id);
    // Restoring an item that is not in the trash changes nothing and answers with the item.
    const [restored] = await this.vault.restore(principal.userId, [id]);
    return accessibleCipherJson(restored ?? current);
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.requireEditable(principal.userId, id);
    await this.vault.deletePermanently(principal.userId, principal.deviceId, [id]);
  }

  /** Single-item routes answer 404 for what the caller cannot see and 400 for what they may only read. */
  private async requireEditable(userId: string, id: string): Promise<Awaited<ReturnType<VaultService['getCipher']>>> {
    const found = await this.vault.getCipher(userId, id);
    if (!found.access.edit) throw badRequest('You do not have permission to change this item.');
    return found;
  }
}
