import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '@keyhaven/contracts';
import { SsoLoginService, ssoHttpResponse } from '@keyhaven/domain-admin-console';
import { Public } from '@keyhaven/platform-auth';

/** The anonymous SSO steps of the identity service (ENTERPRISE.md §1.2, §1.3). */
@Public()
@Controller()
export class SsoController {
  constructor(private readonly sso: SsoLoginService) {}

  @Get('sso/prevalidate')
  async prevalidate(@Query('domainHint') domainHint: unknown): Promise<{ token: string }> {
    const result = await this.sso.prevalidate(typeof domainHint === 'string' ? domainHint : undefined);
    if ('error' in result) throw badRequest(result.error);
    return result;
  }

  /** The query is read raw: `state` arrives un-encoded and goes back byte for byte. */
  @Get('connect/authorize')
  async authorize(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const at = request.url.indexOf('?');
    const answer = ssoHttpResponse(await this.sso.authorize(at < 0 ? '' : request.url.slice(at + 1)));
    await reply.code(answer.status).headers(answer.headers).send(answer.body);
  }
}
