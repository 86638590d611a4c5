import { Body, Controller, Delete, Get, HttpCode, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { parseBody, listJson } from '@keyhaven/contracts';
import { TwoFactorProvidersService, TwoFactorSettingsService } from '@keyhaven/domain-auth';
import { CurrentUser, Public, type Principal } from '@keyhaven/platform-auth';
import { PoliciesService } from '@keyhaven/domain-admin-console';
import {
  deleteAuthenticatorSchema,
  disableSchema,
  enableAuthenticatorSchema,
  recoverSchema,
  secretSchema,
  verificationTokenSchema,
} from './two-factor.schemas';

type Json = Record<string, unknown>;

/**
 * `api/two-factor`: the authenticator, the recovery code and the pre-2026 calls. The 2026 flow
 * (`get-*` proves the master password and answers a user-verification token that every following
 * PUT/DELETE carries) is served next to the old shapes, which older clients still send.
 */
@Controller('two-factor')
export class TwoFactorController {
  constructor(
    private readonly twoFactor: TwoFactorSettingsService,
    private readonly providers: TwoFactorProvidersService,
    private readonly policies: PoliciesService,
  ) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Json> {
    const providers = await this.twoFactor.enabledProviders(principal.userId);
    return listJson(providers.map((type) => ({ enabled: true, type, object: 'twoFactorProvider' })));
  }

  /** Nested for the 2026 clients, flat (`enabled`, `key`) as well for the older ones. */
  @Post('get-authenticator')
  @HttpCode(200)
  async getAuthenticator(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    const { enabled, key, userVerificationToken } = await this.twoFactor.authenticator(
      principal.userId,
      parseBody(secretSchema, body),
    );
    return { authenticator: { enabled, key }, enabled, key, userVerificationToken, object: 'twoFactorAuthenticator' };
  }

  /** Enrolment completes only with a valid code from the new secret (POST is the obsolete verb). */
  @Put('authenticator')
  @Post('authenticator')
  @HttpCode(200)
  async enableAuthenticator(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    const key = await this.twoFactor.enableAuthenticator(principal.userId, parseBody(enableAuthenticatorSchema, body));
    return { authenticator: { enabled: true, key }, enabled: true, key, object: 'twoFactorAuthenticatorUpdate' };
  }

  /**
   * Two domain calls, on purpose until auth has a hook for it: auth turns the provider off, then the
   * admin console revokes memberships of organizations whose policy requires two-step login.
   */
  @Delete('authenticator')
  @HttpCode(204)
  async deleteAuthenticator(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    const disabled = await this.twoFactor.deleteAuthenticator(
      principal.userId,
      parseBody(deleteAuthenticatorSchema, body),
    );
    if (disabled) await this.policies.onTwoFactorDisabled(disabled.id, disabled.email);
  }

  /** The pre-2026 way to turn a provider off (master password on the call). */
  @Put('disable')
  @HttpCode(200)
  async disable(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    const request = parseBody(disableSchema, body);
    const disabled = await this.twoFactor.disable(principal.userId, request);
    if (disabled) await this.policies.onTwoFactorDisabled(disabled.id, disabled.email);
    return { enabled: false, type: request.type, object: 'twoFactorProvider' };
  }

  @Post('get-recover')
  @HttpCode(200)
  async getRecover(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    return {
      code: await this.twoFactor.recoveryCode(principal.userId, parseBody(secretSchema, body)),
      object: 'twoFactorRecover',
    };
  }

  /** Lost second factor: email + master password + recovery code turn two-step login off. */
  @Public()
  @Post('recover')
  @HttpCode(200)
  async recover(@Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    await this.twoFactor.recover(request.ip, parseBody(recoverSchema, body));
  }

  @Post('get-yubikey')
  @HttpCode(200)
  async getYubiKey(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    return {
      ...(await this.providers.getYubiKey(principal.userId, parseBody(secretSchema, body))),
      object: 'twoFactorYubiKey',
    };
  }

  /** Refused with a 400 that says why: YubiCloud is an outside service this server does not call. */
  @Put('yubikey')
  @Post('yubikey')
  @HttpCode(200)
  async putYubiKey(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    return this.providers.putYubiKey(principal.userId, parseBody(verificationTokenSchema, body).userVerificationToken);
  }

  @Delete('yubikey')
  @HttpCode(204)
  async deleteYubiKey(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.providers.deleteOutsideProvider(
      principal.userId,
      3,
      parseBody(verificationTokenSchema, body).userVerificationToken,
    );
  }

  @Post('get-duo')
  @HttpCode(200)
  async getDuo(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    return {
      ...(await this.providers.getDuo(principal.userId, parseBody(secretSchema, body))),
      object: 'twoFactorDuo',
    };
  }

  /** Refused with a 400 that says why: Duo's prompt is an outside service this server does not use. */
  @Put('duo')
  @Post('duo')
  @HttpCode(200)
  async putDuo(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    return this.providers.putDuo(principal.userId, parseBody(verificationTokenSchema, body).userVerificationToken);
  }

  @Delete('duo')
  @HttpCode(204)
  async deleteDuo(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.providers.deleteOutsideProvider(
      principal.userId,
      2,
      parseBody(verificationTokenSchema, body).userVerificationToken,
    );
  }
}
