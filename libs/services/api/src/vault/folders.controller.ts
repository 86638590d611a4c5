import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { parseBody, listJson } from '@keyhaven/contracts';
import { FolderService, folderJson, folderRequestSchema } from '@keyhaven/domain-vault';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

@Controller('folders')
export class FoldersController {
  constructor(private readonly folders: FolderService) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.folders.list(principal.userId)).map(folderJson));
  }

  @Get(':id')
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return folderJson(await this.folders.getFolder(principal.userId, id));
  }

  @Post()
  @HttpCode(200)
  async create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return folderJson(
      await this.folders.createFolder(
        principal.userId,
        parseBody(folderRequestSchema, body).name,
        principal.deviceIdentifier ?? null,
      ),
    );
  }

  @Put(':id')
  @HttpCode(200)
  async rename(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const { name } = parseBody(folderRequestSchema, body);
    return folderJson(await this.folders.renameFolder(principal.userId, id, name, principal.deviceIdentifier ?? null));
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.folders.deleteFolder(principal.userId, id, principal.deviceIdentifier ?? null);
  }
}
