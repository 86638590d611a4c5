import { Body, Controller, Delete, Get, HttpCode, Put } from '@nestjs/common';
import { parseBody } from '@keyhaven/contracts';
import type { Membership } from '@keyhaven/domain-admin-console';
import { SiemWebhooksService, siemWebhookJson, siemWebhookRequestSchema } from '@keyhaven/domain-events';
import { OrgMember, OrgPermission } from '@keyhaven/platform-auth';

/**
 * `organizations/{id}/siem-webhook`: where the organization's events stream to. Owners set and
 * remove it (it carries the signing secret and sends every event out); Admins see its settings and
 * delivery state (last failure and when), never the secret.
 */
@Controller('organizations/:orgId/siem-webhook')
export class SiemWebhookController {
  constructor(private readonly service: SiemWebhooksService) {}

  @Get()
  @OrgPermission('admin')
  async get(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return siemWebhookJson(await this.service.get(actor.organizationId));
  }

  @Put()
  @HttpCode(200)
  @OrgPermission('owner')
  async put(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    return siemWebhookJson(await this.service.save(actor.organizationId, parseBody(siemWebhookRequestSchema, body)));
  }

  @Delete()
  @HttpCode(200)
  @OrgPermission('owner')
  async remove(@OrgMember() actor: Membership): Promise<void> {
    await this.service.remove(actor.organizationId);
  }
}
