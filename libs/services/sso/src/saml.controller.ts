import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { notFound } from '@keyhaven/contracts';
import { SamlSpService, ssoHttpResponse, type IdpCallbackRequest } from '@keyhaven/domain-admin-console';
import { ParseGuidPipe } from '@keyhaven/http';
import { Public } from '@keyhaven/platform-auth';

const strings = (value: unknown): Record<string, string> =>
  typeof value === 'object' && value !== null
    ? Object.fromEntries(
        Object.entries(value as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'),
      )
    : {};

/**
 * The SAML 2.0 service provider at the addresses `urls` advertises: metadata at
 * `{DOMAIN}/sso/saml2/{orgId}` and the ACS at `{DOMAIN}/sso/saml2/{orgId}/Acs` (HTTP-POST; a GET
 * there can only be the artifact binding or a stray navigation, both refused with a page).
 */
@Public()
@Controller('saml2')
export class SamlController {
  constructor(
    private readonly saml: SamlSpService,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  @Get(':orgId')
  async metadata(@Param('orgId', ParseGuidPipe) orgId: string, @Res() reply: FastifyReply): Promise<void> {
    const xml = await this.saml.metadata(orgId);
    if (xml === null) throw notFound('Organization');
    await reply.code(200).header('content-type', 'application/samlmetadata+xml; charset=utf-8').send(xml);
  }

  @Post(':orgId/Acs')
  async acsPost(
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.acs(orgId, request, reply, 'POST');
  }

  @Get(':orgId/Acs')
  async acsGet(
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.acs(orgId, request, reply, 'GET');
  }

  private async acs(orgId: string, request: FastifyRequest, reply: FastifyReply, method: 'GET' | 'POST') {
    const callback: IdpCallbackRequest = {
      method,
      url: `${this.config.DOMAIN}/sso/saml2/${orgId}/Acs`,
      query: strings(request.query),
      body: method === 'POST' ? strings(request.body) : {},
    };
    const answer = ssoHttpResponse(await this.saml.acs(orgId, callback));
    await reply.code(answer.status).headers(answer.headers).send(answer.body);
  }
}
