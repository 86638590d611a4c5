import type { Command } from 'commander';
import type { AuditReportOptions } from '../actions/audit-report';

/**
 * REPORT_KINDS of @keyhaven/domain-events, written out so that building the help does not load the domain
 * (tools/cli/test/commands.unit.spec.ts keeps the two lists equal).
 */
export const REPORT_KIND_NAMES = [
  'active-users',
  'dormant-accounts',
  'access-review',
  'vault-contents',
  'policy-coverage',
  'admin-actions',
] as const;

export function registerAuditReport(program: Command): void {
  program
    .command('audit-report')
    .description('compliance reports (active, dormant, access review, vault contents, policy coverage, admin actions)')
    .option('--org <id>', 'one organization (default: the whole instance)')
    .option('--dormant-days <n>', 'activity window in days for active/dormant accounts', '90')
    .option('--report <kind>', `one report (${REPORT_KIND_NAMES.join(', ')}) or all`, 'all')
    .option('--format <format>', 'json or csv', 'json')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (options: AuditReportOptions) => {
      const { runAuditReport } = await import('../actions/audit-report');
      await runAuditReport(options);
    });
}
