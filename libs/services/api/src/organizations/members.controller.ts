import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { parseBody, listJson } from '@keyhaven/contracts';
import {
  MembersService,
  acceptSchema,
  bulkConfirmSchema,
  confirmSchema,
  idsSchema,
  inviteSchema,
  memberJson,
  updateMemberSchema,
  type Membership,
  type MemberWithAccess,
} from '@keyhaven/domain-admin-console';
import { CurrentUser, OrgMember, OrgPermission, type Principal } from '@keyhaven/platform-auth';

const json = (m: MemberWithAccess): Record<string, unknown> => memberJson(m.member, m.collections, m.groups);

@Controller('organizations/:orgId/users')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @OrgPermission('manageUsers', 'manageGroups')
  async list(@OrgMember() actor: Membership): Promise<Record<string, unknown>> {
    return listJson((await this.members.listWithAccess(actor.organizationId)).map(json));
  }

  @Get(':memberId')
  @OrgPermission('manageUsers')
  async get(
    @OrgMember() actor: Membership,
    @Param('memberId', ParseGuidPipe) memberId: string,
  ): Promise<Record<string, unknown>> {
    return json(await this.members.getWithAccess(actor.organizationId, memberId));
  }

  /** Without SMTP the response carries each invitation link for the admin to pass on. */
  @Post('invite')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async invite(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    return listJson(await this.members.invite(actor, parseBody(inviteSchema, body)));
  }

  @Post('reinvite')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async reinviteMany(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    return listJson(await this.members.reinvite(actor, parseBody(idsSchema, body).ids));
  }

  @Post(':memberId/reinvite')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async reinvite(
    @OrgMember() actor: Membership,
    @Param('memberId', ParseGuidPipe) memberId: string,
  ): Promise<Record<string, unknown>> {
    return listJson(await this.members.reinvite(actor, [memberId]));
  }

  @Post(':memberId/accept')
  @HttpCode(200)
  @OrgPermission.none('called by the invited user, not yet a member: the invitation token is the proof')
  async accept(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('memberId', ParseGuidPipe) memberId: string,
    @Body() body: unknown,
  ): Promise<void> {
    const { token, resetPasswordKey } = parseBody(acceptSchema, body);
    await this.members.accept(orgId, memberId, principal.userId, token, resetPasswordKey);
  }

  @Post('public-keys')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async publicKeys(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    const keys = await this.members.publicKeys(actor.organizationId, parseBody(idsSchema, body).ids);
    return listJson(keys.map((k) => ({ ...k, object: 'organizationUserPublicKeyResponseModel' })));
  }

  @Post('confirm')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async confirmMany(@OrgMember() actor: Membership, @Body() body: unknown): Promise<Record<string, unknown>> {
    const results = await this.members.confirmMany(actor, parseBody(bulkConfirmSchema, body).keys);
    return listJson(results.map((r) => ({ ...r, object: 'OrganizationBulkConfirmResponseModel' })));
  }

  @Post(':memberId/confirm')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async confirm(
    @OrgMember() actor: Membership,
    @Param('memberId', ParseGuidPipe) memberId: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.members.confirm(actor, memberId, parseBody(confirmSchema, body).key);
  }

  @Put(':memberId')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async update(
    @OrgMember() actor: Membership,
    @Param('memberId', ParseGuidPipe) memberId: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.members.update(actor, memberId, parseBody(updateMemberSchema, body));
  }

  @Put('revoke')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async revokeMany(@OrgMember() actor: Membership, @Body() body: unknown): Promise<void> {
    await this.members.revoke(actor, parseBody(idsSchema, body).ids);
  }

  @Put('restore')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async restoreMany(@OrgMember() actor: Membership, @Body() body: unknown): Promise<void> {
    await this.members.restore(actor, parseBody(idsSchema, body).ids);
  }

  @Put(':memberId/revoke')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async revoke(@OrgMember() actor: Membership, @Param('memberId', ParseGuidPipe) memberId: string): Promise<void> {
    await this.members.revoke(actor, [memberId]);
  }

  @Put(':memberId/restore')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async restore(@OrgMember() actor: Membership, @Param('memberId', ParseGuidPipe) memberId: string): Promise<void> {
    await this.members.restore(actor, [memberId]);
  }

  @Delete()
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async removeMany(@OrgMember() actor: Membership, @Body() body: unknown): Promise<void> {
    await this.members.remove(actor, parseBody(idsSchema, body).ids);
  }

  @Delete(':memberId')
  @HttpCode(200)
  @OrgPermission('manageUsers')
  async remove(@OrgMember() actor: Membership, @Param('memberId', ParseGuidPipe) memberId: string): Promise<void> {
    await this.members.remove(actor, [memberId]);
  }
}
