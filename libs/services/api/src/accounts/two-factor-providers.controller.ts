import { Body, Controller, Delete, HttpCode, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { parseBody } from '@keyhaven/contracts';
import { EmailLoginService, TwoFactorProvidersService } from '@keyhaven/domain-auth';
import { CurrentUser, Public, type Principal } from '@keyhaven/platform-auth';
import {
  deleteWebAuthnSchema,
  enableEmailSchema,
  putWebAuthnSchema,
  secretSchema,
  sendEmailLoginSchema,
  sendEmailSetupSchema,
  verificationTokenSchema,
} from './two-factor.schemas';

type Json = Record<string, unknown>;

/** `api/two-factor` email and WebAuthn in the 2026 shapes (nested details, user-verification token). */
@Controller('two-factor')
export class TwoFactorProvidersController {
  constructor(
    private readonly providers: TwoFactorProvidersService,
    private readonly emailLogin: EmailLoginService,
  ) {}

  @Post('get-email')
  @HttpCode(200)
  async getEmail(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    return {
      ...(await this.providers.getEmail(principal.userId, parseBody(secretSchema, body))),
      object: 'twoFactorEmail',
    };
  }

  /** Mails the setup code to the address being enrolled. */
  @Post('send-email')
  @HttpCode(200)
  async sendEmail(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.providers.sendEmailSetupCode(principal.userId, parseBody(sendEmailSetupSchema, body));
  }

  @Put('email')
  @Post('email')
  @HttpCode(200)
  async enableEmail(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    const email = await this.providers.enableEmail(principal.userId, parseBody(enableEmailSchema, body));
    return { email, object: 'twoFactorEmailUpdate' };
  }

  @Delete('email')
  @HttpCode(204)
  async deleteEmail(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.providers.disableEmail(principal.userId, parseBody(verificationTokenSchema, body).userVerificationToken);
  }

  /** Anonymous: the 2025.5+ clients ask for the login code themselves after the challenge. */
  @Public()
  @Post('send-email-login')
  @HttpCode(200)
  async sendEmailLogin(@Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    await this.emailLogin.send(request.ip, parseBody(sendEmailLoginSchema, body));
  }

  @Post('get-webauthn')
  @HttpCode(200)
  async getWebAuthn(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    return {
      ...(await this.providers.getWebAuthn(principal.userId, parseBody(secretSchema, body))),
      object: 'twoFactorWebAuthn',
    };
  }

  @Post('get-webauthn-challenge')
  @HttpCode(200)
  async webAuthnChallenge(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    const token = parseBody(verificationTokenSchema, body).userVerificationToken;
    return {
      options: await this.providers.webAuthnChallenge(principal.userId, token),
      object: 'twoFactorWebAuthnChallenge',
    };
  }

  @Put('webauthn')
  @Post('webauthn')
  @HttpCode(200)
  async putWebAuthn(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    const request = parseBody(putWebAuthnSchema, body);
    const webAuthn = await this.providers.putWebAuthn(principal.userId, { ...request, name: request.name ?? '' });
    return { webAuthn, object: 'twoFactorWebAuthnUpdate' };
  }

  @Delete('webauthn')
  @HttpCode(200)
  async deleteWebAuthn(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Json> {
    const webAuthn = await this.providers.deleteWebAuthn(principal.userId, parseBody(deleteWebAuthnSchema, body));
    return { webAuthn, object: 'twoFactorWebAuthnDelete' };
  }

  @Delete('webauthn/all')
  @HttpCode(204)
  async deleteAllWebAuthn(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<void> {
    await this.providers.deleteAllWebAuthn(
      principal.userId,
      parseBody(verificationTokenSchema, body).userVerificationToken,
    );
  }
}
