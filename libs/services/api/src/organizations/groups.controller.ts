import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody, listJson, guid } from '@keyhaven/contracts';
import {
  GroupRepository,
  GroupsService,
  OrgAccess,
  groupJson,
  groupRequestSchema,
} from '@keyhaven/domain-admin-console';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';

const memberIdsSchema = z.array(guid).max(10_000);
const idsSchema = z.object({ ids: z.array(guid).min(1).max(500) });

@Controller('organizations/:orgId/groups')
export class GroupsController {
  constructor(
    private readonly service: GroupsService,
    private readonly groups: GroupRepository,
    private readonly access: OrgAccess,
  ) {}

  @Get()
  async list(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(
      orgId,
      principal.userId,
      'manageGroups',
      'manageUsers',
      'editAnyCollection',
      'createNewCollections',
    );
    return listJson((await this.groups.listForOrg(orgId)).map((g) => groupJson(g)));
  }

  @Get('details')
  async details(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'manageGroups');
    const groups = await this.groups.listForOrg(orgId);
    return listJson(await Promise.all(groups.map(async (g) => groupJson(g, await this.groups.collectionsOf(g.id)))));
  }

  @Post()
  @HttpCode(200)
  async create(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const actor = await this.access.require(orgId, principal.userId, 'manageGroups');
    const group = await this.service.create(actor, parseBody(groupRequestSchema, body));
    return groupJson(group, await this.groups.collectionsOf(group.id));
  }

  @Get(':groupId')
  async get(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('groupId', ParseGuidPipe) groupId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'manageGroups');
    return groupJson(await this.service.require(orgId, groupId));
  }

  @Get(':groupId/details')
  async getDetails(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('groupId', ParseGuidPipe) groupId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'manageGroups');
    const group = await this.service.require(orgId, groupId);
    return groupJson(group, await this.groups.collectionsOf(group.id));
  }

  @Get(':groupId/users')
  async members(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('groupId', ParseGuidPipe) groupId: string,
  ): Promise<string[]> {
    await this.access.require(orgId, principal.userId, 'manageGroups');
    await this.service.require(orgId, groupId);
    return this.groups.membersOf(groupId);
  }

  @Put(':groupId/users')
  @HttpCode(200)
  async setMembers(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('groupId', ParseGuidPipe) groupId: string,
    @Body() body: unknown,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId, 'manageGroups');
    await this.service.setMembers(actor, groupId, parseBody(memberIdsSchema, body));
  }

  @Put(':groupId')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('groupId', ParseGuidPipe) groupId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const actor = await this.access.require(orgId, principal.userId, 'manageGroups');
    const group = await this.service.update(actor, groupId, parseBody(groupRequestSchema, body));
    return groupJson(group, await this.groups.collectionsOf(group.id));
  }

  @Delete(':groupId')
  @HttpCode(200)
  async delete(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('groupId', ParseGuidPipe) groupId: string,
  ): Promise<void> {
    await this.access.require(orgId, principal.userId, 'manageGroups');
    await this.service.delete(orgId, [groupId]);
  }

  @Delete()
  @HttpCode(200)
  async deleteMany(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.access.require(orgId, principal.userId, 'manageGroups');
    await this.service.delete(orgId, parseBody(idsSchema, body).ids);
  }
}
