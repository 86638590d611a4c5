import { writeFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import {
  ComplianceReports,
  REPORT_KINDS,
  isReportKind,
  toCsv,
  type Report,
  type ReportKind,
} from '@keyhaven/domain-events';
import { callServer } from '../admin-api';
import { CliError, EXIT, type ServerOptions } from '../context';
import { withDomain } from '../domain';

export interface AuditReportOptions extends ServerOptions {
  readonly org?: string;
  readonly dormantDays?: string;
  readonly format: string;
  readonly out?: string;
  readonly report: string;
}

/** Several reports as CSV: one section each, headed by `# <kind>`, separated by a blank line. */
function csvOf(reports: readonly Report[]): string {
  if (reports.length === 1 && reports[0]) return toCsv(reports[0]);
  return reports.map((r) => `# ${r.kind}\r\n${toCsv(r)}`).join('\r\n');
}

export async function runAuditReport(options: AuditReportOptions): Promise<void> {
  if (options.format !== 'json' && options.format !== 'csv')
    throw new CliError('--format must be json or csv', EXIT.usage);
  const dormantDays = Number(options.dormantDays ?? '90');
  if (!Number.isInteger(dormantDays) || dormantDays < 1)
    throw new CliError('--dormant-days must be a positive integer', EXIT.usage);
  const kinds: ReportKind[] = options.report === 'all' ? [...REPORT_KINDS] : [];
  if (options.report !== 'all') {
    if (!isReportKind(options.report)) throw new CliError(`unknown report ${options.report}`, EXIT.usage);
    kinds.push(options.report);
  }
  const bar = new SingleBar({
    format: 'reports [{bar}] {value}/{total} {kind}',
    stream: process.stderr,
    noTTYOutput: false,
  });
  if (process.stderr.isTTY) bar.start(kinds.length, 0, { kind: '' });
  const reports: Report[] = [];
  const run = async (one: (kind: ReportKind) => Promise<Report>): Promise<void> => {
    for (const kind of kinds) {
      reports.push(await one(kind));
      if (process.stderr.isTTY) bar.increment(1, { kind });
    }
  };
  if (options.server) {
    await run(async (kind) => {
      const query = new URLSearchParams({
        format: 'json',
        dormantDays: String(dormantDays),
        ...(options.org ? { org: options.org } : {}),
      });
      return JSON.parse((await callServer(options, 'GET', `reports/${kind}?${query.toString()}`)).body) as Report;
    });
  } else {
    await withDomain((app) =>
      run((kind) =>
        app.get(ComplianceReports).run(kind, { dormantDays, ...(options.org ? { organizationId: options.org } : {}) }),
      ),
    );
  }
  if (process.stderr.isTTY) bar.stop();
  const output =
    options.format === 'csv'
      ? csvOf(reports)
      : `${JSON.stringify(kinds.length === 1 ? reports[0] : { reports }, null, 2)}\n`;
  if (options.out) writeFileSync(options.out, output);
  else process.stdout.write(output);
}
