import type { Command } from 'commander';
import type { MigrateOptions } from '../actions/migrate-account';

export function registerMigrateAccount(program: Command): void {
  program
    .command('migrate-account')
    .description(
      'move a personal vault from any Bitwarden-protocol server into this account: decrypted and re-encrypted here',
    )
    .option('--from <url>', 'the source server (Bitwarden cloud, Vaultwarden, another Keyhaven)')
    .option('--to <url>', 'the target server')
    .option('--email <email>', 'the target account')
    .option('--from-email <email>', 'the source account (default: --email)')
    .option('--password-file <file>', 'target master password from this file (else KEYHAVEN_PASSWORD, else a prompt)')
    .option(
      '--from-password-file <file>',
      'source master password from this file (else KEYHAVEN_FROM_PASSWORD, else a prompt)',
    )
    .option('--batch-size <n>', 'items per import request', '1000')
    .action(async (options: MigrateOptions) => {
      const { runMigrateAccount } = await import('../actions/migrate-account');
      await runMigrateAccount(options);
    });
}
