import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody, listJson, guid } from '@keyhaven/contracts';
import { GroupsService, groupJson, groupRequestSchema, type Membership } from '@keyhaven/domain-admin-console';
import { ExpensiveCall, OrgMember, OrgPermission } from '@keyhaven/platform-auth';

const memberIdsSchema = z.array(guid).max(10_000);
const idsSchema = z.object({ ids: z.array(guid).min(1).max(500) });

@Controller('organizations/:orgId/groups')
@OrgPermission('manageGroups')
export class GroupsController {
  constructor(private readonly service: GroupsService) {}

  /** Names only: whoever assigns members or collections needs to see the groups. */
  @Get()
  @OrgPermission('manageGroups', 'manageUsers', 'editAnyCollection', 'createNewCollections')
  async list(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return listJson((await this.service.list(actor.organizationId)).map((g) => groupJson(g)));
  }

  @Get('details')
  @ExpensiveCall('details')
  async details(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return listJson(
      (await this.service.listWithCollections(actor.organizationId)).map((g) => groupJson(g, g.collections)),
    );
  }

  @Post()
  @HttpCode(200)
  async create(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    const group = await this.service.create(actor, parseBody(groupRequestSchema, body));
    return groupJson(group, group.collections);
  }

  @Get(':groupId')
  async get(
    @OrgMember() actor: Membership,
    @Param('groupId', ParseGuidPipe) groupId: string,
  ): Promise<Record<string, unknown>> {
    return groupJson(await this.service.require(actor.organizationId, groupId));
  }

  @Get(':groupId/details')
  async getDetails(
    @OrgMember() actor: Membership,
    @Param('groupId', ParseGuidPipe) groupId: string,
  ): Promise<Record<string, unknown>> {
    const group = await this.service.getWithCollections(actor.organizationId, groupId);
    return groupJson(group, group.collections);
  }

  @Get(':groupId/users')
  members(@OrgMember() actor: Membership, @Param('groupId', ParseGuidPipe) groupId: string): Promise<string[]> {
    return this.service.memberIds(actor.organizationId, groupId);
  }

  @Put(':groupId/users')
  @HttpCode(200)
  async setMembers(
    @OrgMember() actor: Membership,
    @Param('groupId', ParseGuidPipe) groupId: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.service.setMembers(actor, groupId, parseBody(memberIdsSchema, body));
  }

  @Put(':groupId')
  @HttpCode(200)
  async update(
    @OrgMember() actor: Membership,
    @Param('groupId', ParseGuidPipe) groupId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const group = await this.service.update(actor, groupId, parseBody(groupRequestSchema, body));
    return groupJson(group, group.collections);
  }

  @Delete(':groupId')
  @HttpCode(200)
  async delete(@OrgMember() actor: Membership, @Param('groupId', ParseGuidPipe) groupId: string): Promise<void> {
    await this.service.delete(actor.organizationId, [groupId]);
  }

  @Delete()
  @HttpCode(200)
  async deleteMany(@OrgMember() actor: Membership, @Body() body: unknown): Promise<void> {
    await this.service.delete(actor.organizationId, parseBody(idsSchema, body).ids);
  }
}
