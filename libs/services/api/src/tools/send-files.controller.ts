import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { SendUploadService } from '@keyhaven/domain-tools';
import { ParseGuidPipe, multipartFile } from '@keyhaven/http';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

/** `POST sends/{id}/file/{fileId}`: the file Send's bytes, multipart part `data`, streamed to storage. */
@Controller('sends')
export class SendFilesController {
  constructor(private readonly uploads: SendUploadService) {}

  @Post(':id/file/:fileId')
  @HttpCode(200)
  async upload(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Param('fileId') fileId: string,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.uploads.upload(
      principal.userId,
      id,
      fileId,
      (maxBytes) => multipartFile(request, 'data', maxBytes),
      principal.deviceIdentifier ?? null,
    );
  }
}
