import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { parseBody, listJson, guid, opaqueJsonObject } from '@keyhaven/contracts';
import { MembersService, type MemberWithAccess } from '@keyhaven/domain-admin-console';
import { CurrentUser, OrganizationApi, type Principal } from '@keyhaven/platform-auth';
import { organizationActor } from './org-actor';

const collection = z.object({
  id: guid,
  readOnly: z.boolean().default(false),
  hidePasswords: z.boolean().default(false),
  manage: z.boolean().default(false),
});
const memberType = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(4)]);
const createSchema = z.object({
  email: z.email().max(256),
  type: memberType,
  externalId: z.string().max(300).nullish(),
  collections: z.array(collection).default([]),
  groups: z.array(guid).default([]),
  permissions: opaqueJsonObject().nullish(),
});
const updateSchema = createSchema.omit({ email: true });
const groupIdsSchema = z.object({ groupIds: z.array(guid).max(1000) });

function publicMemberJson({ member: m, collections }: MemberWithAccess): Record<string, unknown> {
  return {
    object: 'member',
    id: m.id,
    userId: m.userId,
    name: m.name,
    email: m.userEmail ?? m.email,
    twoFactorEnabled: m.twoFactorEnabled,
    status: m.status,
    type: m.type,
    externalId: m.externalId,
    resetPasswordEnrolled: m.resetPasswordKey !== null,
    permissions: m.permissions,
    collections,
  };
}

/** `/api/public/members`, for directory sync and scripts holding the organization API key. */
@OrganizationApi()
@Controller('public/members')
export class PublicMembersController {
  constructor(private readonly members: MembersService) {}

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    return listJson((await this.members.listWithAccess(principal.userId)).map(publicMemberJson));
  }

  @Get(':id')
  async get(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
  ): Promise<Record<string, unknown>> {
    return publicMemberJson(await this.members.getWithAccess(principal.userId, id));
  }

  @Post()
  @HttpCode(200)
  async create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    return publicMemberJson(await this.members.inviteOne(organizationActor(principal), parseBody(createSchema, body)));
  }

  @Put(':id')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    return publicMemberJson(
      await this.members.updateWithExternalId(organizationActor(principal), id, parseBody(updateSchema, body)),
    );
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.members.remove(organizationActor(principal), [id]);
  }

  @Post(':id/reinvite')
  @HttpCode(200)
  async reinvite(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<void> {
    await this.members.reinvite(organizationActor(principal), [id]);
  }

  @Get(':id/group-ids')
  groupIds(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<string[]> {
    return this.members.groupIds(principal.userId, id);
  }

  @Put(':id/group-ids')
  @HttpCode(200)
  async setGroupIds(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.members.setGroups(organizationActor(principal), id, parseBody(groupIdsSchema, body).groupIds);
  }
}
