import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { notFound, parseBody, listJson, guid } from '@keyhaven/contracts';
import { MemberRepository, MembersService, type MemberDetails } from '@keyhaven/domain-admin-console';
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
  permissions: z.record(z.string(), z.unknown()).nullish(),
});
const updateSchema = createSchema.omit({ email: true });
const groupIdsSchema = z.object({ groupIds: z.array(guid).max(1000) });

function publicMemberJson(m: MemberDetails, collections: z.infer<typeof collection>[]): Record<string, unknown> {
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
  constructor(
    private readonly members: MembersService,
    private readonly repository: MemberRepository,
  ) {}

  private async details(orgId: string, id: string): Promise<Record<string, unknown>> {
    const member = (await this.repository.listDetails(orgId, [id]))[0];
    if (!member) throw notFound('Member');
    return publicMemberJson(member, await this.repository.collectionsOf(id));
  }

  @Get()
  async list(@CurrentUser() principal: Principal): Promise<Record<string, unknown>> {
    const members = await this.repository.listDetails(principal.userId);
    return listJson(
      await Promise.all(members.map(async (m) => publicMemberJson(m, await this.repository.collectionsOf(m.id)))),
    );
  }

  @Get(':id')
  get(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<Record<string, unknown>> {
    return this.details(principal.userId, id);
  }

  @Post()
  @HttpCode(200)
  async create(@CurrentUser() principal: Principal, @Body() body: unknown): Promise<Record<string, unknown>> {
    const request = parseBody(createSchema, body);
    const [invited] = await this.members.invite(organizationActor(principal), { ...request, emails: [request.email] });
    if (!invited) throw notFound('Member');
    if (request.externalId)
      await this.repository.update(principal.userId, invited.id, { external_id: request.externalId });
    return this.details(principal.userId, invited.id);
  }

  @Put(':id')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const request = parseBody(updateSchema, body);
    await this.members.update(organizationActor(principal), id, request);
    if (request.externalId !== undefined)
      await this.repository.update(principal.userId, id, { external_id: request.externalId ?? null });
    return this.details(principal.userId, id);
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
  async groupIds(@CurrentUser() principal: Principal, @Param('id', ParseGuidPipe) id: string): Promise<string[]> {
    if (!(await this.repository.findInOrg(principal.userId, id))) throw notFound('Member');
    return this.repository.groupsOf(id);
  }

  @Put(':id/group-ids')
  @HttpCode(200)
  async setGroupIds(
    @CurrentUser() principal: Principal,
    @Param('id', ParseGuidPipe) id: string,
    @Body() body: unknown,
  ): Promise<void> {
    const member = await this.repository.findInOrg(principal.userId, id);
    if (!member) throw notFound('Member');
    await this.members.update(organizationActor(principal), id, {
      type: member.type as 0 | 1 | 2 | 4,
      permissions: member.permissions,
      groups: parseBody(groupIdsSchema, body).groupIds,
    });
  }
}
