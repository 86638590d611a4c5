import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody, listJson, guid } from '@keyhaven/contracts';
import { GroupRepository, GroupsService, type Group } from '@keyhaven/domain-admin-console';
import { CurrentUser, OrganizationApi, type Principal } from '@keyhaven/platform-auth';
import { organizationActor } from './org-actor';

const collection = z.object({
  id: guid,
  readOnly: z.boolean().default(false),
  hidePasswords: z.boolean().default(false),
  manage: z.boolean().default(false),
});
const groupSchema = z.object({
  name: z.string().min(1).max(100),
  externalId: z.string().max(300).nullish(),
  collections: z.array(collection).default([]),
});
const memberIdsSchema = z.object({ memberIds: z.array(guid).max(10_000) });

@OrganizationApi()
@Controller('public/groups')
export class PublicGroupsController {
  constructor(
    private readonly service: GroupsService,
    private readonly groups: GroupRepository,
  ) {}

  private async json(group: Group): Promise<Record<string, unknown>> {
    return {
      object: 'group',
      id: group.id,
      name: group.name,
      externalId: group.externalId,
      collections: await this.groups.collectionsOf(group.id),
    };
  }

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson(await Promise.all((await this.groups.listForOrg(principal.userId)).map((g) => this.json(g))));
  }

  @Get(':id')
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return this.json(await this.service.require(principal.userId, id));
  }

  @Post()
  @HttpCode(200)
  async create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return this.json(await this.service.create(organizationActor(principal), parseBody(groupSchema, body)));
  }

  @Put(':id')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return this.json(await this.service.update(organizationActor(principal), id, parseBody(groupSchema, body)));
  }

  @Delete(':id')
  @HttpCode(200)
  async delete(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.service.delete(principal.userId, [id]);
  }

  @Get(':id/member-ids')
  async memberIds(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<string[]> {
    await this.service.require(principal.userId, id);
    return this.groups.membersOf(id);
  }

  @Put(':id/member-ids')
  @HttpCode(200)
  async setMemberIds(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.service.setMembers(organizationActor(principal), id, parseBody(memberIdsSchema, body).memberIds);
  }
}
