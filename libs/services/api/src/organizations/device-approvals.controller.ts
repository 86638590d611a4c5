import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ParseGuidPipe } from '@keyhaven/http';
import { listJson, parseBody } from '@keyhaven/contracts';
import {
  DeviceApprovalsService,
  adminApprovalSchema,
  bulkAdminApprovalSchema,
  bulkDenySchema,
  pendingOrgAuthRequestJson,
  type Membership,
} from '@keyhaven/domain-admin-console';
import { OrgMember, OrgPermission } from '@keyhaven/platform-auth';

/** Device approvals of trusted device encryption: pending admin-approval requests of the organization's members. */
@Controller('organizations/:orgId/auth-requests')
@OrgPermission('manageResetPassword')
export class DeviceApprovalsController {
  constructor(private readonly approvals: DeviceApprovalsService) {}

  @Get()
  async list(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return listJson((await this.approvals.list(actor)).map(pendingOrgAuthRequestJson));
  }

  @Post('deny')
  @HttpCode(200)
  async deny(@OrgMember() actor: Membership, @Body() body: unknown): Promise<void> {
    await this.approvals.denyMany(actor, parseBody(bulkDenySchema, body).ids);
  }

  /** Approve or deny several: `[{ id, key, approved }]`. */
  @Post()
  @HttpCode(200)
  async answerMany(@OrgMember() actor: Membership, @Body() body: unknown): Promise<void> {
    await this.approvals.answerMany(actor, parseBody(bulkAdminApprovalSchema, body));
  }

  @Post(':id')
  @HttpCode(200)
  async answer(
    @OrgMember() actor: Membership,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.approvals.answer(actor, id, parseBody(adminApprovalSchema, body));
  }
}
