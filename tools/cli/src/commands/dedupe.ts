import type { Command } from 'commander';
import type { DedupeOptions } from '../actions/dedupe';

export function registerDedupe(program: Command): void {
  program
    .command('dedupe')
    .description('find duplicate items in a vault and, once confirmed, move the extra copies to the trash')
    .option('--email <email>', 'the account')
    .option('--password-file <file>', 'master password from this file (else KEYHAVEN_PASSWORD, else a prompt)')
    .option('--yes', 'move the extra copies to the trash without asking')
    .action(async (options: DedupeOptions) => {
      const { runDedupe } = await import('../actions/dedupe');
      await runDedupe(options);
    });
}
