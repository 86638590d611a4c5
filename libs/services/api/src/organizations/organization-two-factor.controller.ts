import { Body, Controller, Delete, HttpCode, Post, Put } from '@nestjs/common';
import { parseBody } from '@keyhaven/contracts';
import { TwoFactorProvidersService } from '@keyhaven/domain-auth';
import { CurrentUser, OrgPermission, type Principal } from '@keyhaven/platform-auth';
import { secretSchema, verificationTokenSchema } from '../accounts/two-factor.schemas';

type Json = Record<string, unknown>;

/**
 * `api/organizations/{id}/two-factor/*-duo` for owners: Duo verifies through its own service, which
 * this server does not call, so the shape is answered and turning it on is refused with a 400.
 */
@Controller('organizations/:orgId/two-factor')
@OrgPermission('owner')
export class OrganizationTwoFactorController {
  constructor(private readonly providers: TwoFactorProvidersService) {}

  @Post('get-duo')
  @HttpCode(200)
  async getDuo(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    return {
      ...(await this.providers.getOrganizationDuo(principal.userId, parseBody(secretSchema, body))),
      object: 'twoFactorDuo',
    };
  }

  @Put('duo')
  @Post('duo')
  @HttpCode(200)
  async putDuo(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    const { userVerificationToken } = parseBody(verificationTokenSchema, body);
    return this.providers.putOrganizationDuo(principal.userId, userVerificationToken);
  }

  @Delete('duo')
  @HttpCode(204)
  async deleteDuo(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    const { userVerificationToken } = parseBody(verificationTokenSchema, body);
    await this.providers.deleteOrganizationDuo(principal.userId, userVerificationToken);
  }
}
