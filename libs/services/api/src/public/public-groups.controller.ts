import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody, listJson, guid } from '@keyhaven/contracts';
import { GroupsService, type GroupWithCollections } from '@keyhaven/domain-admin-console';
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

const json = (group: GroupWithCollections): Record<string, unknown> => ({
  object: 'group',
  id: group.id,
  name: group.name,
  externalId: group.externalId,
  collections: group.collections,
});

@OrganizationApi()
@Controller('public/groups')
export class PublicGroupsController {
  constructor(private readonly service: GroupsService) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.service.listWithCollections(principal.userId)).map(json));
  }

  @Get(':id')
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return json(await this.service.getWithCollections(principal.userId, id));
  }

  @Post()
  @HttpCode(200)
  async create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return json(await this.service.create(organizationActor(principal), parseBody(groupSchema, body)));
  }

  @Put(':id')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return json(await this.service.update(organizationActor(principal), id, parseBody(groupSchema, body)));
  }

  @Delete(':id')
  @HttpCode(200)
  async delete(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.service.delete(principal.userId, [id]);
  }

  @Get(':id/member-ids')
  memberIds(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<string[]> {
    return this.service.memberIds(principal.userId, id);
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
