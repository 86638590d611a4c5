import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ParseGuidPipe } from '@keyhaven/http';
import { Public } from '@keyhaven/platform-auth';
import { notFound } from '@keyhaven/contracts';
import {
  OffboardingService,
  OperatorActionsService,
  OperatorDirectory,
  type OffboardingResult,
} from '@keyhaven/domain-admin-console';
import { AdminGuard } from '../auth/admin.guard';
import { userJson } from './user-json';

/**
 * Accounts, for scripts (`Authorization: Bearer <admin token>`) and the portal. The paths Vaultwarden's
 * admin API has answer the same here, so operators' existing scripts keep working.
 */
@Public()
@UseGuards(AdminGuard)
@Controller('users')
export class AdminUsersController {
  constructor(
    private readonly directory: OperatorDirectory,
    private readonly actions: OperatorActionsService,
    private readonly offboarding: OffboardingService,
  ) {}

  @Get()
  async list(@Query('search') search?: string): Promise<Record<string, unknown>[]> {
    return (await this.directory.users(search ?? null)).map(userJson);
  }

  @Get('by-mail/:email')
  async byMail(@Param('email') email: string): Promise<Record<string, unknown>> {
    const user = await this.directory.userByEmail(email);
    if (!user) throw notFound('User');
    return userJson(user);
  }

  @Get(':id')
  async get(@Param('id', ParseGuidPipe) id: string): Promise<Record<string, unknown>> {
    return userJson(await this.actions.requireUser(id));
  }

  /** Disable, revoke from every organization, end every session, record: one transaction. */
  @Post(':id/offboard')
  @HttpCode(200)
  async offboard(@Param('id', ParseGuidPipe) id: string): Promise<OffboardingResult & { object: string }> {
    return { object: 'offboarding', ...(await this.offboarding.offboard(id)) };
  }

  @Post(':id/disable')
  @HttpCode(200)
  async disable(@Param('id', ParseGuidPipe) id: string): Promise<Record<string, unknown>> {
    return userJson(await this.actions.setEnabled(id, false));
  }

  @Post(':id/enable')
  @HttpCode(200)
  async enable(@Param('id', ParseGuidPipe) id: string): Promise<Record<string, unknown>> {
    return userJson(await this.actions.setEnabled(id, true));
  }

  @Post(':id/deauth')
  @HttpCode(200)
  async deauth(@Param('id', ParseGuidPipe) id: string): Promise<Record<string, unknown>> {
    return userJson(await this.actions.deauthorize(id));
  }

  @Post(':id/remove-2fa')
  @HttpCode(200)
  async removeTwoFactor(@Param('id', ParseGuidPipe) id: string): Promise<Record<string, unknown>> {
    return userJson(await this.actions.removeTwoFactor(id));
  }

  @Post(':id/invite/resend')
  @HttpCode(200)
  async resendInvite(@Param('id', ParseGuidPipe) id: string): Promise<{ resent: number }> {
    const user = await this.actions.requireUser(id);
    return { resent: await this.actions.resendInvitations(user.email) };
  }

  @Post(':id/delete')
  @HttpCode(200)
  async remove(@Param('id', ParseGuidPipe) id: string): Promise<Record<string, never>> {
    await this.actions.deleteUser(id);
    return {};
  }
}
