import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, StreamableFile } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { notFound, parseBody } from '@keyhaven/contracts';
import { ATTACHMENT_ID, AttachmentService, attachmentCreateSchema } from '@keyhaven/domain-vault';
import { ParseGuidPipe, multipartFile } from '@keyhaven/http';
import { CurrentUser, Public, type Principal } from '@keyhaven/platform-auth';

/** Attachment ids are ours (32 hex characters); anything else is an attachment that does not exist. */
function attachmentId(value: string): string {
  if (!ATTACHMENT_ID.test(value)) throw notFound('Attachment');
  return value;
}

const caller = (principal: Principal) => ({ userId: principal.userId, deviceId: principal.deviceIdentifier ?? null });

/**
 * Attachments of an item, the v2 flow: create, upload (multipart part `data`, streamed), renew, metadata
 * with a signed download link, delete. The `/admin` variants are the admin console's; they reach the
 * same items (administrators see every item of their organizations through the vault's access query).
 */
@Controller('ciphers')
export class AttachmentsController {
  constructor(private readonly attachments: AttachmentService) {}

  @Post([':id/attachment/v2', ':id/attachment/v2/admin'])
  @HttpCode(200)
  create(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.attachments.create(caller(principal), id, parseBody(attachmentCreateSchema, body));
  }

  @Post(':id/attachment/:attachmentId')
  @HttpCode(200)
  async upload(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Param('attachmentId') rawAttachmentId: string,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    const upload = await multipartFile(request, 'data', this.attachments.maxFileBytes);
    await this.attachments.upload(caller(principal), id, attachmentId(rawAttachmentId), upload);
  }

  @Get(':id/attachment/:attachmentId/renew')
  renew(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Param('attachmentId') rawAttachmentId: string,
  ): Promise<Record<string, unknown>> {
    return this.attachments.renew(principal.userId, id, attachmentId(rawAttachmentId));
  }

  @Get([':id/attachment/:attachmentId', ':id/attachment/:attachmentId/admin'])
  get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Param('attachmentId') rawAttachmentId: string,
  ): Promise<Record<string, unknown>> {
    return this.attachments.get(principal.userId, id, attachmentId(rawAttachmentId));
  }

  @Delete([':id/attachment/:attachmentId', ':id/attachment/:attachmentId/admin'])
  @HttpCode(200)
  delete(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Param('attachmentId') rawAttachmentId: string,
  ): Promise<Record<string, unknown>> {
    return this.attachments.delete(caller(principal), id, attachmentId(rawAttachmentId));
  }

  @Post([':id/attachment/:attachmentId/delete', ':id/attachment/:attachmentId/delete-admin'])
  @HttpCode(200)
  deleteLegacy(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Param('attachmentId') rawAttachmentId: string,
  ): Promise<Record<string, unknown>> {
    return this.attachments.delete(caller(principal), id, attachmentId(rawAttachmentId));
  }
}

/**
 * The anonymous download behind the signed link in an attachment's `url` (clients fetch it with no
 * Authorization header and need exactly 200): the file streamed from the BlobStore with its length.
 */
@Public()
@Controller('attachments')
export class AttachmentDownloadController {
  constructor(private readonly attachments: AttachmentService) {}

  @Get(':cipherId/:attachmentId')
  async download(
    @Param('cipherId', ParseGuidPipe) cipherId: string,
    @Param('attachmentId') rawAttachmentId: string,
    @Query('token') token: string | undefined,
  ): Promise<StreamableFile> {
    const file = await this.attachments.download(cipherId, attachmentId(rawAttachmentId), token);
    if (!file) throw notFound('Attachment');
    return new StreamableFile(file.stream, { type: 'application/octet-stream', length: file.size });
  }
}
