import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ParseGuidPipe } from '@keyhaven/http';
import { listJson, notFound, parseBody } from '@keyhaven/contracts';
import {
  EmergencyAccessRecoveryService,
  EmergencyAccessService,
  emergencyAcceptSchema,
  emergencyConfirmSchema,
  emergencyInviteSchema,
  emergencyUpdateSchema,
  granteeDetailsJson,
  grantorDetailsJson,
  newMasterPasswordSchema,
} from '@keyhaven/domain-auth';
import { ATTACHMENT_ID, EmergencyVaultService } from '@keyhaven/domain-vault';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

/** `api/emergency-access`: trusted contacts who may view or take over a vault after a wait. */
@Controller('emergency-access')
export class EmergencyAccessController {
  constructor(
    private readonly access: EmergencyAccessService,
    private readonly recovery: EmergencyAccessRecoveryService,
    private readonly vault: EmergencyVaultService,
  ) {}

  @Get('trusted')
  async trusted(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.access.listTrusted(principal.userId)).map(granteeDetailsJson));
  }

  @Get('granted')
  async granted(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.access.listGranted(principal.userId)).map(grantorDetailsJson));
  }

  @Post('invite')
  @HttpCode(200)
  async invite(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.access.invite(principal.userId, parseBody(emergencyInviteSchema, body));
  }

  @Get(':id')
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return granteeDetailsJson(await this.access.getAsGrantor(principal.userId, id));
  }

  @Put(':id')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.access.update(principal.userId, id, parseBody(emergencyUpdateSchema, body));
  }

  /** Legacy clients post the update. */
  @Post(':id')
  @HttpCode(200)
  async updateLegacy(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.access.update(principal.userId, id, parseBody(emergencyUpdateSchema, body));
  }

  @Delete(':id')
  @HttpCode(200)
  async delete(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.access.delete(principal.userId, id);
  }

  @Post(':id/delete')
  @HttpCode(200)
  async deleteLegacy(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.access.delete(principal.userId, id);
  }

  @Post(':id/reinvite')
  @HttpCode(200)
  async reinvite(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.access.reinvite(principal.userId, id);
  }

  @Post(':id/accept')
  @HttpCode(200)
  async accept(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.access.accept(principal.userId, id, parseBody(emergencyAcceptSchema, body).token);
  }

  @Post(':id/confirm')
  @HttpCode(200)
  async confirm(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.access.confirm(principal.userId, id, parseBody(emergencyConfirmSchema, body).key);
  }

  @Post(':id/initiate')
  @HttpCode(200)
  async initiate(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.recovery.initiate(principal.userId, id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  async approve(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.recovery.approve(principal.userId, id);
  }

  @Post(':id/reject')
  @HttpCode(200)
  async reject(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.recovery.reject(principal.userId, id);
  }

  /** An approved View grant: the wrapped key and the grantor's personal items (never their organizations'). */
  @Post(':id/view')
  @HttpCode(200)
  view(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<Record<string, unknown>> {
    return this.vault.view(principal.userId, id);
  }

  /** An attachment of one of those items: its metadata with a signed download link. */
  @Get(':id/:cipherId/attachment/:attachmentId')
  attachment(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Param('cipherId', ParseGuidPipe) cipherId: string,
    @Param('attachmentId') attachmentId: string,
  ): Promise<Record<string, unknown>> {
    // Attachment ids are ours (32 hex characters); anything else is an attachment that does not exist.
    if (!ATTACHMENT_ID.test(attachmentId)) throw notFound('Attachment');
    return this.vault.attachment(principal.userId, id, cipherId, attachmentId);
  }

  @Get(':id/policies')
  async policies(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    const policies = await this.recovery.policies(principal.userId, id);
    return { object: 'list', data: policies, continuationToken: null };
  }

  @Post(':id/takeover')
  @HttpCode(200)
  takeover(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return this.recovery.takeover(principal.userId, id);
  }

  @Post(':id/password')
  @HttpCode(200)
  async password(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.recovery.password(principal.userId, id, parseBody(newMasterPasswordSchema, body));
  }
}
