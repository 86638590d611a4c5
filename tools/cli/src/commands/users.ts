import type { Command } from 'commander';
import type { UsersListOptions, UsersOptions } from '../actions/users';

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('accounts on this instance');
  users
    .command('list')
    .description('list accounts (email, status, 2FA, last activity, organizations)')
    .option('--search <text>', 'only accounts whose email or name contains this')
    .action(async (options: UsersListOptions) => {
      const { runUsersList } = await import('../actions/users');
      await runUsersList(options);
    });

  program
    .command('offboard')
    .description('disable the account, revoke it from every organization and end every session, in one step')
    .argument('<email>', 'the account to offboard')
    .action(async (email: string, options: UsersOptions) => {
      const { runOffboard } = await import('../actions/users');
      await runOffboard(email, options);
    });
}
