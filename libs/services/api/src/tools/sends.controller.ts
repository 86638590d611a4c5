import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { listJson } from '@keyhaven/contracts';
import { SendService, sendJson } from '@keyhaven/domain-tools';
import { ParseGuidPipe } from '@keyhaven/http';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

const uploadJson = ({ send, url }: { send: Parameters<typeof sendJson>[0]; url: string }) => ({
  url,
  fileUploadType: 0,
  sendResponse: sendJson(send),
  object: 'send-fileUpload',
});

/** The owner's Sends (`api/sends`); the recipient's routes are in SendAccessController. */
@Controller('sends')
export class SendsController {
  constructor(private readonly sends: SendService) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.sends.list(principal.userId)).map(sendJson));
  }

  @Post()
  @HttpCode(200)
  async create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return sendJson(await this.sends.createText(principal.userId, body, principal.deviceIdentifier ?? null));
  }

  @Post('file/v2')
  @HttpCode(200)
  async createFile(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return uploadJson(await this.sends.createFile(principal.userId, body, principal.deviceIdentifier ?? null));
  }

  @Get(':id')
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return sendJson(await this.sends.get(principal.userId, id));
  }

  /** Renews the upload URL of a file Send whose upload has not arrived yet. */
  @Get(':id/file/:fileId')
  async renew(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Param('fileId') fileId: string,
  ): Promise<Record<string, unknown>> {
    return uploadJson(await this.sends.renewUpload(principal.userId, id, fileId));
  }

  @Put(':id')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return sendJson(await this.sends.update(principal.userId, id, body, principal.deviceIdentifier ?? null));
  }

  @Put(':id/remove-password')
  @HttpCode(200)
  async removePassword(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return sendJson(await this.sends.removePassword(principal.userId, id, principal.deviceIdentifier ?? null));
  }

  @Put(':id/remove-auth')
  @HttpCode(200)
  async removeAuth(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return this.removePassword(principal, id);
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.sends.delete(principal.userId, id, principal.deviceIdentifier ?? null);
  }
}
