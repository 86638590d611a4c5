import type { Command } from 'commander';
import type { VaultwardenCliOptions } from '../actions/import-vaultwarden';

export function registerImportVaultwarden(program: Command): void {
  program
    .command('import-vaultwarden')
    .description(
      "move a whole Vaultwarden instance (its database and attachment files) into this server's database; nothing is decrypted",
    )
    .option('--sqlite <file>', "Vaultwarden's SQLite database (db.sqlite3)")
    .option('--database-url <url>', "Vaultwarden's PostgreSQL or MySQL/MariaDB database (postgres://…, mysql://…)")
    .option('--data-dir <dir>', "Vaultwarden's data folder, for the attachment files")
    .option('--dry-run', 'read and check everything, write nothing')
    .action(async (options: VaultwardenCliOptions) => {
      const { runImportVaultwarden } = await import('../actions/import-vaultwarden');
      await runImportVaultwarden(options);
    });
}
