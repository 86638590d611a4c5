import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { parseBody } from '@keyhaven/contracts';
import { Public } from '@keyhaven/platform-auth';
import { OperatorActionsService } from '@keyhaven/domain-admin-console';
import { AdminGuard } from '../auth/admin.guard';
import { DiagnosticsService } from '../diagnostics/diagnostics.service';

const emailSchema = z.object({ email: z.string().trim().max(256).pipe(z.email()) });

@Public()
@UseGuards(AdminGuard)
@Controller()
export class AdminMiscController {
  constructor(
    private readonly actions: OperatorActionsService,
    private readonly diagnostics: DiagnosticsService,
  ) {}

  /** Vaultwarden's server invitation: here a registration link by mail (answered too, for no-SMTP setups). */
  @Post('invite')
  @HttpCode(200)
  async invite(@Body() body: unknown): Promise<Record<string, unknown>> {
    return { object: 'adminInvitation', ...(await this.actions.inviteToServer(parseBody(emailSchema, body).email)) };
  }

  @Post('test/smtp')
  @HttpCode(200)
  async testSmtp(@Body() body: unknown): Promise<Record<string, unknown>> {
    return { object: 'adminTestMail', ...(await this.actions.sendTestMail(parseBody(emailSchema, body).email)) };
  }

  /** Versions, uptime, dependency health, migrations, clock drift, configuration with every secret masked. */
  @Get('diagnostics')
  diagnosticsJson(): Promise<Record<string, unknown>> {
    return this.diagnostics.report();
  }
}
