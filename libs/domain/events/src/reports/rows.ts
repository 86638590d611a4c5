import type { ReportCell, ReportRow } from './report';

/** Database values as report cells: dates as ISO-8601 UTC, everything else as it came. */
export function toCells(record: Record<string, unknown>): ReportRow {
  const row: ReportRow = {};
  for (const [key, value] of Object.entries(record)) {
    if (value instanceof Date) row[key] = value.toISOString();
    else if (value === undefined) row[key] = null;
    else row[key] = value as ReportCell;
  }
  return row;
}

/** SQL fragment (after `WHERE`/`AND`): the user `alias` is a member of organization `$1` when one is given. */
export function memberOf(alias: string): string {
  return `($1::uuid IS NULL OR EXISTS (
            SELECT 1 FROM organization_user scope
             WHERE scope.organization_id = $1::uuid AND scope.user_id = ${alias}.id))`;
}

/** The names Bitwarden's admin console shows for MemberType and MemberStatus. */
export const ROLE_NAME_SQL = `CASE m.type WHEN 0 THEN 'Owner' WHEN 1 THEN 'Admin' WHEN 2 THEN 'User'
                               WHEN 4 THEN 'Custom' ELSE 'Unknown' END`;
export const STATUS_NAME_SQL = `CASE m.status WHEN -1 THEN 'Revoked' WHEN 0 THEN 'Invited' WHEN 1 THEN 'Accepted'
                                 WHEN 2 THEN 'Confirmed' ELSE 'Unknown' END`;
