import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Put } from '@nestjs/common';
import { parseBody, listJson } from '@keyhaven/contracts';
import { PoliciesService, policyJson, policyRequestSchema, type Membership } from '@keyhaven/domain-admin-console';
import { OrgMember, OrgPermission } from '@keyhaven/platform-auth';

@Controller('organizations/:orgId/policies')
@OrgPermission('managePolicies')
export class PoliciesController {
  constructor(private readonly service: PoliciesService) {}

  @Get()
  async list(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return listJson((await this.service.list(actor.organizationId)).map(policyJson));
  }

  /** A type never saved reads as a disabled policy without an id. */
  @Get(':type')
  async get(
    @OrgMember() actor: Membership,
    @Param('type', ParseIntPipe) type: number,
  ): Promise<Record<string, unknown>> {
    return policyJson(await this.service.get(actor.organizationId, type));
  }

  @Put(':type')
  @HttpCode(200)
  async put(
    @OrgMember() actor: Membership,
    @Param('type', ParseIntPipe) type: number,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return policyJson(await this.service.save(actor.organizationId, type, parseBody(policyRequestSchema, body)));
  }
}
