import { Controller, Get, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { isGuid } from '@keyhaven/contracts';
import { Public } from '@keyhaven/platform-auth';
import { ComplianceReports, REPORT_KINDS, type Report } from '@keyhaven/domain-events';
import { AdminGuard, AdminPage, type AdminRequest } from '../auth/admin.guard';
import { barChart, dormancyBuckets, perMonth } from './charts';
import { sendHtml } from './login.controller';
import { esc, page, table } from './html';
import { cell, csrfOf } from './portal-insights.controller';

/** The compliance reports page: charts where a picture says more, the first rows of each, CSV and JSON downloads. */
@Public()
@UseGuards(AdminGuard)
@AdminPage()
@Controller('portal')
export class PortalReportsController {
  constructor(private readonly reports: ComplianceReports) {}

  @Get('reports')
  async reportsPage(
    @Req() request: AdminRequest,
    @Res() reply: FastifyReply,
    @Query('org') org?: string,
    @Query('dormantDays') dormantDaysText?: string,
  ): Promise<void> {
    const csrf = csrfOf(request, reply);
    if (csrf === null) return;
    const organizationId = org && isGuid(org) ? org : undefined;
    const dormantDays = dormantDaysText && /^\d{1,4}$/.test(dormantDaysText) ? Number(dormantDaysText) : undefined;
    const options = { ...(organizationId ? { organizationId } : {}), ...(dormantDays ? { dormantDays } : {}) };
    const all = await Promise.all(REPORT_KINDS.map((kind) => this.reports.run(kind, options)));
    const query = new URLSearchParams({
      ...(organizationId ? { org: organizationId } : {}),
      ...(dormantDays ? { dormantDays: String(dormantDays) } : {}),
    });
    const sections = all.map((report) => this.reportSection(report, query)).join('');
    const filters = `<form method="get" action="/admin/portal/reports"><label for="org">Organization id (empty: whole instance)<input id="org" name="org" value="${esc(organizationId)}"></label><label for="dormantDays">Dormant after (days)<input id="dormantDays" name="dormantDays" inputmode="numeric" value="${esc(dormantDays)}"></label><button type="submit">Show</button></form>`;
    sendHtml(reply, page({ title: 'Reports', section: 'reports', csrf, body: filters + sections }));
  }

  private reportSection(report: Report, query: URLSearchParams): string {
    const link = (format: string): string =>
      `/admin/reports/${report.kind}?${new URLSearchParams({ ...Object.fromEntries(query), format }).toString()}`;
    let chart = '';
    if (report.kind === 'active-users')
      chart = barChart(
        'Active accounts by month of last activity',
        perMonth(report.rows.map((r) => (typeof r['lastActivityDate'] === 'string' ? r['lastActivityDate'] : null))),
      );
    if (report.kind === 'dormant-accounts')
      chart = barChart(
        'Dormant accounts by time inactive',
        dormancyBuckets(report.rows.map((r) => (typeof r['daysInactive'] === 'number' ? r['daysInactive'] : 0))),
      );
    const rows = report.rows.slice(0, 50).map((r) => report.columns.map((c) => cell(r[c])));
    return `<section aria-labelledby="r-${report.kind}"><h2 id="r-${report.kind}">${esc(report.kind)}</h2>
<p><a href="${esc(link('csv'))}" download>CSV</a> · <a href="${esc(link('json'))}" download>JSON</a> · ${report.rows.length} row(s)</p>${chart}
${table(report.columns, rows, report.rows.length > 50 ? 'First 50 rows' : 'All rows')}</section>`;
  }
}
