import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ParseGuidPipe } from '@keyhaven/http';
import { Public } from '@keyhaven/platform-auth';
import { OperatorActionsService, OperatorDirectory } from '@keyhaven/domain-admin-console';
import { AdminGuard } from '../auth/admin.guard';
import { organizationJson } from './user-json';

@Public()
@UseGuards(AdminGuard)
@Controller('organizations')
export class AdminOrganizationsController {
  constructor(
    private readonly directory: OperatorDirectory,
    private readonly actions: OperatorActionsService,
  ) {}

  @Get()
  async list(@Query('search') search?: string): Promise<Record<string, unknown>[]> {
    return (await this.directory.organizations(search ?? null)).map(organizationJson);
  }

  @Get(':id/members')
  async members(@Param('id', ParseGuidPipe) id: string): Promise<Record<string, unknown>[]> {
    return (await this.directory.members(id)).map((m) => ({ object: 'adminMember', ...m }));
  }

  @Post(':id/delete')
  @HttpCode(200)
  async remove(@Param('id', ParseGuidPipe) id: string): Promise<Record<string, never>> {
    await this.actions.deleteOrganization(id);
    return {};
  }
}
