import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './context';
import { registerHashAdminToken } from './commands/admin-token';
import { registerAuditReport } from './commands/audit-report';
import { registerDataSafetyCommands } from './commands/data-safety';
import { registerUserCommands } from './commands/users';
import { registerVaultClientCommands } from './commands/vault-client';
import { registerScimCommands } from './commands/scim';
import { registerSsoCommands } from './commands/sso';
import { registerImportVaultwarden } from './commands/import-vaultwarden';

/**
 * `keyhaven`, the operator CLI (`npm run keyhaven -- <command>`). Exit codes: 0 ok, 1 failure, 2 usage,
 * 3 not found, 4 admin token refused. `--json` for scripts; `--server URL` (with the admin token) works
 * against a running server's admin API instead of the database.
 *
 * Start-up only declares the commands (names, options, help): each action imports its implementation from
 * actions/ when it runs, so `--help` or a vault-client command never loads Nest, TypeORM or the server libraries.
 */
const program = new Command('keyhaven')
  .description('Keyhaven operator commands')
  .option('--json', 'machine-readable output')
  .option('--server <url>', "a running server's URL: use its admin API instead of the database")
  .option('--token <token>', 'admin token for --server (default: KEYHAVEN_ADMIN_TOKEN)')
  .option('--insecure', "accept the server's self-signed certificate")
  .enablePositionalOptions(false)
  .exitOverride();

program.hook('preAction', (_root, command) => {
  // Global options reach every subcommand's action.
  for (const [key, value] of Object.entries(program.opts())) {
    if (command.getOptionValue(key) === undefined) command.setOptionValue(key, value);
  }
});

program
  .command('migrate')
  .description('apply pending migrations (a one-off job before a rollout) and exit')
  .action(async () => {
    const { runMigrate } = await import('./actions/migrate');
    await runMigrate();
  });
registerHashAdminToken(program);
registerUserCommands(program);
registerAuditReport(program);
registerVaultClientCommands(program);
registerDataSafetyCommands(program);
registerScimCommands(program);
registerSsoCommands(program);
registerImportVaultwarden(program);

program.parseAsync(process.argv).then(
  () => process.exit(EXIT.ok),
  (error: unknown) => {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
    const code = error instanceof CliError ? error.exitCode : EXIT.failure;
    process.stderr.write(`keyhaven: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(code);
  },
);
