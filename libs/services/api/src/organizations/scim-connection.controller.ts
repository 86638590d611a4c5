import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post, Put } from '@nestjs/common';
import { parseBody } from '@keyhaven/contracts';
import { ParseGuidPipe } from '@keyhaven/http';
import { ScimSetupService, connectionSchema, type Membership } from '@keyhaven/domain-admin-console';
import { CurrentUser, OrgMember, OrgPermission, type Principal } from '@keyhaven/platform-auth';

/**
 * The web vault's SCIM page (ENTERPRISE.md §4.1): `organizations/connections`, type 2 only. A missing
 * connection reads as 200 with nulls, as the page expects.
 */
@Controller('organizations/connections')
export class ScimConnectionController {
  constructor(private readonly setup: ScimSetupService) {}

  @Get(':orgId/:type')
  @OrgPermission('manageScim')
  get(@OrgMember() actor: Membership, @Param('type', ParseIntPipe) type: number): Promise<Record<string, unknown>> {
    return this.setup.connectionJson(actor.organizationId, type);
  }

  @Post()
  @HttpCode(200)
  create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return this.setup.createConnectionAs(principal.userId, parseBody(connectionSchema, body));
  }

  @Put(':connectionId')
  @HttpCode(200)
  update(
    @CurrentUser() principal: Principal,
    @Param('connectionId', ParseGuidPipe) connectionId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.setup.updateConnectionAs(principal.userId, connectionId, parseBody(connectionSchema, body));
  }
}
