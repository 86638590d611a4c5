import { Body, Controller, Get, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { isGuid } from '@keyhaven/contracts';
import { Public } from '@keyhaven/platform-auth';
import { OperatorActionsService, OperatorDirectory } from '@keyhaven/domain-admin-console';
import { AdminGuard, AdminPage, type AdminRequest } from '../auth/admin.guard';
import { DiagnosticsService } from '../diagnostics/diagnostics.service';
import { sendHtml } from './login.controller';
import { date, esc, page, table } from './html';

export function csrfOf(request: AdminRequest, reply: FastifyReply): string | null {
  if (request.admin?.kind === 'session') return request.admin.session.csrf;
  if (request.admin?.kind === 'token') return '';
  void reply.redirect('/admin/login', 303);
  return null;
}

const optionalDate = (v: string | undefined): Date | undefined => {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

export const cell = (v: string | number | boolean | null | undefined): string => esc(v ?? '');

/** Events and Diagnostics pages. */
@Public()
@UseGuards(AdminGuard)
@AdminPage()
@Controller('portal')
export class PortalInsightsController {
  constructor(
    private readonly directory: OperatorDirectory,
    private readonly actions: OperatorActionsService,
    private readonly diagnostics: DiagnosticsService,
  ) {}

  @Get('events')
  async events(
    @Req() request: AdminRequest,
    @Res() reply: FastifyReply,
    @Query() query: Record<string, string | undefined>,
  ): Promise<void> {
    const csrf = csrfOf(request, reply);
    if (csrf === null) return;
    const type = query['type'] && /^\d{1,5}$/.test(query['type']) ? Number(query['type']) : undefined;
    const guidOr = (v: string | undefined): string | undefined => (v && isGuid(v) ? v : undefined);
    const events = await this.directory.events({
      type,
      userId: guidOr(query['user']),
      organizationId: guidOr(query['organization']),
      from: optionalDate(query['from']),
      to: optionalDate(query['to']),
    });
    const field = (name: string, label: string, kind = 'text'): string =>
      `<label for="${name}">${label}<input id="${name}" name="${name}" type="${kind}" value="${esc(query[name])}"></label>`;
    const filters = `<form method="get" action="/admin/portal/events" role="search">${field('type', 'Type number')}${field('user', 'User id')}${field('organization', 'Organization id')}${field('from', 'From', 'date')}${field('to', 'To', 'date')}<button type="submit">Filter</button></form>`;
    const rows = events.map((e) => [
      date(e.date),
      String(e.type),
      cell(e.userId),
      cell(e.organizationId),
      cell(e.actingUserId),
      cell(e.ipAddress),
    ]);
    const body =
      filters +
      table(
        ['Date', 'Type', 'User', 'Organization', 'Acting user', 'IP address'],
        rows,
        `${events.length} newest event(s)`,
      );
    sendHtml(reply, page({ title: 'Events', section: 'events', csrf, body }));
  }

  @Get('diagnostics')
  async diagnosticsPage(
    @Req() request: AdminRequest,
    @Res() reply: FastifyReply,
    @Query('done') done?: string,
  ): Promise<void> {
    const csrf = csrfOf(request, reply);
    if (csrf === null) return;
    const report = await this.diagnostics.report();
    const health = (
      report['health'] as {
        checks: Record<string, { status: string; kind: string; latencyMs: number; error?: string }>;
      }
    ).checks;
    const healthRows = Object.entries(health).map(([name, c]) => [
      esc(name),
      esc(c.kind),
      c.status === 'ok'
        ? '<span class="badge on">ok</span>'
        : `<span class="badge off">${esc(c.error ?? 'error')}</span>`,
      `${c.latencyMs} ms`,
    ]);
    const config = report['config'] as Record<string, unknown>;
    const configRows = Object.entries(config).map(([k, v]) => [esc(k), esc(v)]);
    const versions = report['versions'] as Record<string, string>;
    const body = `<dl>${Object.entries(versions)
      .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
      .join(
        '',
      )}<dt>uptime</dt><dd>${esc(report['uptimeSeconds'])} s</dd><dt>server time</dt><dd>${esc(report['serverTime'])}</dd><dt>clock</dt><dd>${esc(report['clock'])}</dd><dt>migrations</dt><dd>${esc(report['migrations'])}</dd><dt>admin token</dt><dd>${report['adminTokenHashed'] === true ? 'Argon2id hash' : 'plain (hash it with keyhaven hash-admin-token)'}</dd></dl>
<h2>Dependencies</h2>${table(['Dependency', 'Adapter', 'Status', 'Latency'], healthRows, 'Health')}
<h2>Send a test mail</h2><form method="post" action="/admin/portal/diagnostics/test-mail"><input type="hidden" name="_csrf" value="${esc(csrf)}"><label for="email">To<input id="email" name="email" type="email" required></label><button type="submit">Send</button></form>
<h2>Configuration</h2>${table(['Setting', 'Value'], configRows, 'Secrets are masked')}`;
    sendHtml(reply, page({ title: 'Diagnostics', section: 'diagnostics', csrf, flash: done ?? null, body }));
  }

  @Post('diagnostics/test-mail')
  async testMail(@Req() request: AdminRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    if (csrfOf(request, reply) === null) return;
    const raw = (body as Record<string, unknown> | undefined)?.['email'];
    const email = typeof raw === 'string' ? raw.trim() : '';
    const { delivered } = await this.actions.sendTestMail(email.slice(0, 256));
    const flash = delivered ? `Test mail sent to ${email}.` : 'No SMTP server is configured: the mail was only logged.';
    void reply.redirect(`/admin/portal/diagnostics?done=${encodeURIComponent(flash)}`, 303);
  }
}
