import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { parseBody, listJson } from '@keyhaven/contracts';
import { FolderRepository, VaultService, folderJson, folderRequestSchema } from '@keyhaven/domain-vault';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

@Controller('folders')
export class FoldersController {
  constructor(
    private readonly vault: VaultService,
    private readonly folders: FolderRepository,
  ) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    const data = (await this.folders.listForUser(principal.userId)).map(folderJson);
    return listJson(data);
  }

  @Get(':id')
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return folderJson(await this.vault.getFolder(principal.userId, id));
  }

  @Post()
  @HttpCode(200)
  async create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return folderJson(await this.vault.createFolder(principal.userId, parseBody(folderRequestSchema, body).name));
  }

  @Put(':id')
  @HttpCode(200)
  async rename(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return folderJson(await this.vault.renameFolder(principal.userId, id, parseBody(folderRequestSchema, body).name));
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.vault.deleteFolder(principal.userId, id);
  }
}
