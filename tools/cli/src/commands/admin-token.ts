import type { Command } from 'commander';
import type { HashAdminTokenOptions } from '../actions/admin-token';

export function registerHashAdminToken(program: Command): void {
  program
    .command('hash-admin-token')
    .description('print the Argon2id PHC string to put in ADMIN_TOKEN (the token is read from standard input)')
    .option('--token <token>', 'the token itself (visible in the process list: prefer standard input)')
    .action(async (options: HashAdminTokenOptions) => {
      const { runHashAdminToken } = await import('../actions/admin-token');
      await runHashAdminToken(options);
    });
}
