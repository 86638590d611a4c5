import { z } from 'zod';
import { MAX_DORMANT_DAYS, type ReportOptions } from './report';

const date = z
  .string()
  .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'must be an ISO-8601 date' })
  .transform((v) => new Date(v));

/** The query of a report request (HTTP or CLI flags): output format and the report's parameters. */
export const reportQuerySchema = z.object({
  format: z.enum(['json', 'csv']).default('json'),
  dormantDays: z.coerce.number().int().min(1).max(MAX_DORMANT_DAYS).optional(),
  from: date.optional(),
  to: date.optional(),
});
export type ReportQuery = z.infer<typeof reportQuerySchema>;

/** The options part of a parsed query, for `ComplianceReports.run`. */
export function reportOptions(query: ReportQuery, organizationId?: string): ReportOptions {
  return {
    ...(organizationId ? { organizationId } : {}),
    ...(query.dormantDays !== undefined ? { dormantDays: query.dormantDays } : {}),
    ...(query.from ? { from: query.from } : {}),
    ...(query.to ? { to: query.to } : {}),
  };
}
