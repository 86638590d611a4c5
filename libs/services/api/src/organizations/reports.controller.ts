import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { notFound, parseBody } from '@keyhaven/contracts';
import type { Membership } from '@keyhaven/domain-admin-console';
import { ComplianceReports, isReportKind, reportOptions, reportQuerySchema, toCsv } from '@keyhaven/domain-events';
import { OrgMember, OrgPermission } from '@keyhaven/platform-auth';

/**
 * `GET api/organizations/{id}/reports/{kind}?format=json|csv`: the organization's compliance reports
 * (see ComplianceReports), for its Owners and Admins only — they show every member's access.
 */
@Controller('organizations/:orgId/reports')
@OrgPermission('admin')
export class ReportsController {
  constructor(private readonly reports: ComplianceReports) {}

  @Get(':kind')
  async report(
    @OrgMember() actor: Membership,
    @Param('kind') kind: string,
    @Query() query: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown> | string> {
    if (!isReportKind(kind)) throw notFound('Report');
    const request = parseBody(reportQuerySchema, query);
    const report = await this.reports.run(kind, reportOptions(request, actor.organizationId));
    if (request.format === 'json') return { ...report, object: 'complianceReport' };
    const day = report.generatedAt.slice(0, 10);
    reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${kind}-${day}.csv"`);
    return toCsv(report);
  }
}
