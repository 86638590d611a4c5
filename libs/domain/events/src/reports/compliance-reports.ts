import { Injectable } from '@nestjs/common';
import { badRequest, isGuid } from '@keyhaven/contracts';
import { Database } from '@keyhaven/db';
import { adminActions } from './admin-actions';
import { accessReview, policyCoverage } from './organization-reports';
import {
  DEFAULT_ADMIN_ACTIONS_DAYS,
  DEFAULT_DORMANT_DAYS,
  MAX_DORMANT_DAYS,
  isReportKind,
  type Report,
  type ReportKind,
  type ReportOptions,
} from './report';
import { activeUsers, dormantAccounts, vaultContents, type SheetPart } from './user-reports';

const DAY_MS = 86_400_000;

/**
 * Compliance reports for one organization or the whole instance — the access reviews regulated
 * teams otherwise script against the database. Called by the organization route
 * (`GET api/organizations/{id}/reports/{kind}`, owners and admins, their organization only), the
 * admin portal and the operator CLI (`keyhaven audit-report`, whole instance or one organization):
 *
 *     const report = await reports.run('dormant-accounts', { organizationId, dormantDays: 90 });
 *     report.columns; report.rows;           // JSON: rows keyed by column, ISO dates, plain scalars
 *     toCsv(report);                          // RFC 4180, formula-safe (see csv.ts)
 *
 * Kinds (`REPORT_KINDS`): `active-users`, `dormant-accounts` (both take `dormantDays`, default 90),
 * `access-review`, `vault-contents`, `policy-coverage`, `admin-actions` (takes `from`/`to`, default
 * the last 30 days). Each is one set-based statement; figures are relative to `generatedAt`.
 * Nothing in a report is vault content: items are only counted, collection names stay encrypted.
 * Who may ask for what is the caller's decision: this service trusts its `organizationId`.
 */
@Injectable()
export class ComplianceReports {
  constructor(private readonly db: Database) {}

  async run(kind: ReportKind, options: ReportOptions = {}): Promise<Report> {
    if (!isReportKind(kind)) throw badRequest(`Unknown report "${String(kind)}".`);
    const organizationId = options.organizationId ?? null;
    if (organizationId !== null && !isGuid(organizationId)) throw badRequest('The organization id is not valid.');
    const now = new Date();
    const part = await this.sheet(kind, organizationId, now, options);
    return { kind, organizationId, generatedAt: now.toISOString(), columns: part.columns, rows: part.rows };
  }

  private sheet(
    kind: ReportKind,
    organizationId: string | null,
    now: Date,
    options: ReportOptions,
  ): Promise<SheetPart> {
    switch (kind) {
      case 'active-users':
        return activeUsers(this.db, organizationId, now, dormantDays(options));
      case 'dormant-accounts':
        return dormantAccounts(this.db, organizationId, now, dormantDays(options));
      case 'access-review':
        return accessReview(this.db, organizationId);
      case 'vault-contents':
        return vaultContents(this.db, organizationId);
      case 'policy-coverage':
        return policyCoverage(this.db, organizationId);
      case 'admin-actions': {
        const { from, to } = period(options, now);
        return adminActions(this.db, organizationId, from, to);
      }
    }
  }
}

function dormantDays(options: ReportOptions): number {
  const days = options.dormantDays ?? DEFAULT_DORMANT_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DORMANT_DAYS)
    throw badRequest(`dormantDays must be a whole number from 1 to ${MAX_DORMANT_DAYS}.`);
  return days;
}

function period(options: ReportOptions, now: Date): { from: Date; to: Date } {
  const to = options.to ?? now;
  const from = options.from ?? new Date(to.getTime() - DEFAULT_ADMIN_ACTIONS_DAYS * DAY_MS);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw badRequest('from and to must be dates.');
  if (from.getTime() >= to.getTime()) throw badRequest('from must be before to.');
  return { from, to };
}
