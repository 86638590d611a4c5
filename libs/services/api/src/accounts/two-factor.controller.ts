import { Body, Controller, Get, HttpCode, Inject, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { badRequest, parseBody, rateLimited, listJson } from '@keyhaven/contracts';
import {
  AccountsService,
  PasswordHasher,
  TwoFactorProvider,
  TwoFactorService,
  UserRepository,
  normalizeEmail,
} from '@keyhaven/domain-auth';
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
    private readonly twoFactor: TwoFactorService,
    private readonly accounts: AccountsService,
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    private readonly policies: PoliciesService,
  ) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    const user = await this.users.require(principal.userId);
    const data = user.totpSecret
      ? [{ enabled: true, type: TwoFactorProvider.Authenticator, object: 'twoFactorProvider' }]
      : [];
    return listJson(data);
  }

  @Post('get-authenticator')
  @HttpCode(200)
  async getAuthenticator(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const user = await this.users.require(principal.userId);
    await this.accounts.requireMasterPassword(user, parseBody(secretSchema, body).masterPasswordHash);
    return {
      enabled: user.totpSecret !== null,
      key: user.totpSecret ?? this.twoFactor.newAuthenticatorKey(),
      userVerificationToken: null,
      object: 'twoFactorAuthenticator',
    };
  }

  /** Enrolment completes only with a valid code from the new secret. */
  @Put('authenticator')
  @HttpCode(200)
  async enableAuthenticator(
    @CurrentUser() principal: Principal,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const request = parseBody(enableSchema, body);
    const user = await this.users.require(principal.userId);
    await this.accounts.requireMasterPassword(user, request.masterPasswordHash);
    const key = request.key.toUpperCase().replace(/=+$/, '');
    if (!(await this.twoFactor.verifyTotp(user.id, key, request.token))) {
      throw badRequest('Invalid token.', { token: ['Invalid token.'] });
    }
    await this.twoFactor.enableAuthenticator(user, key);
    return { enabled: true, key, userVerificationToken: null, object: 'twoFactorAuthenticator' };
  }

  @Put('disable')
  @HttpCode(200)
  async disable(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const request = parseBody(disableSchema, body);
    const user = await this.users.require(principal.userId);
    await this.accounts.requireMasterPassword(user, request.masterPasswordHash);
    if (request.type === TwoFactorProvider.Authenticator && user.totpSecret) {
      await this.twoFactor.disableAuthenticator(user);
      await this.policies.onTwoFactorDisabled(user.id, user.email);
    }
    return { enabled: false, type: request.type, object: 'twoFactorProvider' };
  }

  @Post('get-recover')
  @HttpCode(200)
  async getRecover(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const user = await this.users.require(principal.userId);
    await this.accounts.requireMasterPassword(user, parseBody(secretSchema, body).masterPasswordHash);
    return { code: await this.twoFactor.newRecoveryCode(user), object: 'twoFactorRecover' };
  }

  /** Lost authenticator: email + master password + recovery code turn two-step login off. */
  @Public()
  @Post('recover')
  @HttpCode(200)
  async recover(@Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    const decision = await this.cacheStore.rateLimiter.hit(
      `2fa-recover:${request.ip}`,
      this.config.LOGIN_RATE_LIMIT_PER_MINUTE,
      60_000,
    );
    if (!decision.allowed) throw rateLimited(Math.ceil(decision.retryAfterMs / 1000));
    const input = parseBody(recoverSchema, body);
    const user = await this.users.findByEmail(normalizeEmail(input.email));
    const passwordOk = user
      ? await this.hasher.verify(user.masterPasswordHash, input.masterPasswordHash)
      : await this.hasher.verifyNothing(input.masterPasswordHash);
    if (!user || !passwordOk || !(await this.twoFactor.recover(user, input.recoveryCode))) {
      throw badRequest('Invalid information. Try again.');
    }
  }
}
