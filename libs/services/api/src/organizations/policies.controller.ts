import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Put } from '@nestjs/common';
import { parseBody, listJson } from '@keyhaven/contracts';
import {
  OrgAccess,
  PoliciesService,
  PolicyRepository,
  policyJson,
  policyRequestSchema,
} from '@keyhaven/domain-admin-console';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

@Controller('organizations/:orgId/policies')
export class PoliciesController {
  constructor(
    private readonly service: PoliciesService,
    private readonly policies: PolicyRepository,
    private readonly access: OrgAccess,
  ) {}

  @Get()
  async list(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'managePolicies');
    return listJson((await this.policies.listForOrg(orgId)).map(policyJson));
  }

  @Get(':type')
  async get(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('type', ParseIntPipe) type: number,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'managePolicies');
    this.service.assertKnownType(type);
    const policy = await this.policies.find(orgId, type);
    return policy
      ? policyJson(policy)
      : { id: null, organizationId: orgId, type, data: null, enabled: false, object: 'policy' };
  }

  @Put(':type')
  @HttpCode(200)
  async put(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('type', ParseIntPipe) type: number,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'managePolicies');
    return policyJson(await this.service.save(orgId, type, parseBody(policyRequestSchema, body)));
  }
}
