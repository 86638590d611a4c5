import { Controller, Get, Param, Query, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { badRequest } from '@keyhaven/contracts';
import { Public } from '@keyhaven/platform-auth';
import { ComplianceReports, isReportKind, reportOptions, reportQuerySchema, toCsv } from '@keyhaven/domain-events';
import { parseBody } from '@keyhaven/contracts';
import { AdminGuard } from '../auth/admin.guard';

/** The compliance reports for the whole instance or one organization (`?org=`), as JSON or CSV. */
@Public()
@UseGuards(AdminGuard)
@Controller('reports')
export class AdminReportsController {
  constructor(private readonly reports: ComplianceReports) {}

  @Get(':kind')
  async report(
    @Param('kind') kind: string,
    @Query() query: Record<string, unknown>,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!isReportKind(kind)) throw badRequest(`Unknown report "${kind}".`);
    const org = typeof query['org'] === 'string' && query['org'] !== '' ? query['org'] : undefined;
    const report = await this.reports.run(kind, reportOptions(parseBody(reportQuerySchema, query), org));
    if (query['format'] === 'csv') {
      void reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${kind}.csv"`)
        .send(toCsv(report));
      return;
    }
    void reply.header('content-disposition', `attachment; filename="${kind}.json"`).send(report);
  }
}
