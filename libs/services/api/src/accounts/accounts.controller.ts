import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody } from '@keyhaven/contracts';
import {
  AccountCredentialsService,
  ProfileService,
  accountKeysRequestSchema,
  kdfChangeSchema,
  keyPairOf,
  keysJson,
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
    private readonly profiles: ProfileService,
    private readonly credentials: AccountCredentialsService,
  ) {}

  @Get('profile')
  async profile(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return profileJson(await this.profiles.get(principal.userId));
  }

  @Put('profile')
  async updateProfile(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return profileJson(await this.profiles.update(principal.userId, parseBody(profileSchema, body)));
  }

  /** A new account's first key pair (trusted-device onboarding: the account has no master password). */
  @Post('keys')
  @HttpCode(200)
  async keys(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const pair = keyPairOf(parseBody(accountKeysRequestSchema, body));
    return keysJson(await this.profiles.setFirstKeyPair(principal.userId, pair));
  }

  /** Milliseconds since the epoch, as a bare JSON number: `bw sync` compares it with its last sync. */
  @Get('revision-date')
  revisionDate(@CurrentUser() principal: Principal): Promise<number> {
    return this.profiles.revisionDate(principal.userId);
  }

  /** The SDK backfills the id of the user key after login; a missing route fails `bw login`. */
  @Post('key-management/user-key-id')
  @HttpCode(200)
  async userKeyId(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.profiles.setUserKeyId(principal.userId, parseBody(userKeyIdSchema, body).userKeyId);
  }

  @Post('verify-password')
  @HttpCode(200)
  async verifyPassword(
    @CurrentUser() principal: Principal,
    @Body() body: unknown,
  ): Promise<{ policy: null; object: string }> {
    await this.credentials.verifyPassword(principal.userId, parseBody(secretSchema, body).masterPasswordHash);
    return { policy: null, object: 'masterPasswordPolicy' };
  }

  @Post('api-key')
  @HttpCode(200)
  async apiKey(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const { masterPasswordHash } = parseBody(secretSchema, body);
    const { apiKey, revisionDate } = await this.credentials.apiKey(principal.userId, masterPasswordHash);
    return { apiKey, revisionDate: revisionDate.toISOString(), object: 'apiKey' };
  }

  @Post('rotate-api-key')
  @HttpCode(200)
  async rotateApiKey(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const { masterPasswordHash } = parseBody(secretSchema, body);
    const apiKey = await this.credentials.rotateApiKey(principal.userId, masterPasswordHash);
    return { apiKey, revisionDate: new Date().toISOString(), object: 'apiKey' };
  }

  @Post('security-stamp')
  @HttpCode(200)
  async securityStamp(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.credentials.logOutEverywhere(principal.userId, parseBody(secretSchema, body).masterPasswordHash);
  }

  @Post('password')
  @HttpCode(200)
  async password(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.credentials.changePassword(principal.userId, parseBody(passwordChangeSchema, body));
  }

  @Post('kdf')
  @HttpCode(200)
  async kdf(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.credentials.changeKdf(principal.userId, parseBody(kdfChangeSchema, body));
  }
}
