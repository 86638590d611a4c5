import type { Command } from 'commander';
import type { BackupOptions, DbCopyOptions, RestoreOptions } from '../actions/data-safety';

export function registerDataSafetyCommands(program: Command): void {
  program
    .command('backup')
    .description('write the database, the blobs and the signing keys to one age-encrypted file (a consistent snapshot)')
    .requiredOption('--out <file>', 'the backup file to write')
    .option('--passphrase-file <file>', 'encrypt with the passphrase in this file (scrypt)')
    .option('--recipient <age1…>', 'encrypt to this age public key instead')
    .action(async (options: BackupOptions) => {
      const { runBackup } = await import('../actions/data-safety');
      await runBackup(options);
    });

  program
    .command('restore')
    .description(
      'restore a backup into an empty database and blob store; --verify restores into a scratch database instead',
    )
    .argument('<file>', 'the backup file')
    .option('--passphrase-file <file>', 'the passphrase it was encrypted with')
    .option('--identity <file>', 'the age identity (AGE-SECRET-KEY-1…) of the recipient it was encrypted to')
    .option('--verify', 'restore into a scratch database, compare counts and checksums, keep nothing')
    .action(async (file: string, options: RestoreOptions) => {
      const { runRestore } = await import('../actions/data-safety');
      await runRestore(file, options);
    });

  const db = program.command('db').description('database operations');
  db.command('copy')
    .description(
      'copy the embedded database under DATA_DIR into PostgreSQL (schema migrated, counts and checksums compared)',
    )
    .requiredOption('--to <url>', 'the PostgreSQL URL to copy into (postgres://…)')
    .option('--force', 'replace the contents of a target that is not empty')
    .action(async (options: DbCopyOptions) => {
      const { runDbCopy } = await import('../actions/data-safety');
      await runDbCopy(options);
    });
}
