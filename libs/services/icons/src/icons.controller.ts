import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '@keyhaven/platform-auth';
import { IconsService } from './icons.service';

/** `GET /icons/{domain}/icon.png`: anonymous (the clients load it as an image), cacheable. */
@Public()
@Controller()
export class IconsController {
  constructor(@Inject(IconsService) private readonly icons: IconsService) {}

  @Get(':domain/icon.png')
  async icon(
    @Param('domain') domain: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    const answer = await this.icons.icon(domain, request.ip);
    // Set here, not with @Header: an error answer must keep its JSON content type.
    void reply.header('content-type', 'image/png');
    void reply.header('cache-control', `public, max-age=${answer.maxAgeSeconds}`);
    // The web vault and the extensions load it as an image from their own origins.
    void reply.header('cross-origin-resource-policy', 'cross-origin');
    return answer.png;
  }
}
