import { Body, Controller, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { LoginService, SigningKeys, type TokenForm } from '@keyhaven/domain-auth';
import { Public } from '@keyhaven/platform-auth';
import { SendAccessService } from '@keyhaven/domain-tools';
import { SsoLoginService } from '@keyhaven/domain-admin-console';

function formOf(body: unknown): TokenForm {
  if (typeof body !== 'object' || body === null) return {};
  return Object.fromEntries(
    Object.entries(body as Record<string, unknown>).map(([k, v]) => [
      k,
      typeof v === 'string' && !v.includes('\0') ? v : undefined,
    ]),
  );
}

@Public()
@Controller()
export class TokenController {
  constructor(
    private readonly login: LoginService,
    private readonly keys: SigningKeys,
    private readonly sendAccess: SendAccessService,
    private readonly sso: SsoLoginService,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  @Post('connect/token')
  @HttpCode(200)
  token(@Body() body: unknown, @Req() request: FastifyRequest): Promise<Record<string, unknown>> {
    const form = formOf(body);
    // A Send recipient's grant belongs to the tools domain; every other grant is auth's.
    if (form['grant_type'] === 'send_access') return this.sendAccess.token(form, request.ip);
    // SSO's code belongs to the flow that minted it (admin-console); it ends in auth's login.
    if (form['grant_type'] === 'authorization_code') return this.sso.codeGrant(form);
    return this.login.token(form, request.ip);
  }

  @Get('.well-known/openid-configuration')
  discovery(): Record<string, unknown> {
    const issuer = `${this.config.DOMAIN}/identity`;
    return {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks`,
      token_endpoint: `${issuer}/connect/token`,
      authorization_endpoint: `${issuer}/connect/authorize`,
      grant_types_supported: ['password', 'refresh_token', 'client_credentials', 'authorization_code'],
      id_token_signing_alg_values_supported: [this.keys.algorithm],
      scopes_supported: ['api', 'offline_access', 'api.organization'],
    };
  }

  @Get('.well-known/jwks')
  jwks(): Promise<unknown> {
    return this.keys.jwks();
  }
}
