import type { Command } from 'commander';
import type { ScimOptions } from '../actions/scim';

export function registerScimCommands(program: Command): void {
  const scim = program.command('scim').description('SCIM provisioning of an organization');
  scim
    .command('enable')
    .description('turn SCIM on for the organization and print its base URL and key (an existing key is kept)')
    .requiredOption('--org <id>', 'the organization id')
    .action(async (options: ScimOptions) => {
      const { runScimEnable } = await import('../actions/scim');
      await runScimEnable(options);
    });
  scim
    .command('rotate-key')
    .description('replace the SCIM key (the old one stops working at once) and print the new one')
    .requiredOption('--org <id>', 'the organization id')
    .action(async (options: ScimOptions) => {
      const { runScimRotateKey } = await import('../actions/scim');
      await runScimRotateKey(options);
    });
}
