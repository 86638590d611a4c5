import { Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SendAccessService } from '@keyhaven/domain-tools';
import { ParseGuidPipe } from '@keyhaven/http';
import { Public } from '@keyhaven/platform-auth';

/**
 * A recipient's routes. No user token: the bearer is the Send access token from the `send_access`
 * grant, checked by the domain, and the download takes the signed link's token. Registered before
 * SendsController so `access` never binds as a Send id.
 */
@Public()
@Controller('sends')
export class SendAccessController {
  constructor(private readonly access: SendAccessService) {}

  @Post('access')
  @HttpCode(200)
  content(@Headers('authorization') authorization?: string): Promise<Record<string, unknown>> {
    return this.access.access(authorization);
  }

  @Post('access/file/:fileId')
  @HttpCode(200)
  fileLink(
    @Param('fileId') fileId: string,
    @Headers('authorization') authorization?: string,
  ): Promise<Record<string, unknown>> {
    return this.access.fileLink(authorization, fileId);
  }

  /** The anonymous download behind the link (`t`: its signed token), exactly 200 with the encrypted bytes. */
  @Get(':id/:fileId')
  async download(
    @Param('id', ParseGuidPipe) id: string,
    @Param('fileId') fileId: string,
    @Query('t') token: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const file = await this.access.download(id, fileId, token);
    await reply
      .status(200)
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(file.size))
      .send(file.stream);
  }
}
