import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody } from '@keyhaven/contracts';
import { AccountsService, UserRepository } from '@keyhaven/domain-auth';
import {
  CipherRepository,
  VaultService,
  cipherJson,
  cipherRequestSchema,
  idsSchema,
  importRequestSchema,
  moveSchema,
  partialSchema,
} from '@keyhaven/domain-vault';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

const createWithCollectionsSchema = z.object({
  cipher: cipherRequestSchema,
  collectionIds: z.array(z.uuid()).default([]),
});
const purgeSchema = z.object({ masterPasswordHash: z.string().nullish() });

const list = (data: unknown[]): Record<string, unknown> => ({ data, object: 'list', continuationToken: null });

@Controller('ciphers')
export class CiphersController {
  constructor(
    private readonly vault: VaultService,
    private readonly ciphers: CipherRepository,
    private readonly accounts: AccountsService,
    private readonly users: UserRepository,
  ) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return list((await this.ciphers.listForUser(principal.userId)).map((c) => cipherJson(c)));
  }

  @Post()
  @HttpCode(200)
  create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return this.vault.createCipher(principal.userId, principal.deviceId, parseBody(cipherRequestSchema, body));
  }

  /** The create call of clients that can pick collections; personal items have none. */
  @Post('create')
  @HttpCode(200)
  createWithCollections(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return this.vault.createCipher(
      principal.userId,
      principal.deviceId,
      parseBody(createWithCollectionsSchema, body).cipher,
    );
  }

  @Post('import')
  @HttpCode(200)
  async import(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.vault.importPersonal(principal.userId, parseBody(importRequestSchema, body));
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
    return list(restored.map((c) => cipherJson(c)));
  }

  @Put('move')
  @HttpCode(200)
  async moveMany(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    const request = parseBody(moveSchema, body);
    await this.vault.move(principal.userId, request.ids, request.folderId);
  }

  @Post('purge')
  @HttpCode(200)
  async purge(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    const user = await this.users.require(principal.userId);
    await this.accounts.requireMasterPassword(user, parseBody(purgeSchema, body).masterPasswordHash);
    await this.vault.purge(user.id);
  }

  @Get([':id', ':id/details'])
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return cipherJson(await this.vault.getCipher(principal.userId, id));
  }

  @Put(':id')
  @HttpCode(200)
  update(
    @CurrentUser() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.vault.updateCipher(principal.userId, principal.deviceId, id, parseBody(cipherRequestSchema, body));
  }

  @Put(':id/partial')
  @HttpCode(200)
  partial(
    @CurrentUser() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.vault.partialUpdate(principal.userId, id, parseBody(partialSchema, body));
  }

  @Put(':id/delete')
  @HttpCode(200)
  async softDelete(@CurrentUser() principal: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.vault.getCipher(principal.userId, id);
    await this.vault.softDelete(principal.userId, principal.deviceId, [id]);
  }

  @Put(':id/restore')
  @HttpCode(200)
  async restore(
    @CurrentUser() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<Record<string, unknown>> {
    const current = await this.vault.getCipher(principal.userId, id);
    // Restoring an item that is not in the trash changes nothing and answers with the item.
    const [restored] = await this.vault.restore(principal.userId, [id]);
    return cipherJson(restored ?? current);
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(@CurrentUser() principal: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.vault.getCipher(principal.userId, id);
    await this.vault.deletePermanently(principal.userId, principal.deviceId, [id]);
  }
}
