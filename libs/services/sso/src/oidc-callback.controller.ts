import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Inject } from '@nestjs/common';
import { SsoLoginService, ssoHttpResponse, type IdpCallbackRequest } from '@keyhaven/domain-admin-console';
import { Public } from '@keyhaven/platform-auth';

const strings = (value: unknown): Record<string, string> =>
  typeof value === 'object' && value !== null
    ? Object.fromEntries(
        Object.entries(value as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'),
      )
    : {};

/**
 * The OIDC redirect URI advertised as `urls.callbackPath` (`{DOMAIN}/sso/oidc-signin`): form_post
 * (POST, cross-site, so no cookie is relied on) or query (GET). The flow is found by `state`.
 */
@Public()
@Controller()
export class OidcCallbackController {
  constructor(
    private readonly sso: SsoLoginService,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  @Get('oidc-signin')
  async signinGet(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.complete(request, reply, 'GET');
  }

  @Post('oidc-signin')
  async signinPost(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.complete(request, reply, 'POST');
  }

  private async complete(request: FastifyRequest, reply: FastifyReply, method: 'GET' | 'POST'): Promise<void> {
    const query = strings(request.query);
    const body = method === 'POST' ? strings(request.body) : {};
    const callback: IdpCallbackRequest = {
      method,
      url: `${this.config.DOMAIN}/sso/oidc-signin`,
      query,
      body,
    };
    const answer = ssoHttpResponse(await this.sso.completeCallback(body['state'] ?? query['state'], callback));
    await reply.code(answer.status).headers(answer.headers).send(answer.body);
  }
}
