import type { Command } from 'commander';
import type { ImportOptions } from '../actions/import';
import { FORMATS } from '../import/model';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      "import an export file into a user's vault (or an organization's collections), encrypted on this machine",
    )
    .argument('<file>', 'the export file')
    .option('--email <email>', 'the account to import into')
    .option('--password-file <file>', 'master password from this file (else KEYHAVEN_PASSWORD, else a prompt)')
    .option('--format <format>', FORMATS.join('|'))
    .option('--org <id>', "import into this organization's collections")
    .option('--dry-run', 'print the plan, write nothing')
    .option('--shred', 'overwrite and delete the source file afterwards without asking')
    .option(
      '--file-password-file <file>',
      'password of a password-protected Bitwarden export (else KEYHAVEN_FILE_PASSWORD, else a prompt)',
    )
    .option('--batch-size <n>', 'items per import request', '1000')
    .action(async (file: string, options: ImportOptions) => {
      const { runImport } = await import('../actions/import');
      await runImport(file, options);
    });
}
