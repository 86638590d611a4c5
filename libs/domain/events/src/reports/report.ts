/**
 * The shape every compliance report has, whatever its kind: named columns and one flat row per
 * line, so the same value renders as JSON (rows keyed by column) and as a CSV sheet (columns in order).
 */

/** The reports there are; the HTTP route and `keyhaven audit-report` take these names. */
export const REPORT_KINDS = [
  'active-users',
  'dormant-accounts',
  'access-review',
  'vault-contents',
  'policy-coverage',
  'admin-actions',
] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export function isReportKind(value: unknown): value is ReportKind {
  return typeof value === 'string' && (REPORT_KINDS as readonly string[]).includes(value);
}

/** Scalars only: a report is a sheet. Dates are ISO-8601 strings (UTC). */
export type ReportCell = string | number | boolean | null;
export type ReportRow = Record<string, ReportCell>;

export interface ReportOptions {
  /** One organization's report; absent: the whole instance (operator only — callers decide who may). */
  readonly organizationId?: string;
  /** `active-users` and `dormant-accounts`: the activity window in days (default 90). */
  readonly dormantDays?: number;
  /** `admin-actions`: the period [from, to) (default: the 30 days before `to`, `to` default now). */
  readonly from?: Date;
  readonly to?: Date;
}

export interface Report {
  readonly kind: ReportKind;
  /** The organization the report is limited to, or null for the whole instance. */
  readonly organizationId: string | null;
  /** When it was computed: the "now" every relative figure (days inactive, windows) is measured from. */
  readonly generatedAt: string;
  readonly columns: readonly string[];
  readonly rows: readonly ReportRow[];
}

export const DEFAULT_DORMANT_DAYS = 90;
export const MAX_DORMANT_DAYS = 3650;
export const DEFAULT_ADMIN_ACTIONS_DAYS = 30;
