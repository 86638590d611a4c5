import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { isGuid, notFound, parseBody } from '@keyhaven/contracts';
import { setInitialPasswordSchema } from '@keyhaven/domain-auth';
import { SsoSettingsService, ssoConfigRequestSchema } from '@keyhaven/domain-admin-console';
import { CurrentUser, OrgPermission, type Principal } from '@keyhaven/platform-auth';

/** The organization's SSO configuration (ENTERPRISE.md §2.1). */
@Controller('organizations/:orgId/sso')
@OrgPermission('manageSso')
export class SsoConfigController {
  constructor(private readonly sso: SsoSettingsService) {}

  @Get()
  get(@Param('orgId') orgId: string): Promise<Record<string, unknown>> {
    return this.sso.get(orgId.toLowerCase());
  }

  @Post()
  @HttpCode(200)
  save(@Param('orgId') orgId: string, @Body() body: unknown): Promise<Record<string, unknown>> {
    return this.sso.save(orgId.toLowerCase(), parseBody(ssoConfigRequestSchema, body));
  }
}

/** The SSO member's own steps (§1.8): the first master password and the auto-enrolment question. */
@Controller()
export class SsoMemberController {
  constructor(private readonly sso: SsoSettingsService) {}

  @Post('accounts/set-password')
  @HttpCode(200)
  async setPassword(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.sso.setPassword(principal.userId, parseBody(setInitialPasswordSchema, body));
  }

  /** The web's "Unlink SSO" for the caller's own link (event 1505). */
  @Delete('accounts/sso/:organizationId')
  @HttpCode(200)
  async unlink(@CurrentUser() principal: Principal, @Param('organizationId') orgId: string): Promise<void> {
    if (!isGuid(orgId)) throw notFound('Organization');
    await this.sso.unlink(principal.userId, orgId.toLowerCase());
  }

  /** Addressed by the organization's SSO identifier, not its id; the caller must be a member there (else 404). */
  @Get('organizations/:identifier/auto-enroll-status')
  @OrgPermission.none('addressed by the SSO identifier; the service answers 404 unless the caller is a member')
  autoEnrollStatus(
    @CurrentUser() principal: Principal,
    @Param('identifier') identifier: string,
  ): Promise<Record<string, unknown>> {
    return this.sso.autoEnrollStatus(principal.userId, identifier);
  }
}
