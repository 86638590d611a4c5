import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody } from '@keyhaven/contracts';
import {
  AccountsService,
  UserRepository,
  kdfChangeSchema,
  passwordChangeSchema,
  profileJson,
} from '@keyhaven/domain-auth';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

const secretSchema = z.object({ masterPasswordHash: z.string().nullish(), otp: z.string().nullish() });
const userKeyIdSchema = z.object({ userKeyId: z.string().regex(/^[0-9a-fA-F-]{8,64}$/, 'must be a key id') });
const profileSchema = z.object({ name: z.string().max(50).nullish(), culture: z.string().max(10).nullish() });

@Controller('accounts')
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly users: UserRepository,
  ) {}

  @Get('profile')
  async profile(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return profileJson(await this.users.require(principal.userId));
  }

  @Put('profile')
  async updateProfile(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const change = parseBody(profileSchema, body);
    await this.users.update(principal.userId, {
      name: change.name ?? null,
      ...(change.culture ? { culture: change.culture } : {}),
    });
    return profileJson(await this.users.require(principal.userId));
  }

  /** Milliseconds since the epoch, as a bare JSON number: `bw sync` compares it with its last sync. */
  @Get('revision-date')
  async revisionDate(@CurrentUser() principal: Principal): Promise<number> {
    return (await this.users.require(principal.userId)).accountRevisionDate.getTime();
  }

  /** The SDK backfills the id of the user key after login; a missing route fails `bw login`. */
  @Post('key-management/user-key-id')
  @HttpCode(200)
  async userKeyId(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.users.update(principal.userId, { user_key_id: parseBody(userKeyIdSchema, body).userKeyId });
  }

  @Post('verify-password')
  @HttpCode(200)
  async verifyPassword(
    @CurrentUser() principal: Principal,
    @Body() body: unknown,
  ): Promise<{ policy: null; object: string }> {
    const user = await this.users.require(principal.userId);
    await this.accounts.requireMasterPassword(user, parseBody(secretSchema, body).masterPasswordHash);
    return { policy: null, object: 'masterPasswordPolicy' };
  }

  @Post('api-key')
  @HttpCode(200)
  async apiKey(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const user = await this.users.require(principal.userId);
    await this.accounts.requireMasterPassword(user, parseBody(secretSchema, body).masterPasswordHash);
    return { apiKey: user.apiKey, revisionDate: user.revisionDate.toISOString(), object: 'apiKey' };
  }

  @Post('rotate-api-key')
  @HttpCode(200)
  async rotateApiKey(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const user = await this.users.require(principal.userId);
    await this.accounts.requireMasterPassword(user, parseBody(secretSchema, body).masterPasswordHash);
    return { apiKey: await this.accounts.rotateApiKey(user), revisionDate: new Date().toISOString(), object: 'apiKey' };
  }

  @Post('security-stamp')
  @HttpCode(200)
  async securityStamp(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    const user = await this.users.require(principal.userId);
    await this.accounts.requireMasterPassword(user, parseBody(secretSchema, body).masterPasswordHash);
    await this.accounts.rotateSecurityStamp(user);
  }

  @Post('password')
  @HttpCode(200)
  async password(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.accounts.changePassword(
      await this.users.require(principal.userId),
      parseBody(passwordChangeSchema, body),
    );
  }

  @Post('kdf')
  @HttpCode(200)
  async kdf(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.accounts.changeKdf(await this.users.require(principal.userId), parseBody(kdfChangeSchema, body));
  }
}
