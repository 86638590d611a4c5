import type { Command } from 'commander';
import { registerDedupe } from './dedupe';
import { registerImport } from './import';
import { registerMigrateAccount } from './migrate-account';

/** The commands that act as a vault client (log in as the user, crypto on this machine): import, dedupe, migrate-account. */
export function registerVaultClientCommands(program: Command): void {
  registerImport(program);
  registerDedupe(program);
  registerMigrateAccount(program);
}
