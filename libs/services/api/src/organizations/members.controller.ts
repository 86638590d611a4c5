import { ParseGuidPipe } from '@keyhaven/http';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { notFound, parseBody, listJson } from '@keyhaven/contracts';
import {
  MemberRepository,
  MembersService,
  OrgAccess,
  acceptSchema,
  bulkConfirmSchema,
  confirmSchema,
  idsSchema,
  inviteSchema,
  memberJson,
  updateMemberSchema,
} from '@keyhaven/domain-admin-console';
import { CurrentUser, type Principal } from '@keyhaven/platform-auth';
import { AccountsService, UserRepository } from '@keyhaven/domain-auth';
import { z } from 'zod';
import { isWellFormedEncString } from '@keyhaven/contracts';

const enrollmentSchema = z.object({
  resetPasswordKey: z.string().refine(isWellFormedEncString, { message: 'must be a valid encrypted string' }).nullish(),
  masterPasswordHash: z.string().nullish(),
});

@Controller('organizations/:orgId/users')
export class MembersController {
  constructor(
    private readonly members: MembersService,
    private readonly repository: MemberRepository,
    private readonly access: OrgAccess,
    private readonly accounts: AccountsService,
    private readonly users: UserRepository,
  ) {}

  @Get()
  async list(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'manageUsers', 'manageGroups');
    const details = await this.repository.listDetails(orgId);
    return listJson(
      await Promise.all(
        details.map(async (m) =>
          memberJson(m, await this.repository.collectionsOf(m.id), await this.repository.groupsOf(m.id)),
        ),
      ),
    );
  }

  @Get(':memberId')
  async get(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('memberId', ParseGuidPipe) memberId: string,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'manageUsers');
    const member = (await this.repository.listDetails(orgId, [memberId]))[0];
    if (!member) throw notFound('Member');
    return memberJson(
      member,
      await this.repository.collectionsOf(member.id),
      await this.repository.groupsOf(member.id),
    );
  }

  /** Without SMTP the response carries each invitation link for the admin to pass on. */
  @Post('invite')
  @HttpCode(200)
  async invite(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    return listJson(await this.members.invite(actor, parseBody(inviteSchema, body)));
  }

  @Post('reinvite')
  @HttpCode(200)
  async reinviteMany(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    return listJson(await this.members.reinvite(actor, parseBody(idsSchema, body).ids));
  }

  @Post(':memberId/reinvite')
  @HttpCode(200)
  async reinvite(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('memberId', ParseGuidPipe) memberId: string,
  ): Promise<Record<string, unknown>> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    return listJson(await this.members.reinvite(actor, [memberId]));
  }

  /** Called by the invited user, not an admin: the token is the proof. */
  @Post(':memberId/accept')
  @HttpCode(200)
  async accept(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('memberId', ParseGuidPipe) memberId: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.members.accept(orgId, memberId, principal.userId, parseBody(acceptSchema, body).token);
  }

  @Post('public-keys')
  @HttpCode(200)
  async publicKeys(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    await this.access.require(orgId, principal.userId, 'manageUsers');
    const keys = await this.members.publicKeys(orgId, parseBody(idsSchema, body).ids);
    return listJson(keys.map((k) => ({ ...k, object: 'organizationUserPublicKeyResponseModel' })));
  }

  @Post('confirm')
  @HttpCode(200)
  async confirmMany(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    const results = await this.members.confirmMany(actor, parseBody(bulkConfirmSchema, body).keys);
    return listJson(results.map((r) => ({ ...r, object: 'OrganizationBulkConfirmResponseModel' })));
  }

  @Post(':memberId/confirm')
  @HttpCode(200)
  async confirm(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('memberId', ParseGuidPipe) memberId: string,
    @Body() body: unknown,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    await this.members.confirm(actor, memberId, parseBody(confirmSchema, body).key);
  }

  /** A member enrolls in (or withdraws from) admin password reset: the org-key-wrapped user key, stored as sent. */
  @Put(':userId/reset-password-enrollment')
  @HttpCode(200)
  async resetPasswordEnrollment(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('userId', ParseGuidPipe) userId: string,
    @Body() body: unknown,
  ): Promise<void> {
    if (userId !== principal.userId) throw notFound('Member');
    const membership = await this.access.require(orgId, principal.userId);
    const request = parseBody(enrollmentSchema, body);
    await this.accounts.requireMasterPassword(await this.users.require(principal.userId), request.masterPasswordHash);
    await this.repository.update(orgId, membership.id, { reset_password_key: request.resetPasswordKey ?? null });
  }

  @Put(':memberId')
  @HttpCode(200)
  async update(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('memberId', ParseGuidPipe) memberId: string,
    @Body() body: unknown,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    await this.members.update(actor, memberId, parseBody(updateMemberSchema, body));
  }

  @Put('revoke')
  @HttpCode(200)
  async revokeMany(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    await this.members.revoke(actor, parseBody(idsSchema, body).ids);
  }

  @Put('restore')
  @HttpCode(200)
  async restoreMany(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    await this.members.restore(actor, parseBody(idsSchema, body).ids);
  }

  @Put(':memberId/revoke')
  @HttpCode(200)
  async revoke(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('memberId', ParseGuidPipe) memberId: string,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    await this.members.revoke(actor, [memberId]);
  }

  @Put(':memberId/restore')
  @HttpCode(200)
  async restore(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('memberId', ParseGuidPipe) memberId: string,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    await this.members.restore(actor, [memberId]);
  }

  @Delete()
  @HttpCode(200)
  async removeMany(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Body() body: unknown,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    await this.members.remove(actor, parseBody(idsSchema, body).ids);
  }

  @Delete(':memberId')
  @HttpCode(200)
  async remove(
    @CurrentUser() principal: Principal,
    @Param('orgId', ParseGuidPipe) orgId: string,
    @Param('memberId', ParseGuidPipe) memberId: string,
  ): Promise<void> {
    const actor = await this.access.require(orgId, principal.userId, 'manageUsers');
    await this.members.remove(actor, [memberId]);
  }
}
