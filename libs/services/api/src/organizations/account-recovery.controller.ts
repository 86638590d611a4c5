import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ParseGuidPipe } from '@keyhaven/http';
import { listJson, parseBody } from '@keyhaven/contracts';
import {
  AccountRecoveryService,
  enrollmentSchema,
  idsSchema,
  recoverAccountSchema,
  type Membership,
} from '@keyhaven/domain-admin-console';
import { OrgMember, OrgPermission } from '@keyhaven/platform-auth';

/** Account recovery (admin password reset): enrolment by the member, details and the reset by an admin. */
@Controller('organizations/:orgId/users')
export class AccountRecoveryController {
  constructor(private readonly recovery: AccountRecoveryService) {}

  /**
   * The path carries the user id (not the membership id); the member enrols or withdraws themselves,
   * also before confirmation (a new SSO member auto-enrols right after setting their password).
   */
  @Put(':userId/reset-password-enrollment')
  @HttpCode(200)
  @OrgPermission('joining')
  async enroll(
    @OrgMember() actor: Membership,
    @Param('userId', ParseGuidPipe) userId: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.recovery.enroll(actor, userId, parseBody(enrollmentSchema, body));
  }

  @Get(':memberId/reset-password-details')
  @OrgPermission('manageResetPassword')
  async details(
    @OrgMember() actor: Membership,
    @Param('memberId', ParseGuidPipe) memberId: string,
  ): Promise<Record<string, unknown>> {
    const [details] = await this.recovery.details(actor, [memberId]);
    return details ?? {};
  }

  /** The bulk form, under its 2026 name and the older one. */
  @Post(['account-recovery-details', 'reset-password-details'])
  @HttpCode(200)
  @OrgPermission('manageResetPassword')
  async bulkDetails(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    return listJson(await this.recovery.details(actor, parseBody(idsSchema, body).ids));
  }

  /** `recover-account` (2026 clients) and `reset-password` (clients before the rename): the same reset. */
  @Put([':memberId/recover-account', ':memberId/reset-password'])
  @HttpCode(200)
  @OrgPermission('manageResetPassword')
  async recover(
    @OrgMember() actor: Membership,
    @Param('memberId', ParseGuidPipe) memberId: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.recovery.recover(actor, memberId, parseBody(recoverAccountSchema, body));
  }
}
