import { Body, Controller, Get, HttpCode, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseBody, listJson } from '@keyhaven/contracts';
import { TwoFactorSettingsService } from '@keyhaven/domain-auth';
import { CurrentUser, Public, type Principal } from '@keyhaven/platform-auth';
import { PoliciesService } from '@keyhaven/domain-admin-console';

const secretSchema = z.object({ masterPasswordHash: z.string().nullish(), otp: z.string().nullish() });
const enableSchema = secretSchema.extend({
  key: z.string().regex(/^[A-Z2-7]{16,64}=*$/i, 'must be a base32 secret'),
  token: z.string().max(10),
});
const disableSchema = secretSchema.extend({ type: z.number().int() });
const recoverSchema = z.object({
  email: z.string().max(256),
  masterPasswordHash: z.string(),
  recoveryCode: z.string().max(64),
});

@Controller('two-factor')
export class TwoFactorController {
  constructor(
    private readonly twoFactor: TwoFactorSettingsService,
    private readonly policies: PoliciesService,
  ) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    const providers = await this.twoFactor.enabledProviders(principal.userId);
    return listJson(providers.map((type) => ({ enabled: true, type, object: 'twoFactorProvider' })));
  }

  @Post('get-authenticator')
  @HttpCode(200)
  async getAuthenticator(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const { masterPasswordHash } = parseBody(secretSchema, body);
    const { enabled, key } = await this.twoFactor.authenticator(principal.userId, masterPasswordHash);
    return { enabled, key, userVerificationToken: null, object: 'twoFactorAuthenticator' };
  }

  /** Enrolment completes only with a valid code from the new secret. */
  @Put('authenticator')
  @HttpCode(200)
  async enableAuthenticator(
    @CurrentUser() principal: Principal,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const key = await this.twoFactor.enableAuthenticator(principal.userId, parseBody(enableSchema, body));
    return { enabled: true, key, userVerificationToken: null, object: 'twoFactorAuthenticator' };
  }

  /**
   * Two domain calls, on purpose until auth has a hook for it: auth turns the provider off, then the
   * admin console revokes memberships of organizations whose policy requires two-step login.
   */
  @Put('disable')
  @HttpCode(200)
  async disable(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const request = parseBody(disableSchema, body);
    const disabled = await this.twoFactor.disable(principal.userId, request);
    if (disabled) await this.policies.onTwoFactorDisabled(disabled.id, disabled.email);
    return { enabled: false, type: request.type, object: 'twoFactorProvider' };
  }

  @Post('get-recover')
  @HttpCode(200)
  async getRecover(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const { masterPasswordHash } = parseBody(secretSchema, body);
    return {
      code: await this.twoFactor.recoveryCode(principal.userId, masterPasswordHash),
      object: 'twoFactorRecover',
    };
  }

  /** Lost authenticator: email + master password + recovery code turn two-step login off. */
  @Public()
  @Post('recover')
  @HttpCode(200)
  async recover(@Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    await this.twoFactor.recover(request.ip, parseBody(recoverSchema, body));
  }
}
