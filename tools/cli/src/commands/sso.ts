import type { Command } from 'commander';
import type { ConfigureOptions, ShowOptions } from '../actions/sso';

export function registerSsoCommands(program: Command): void {
  const sso = program.command('sso').description("an organization's single sign-on configuration");
  sso
    .command('show')
    .description('print the SSO configuration (client secret masked) and the URLs to enter at the IdP')
    .requiredOption('--org <id>', 'the organization id')
    .action(async (options: ShowOptions) => {
      const { runSsoShow } = await import('../actions/sso');
      await runSsoShow(options);
    });
  sso
    .command('configure')
    .description(
      'change the SSO configuration: the flags (and --data-file) are merged into the saved one and checked as the admin console is',
    )
    .requiredOption('--org <id>', 'the organization id')
    .option('--enable', 'turn SSO on')
    .option('--disable', 'turn SSO off')
    .option('--identifier <text>', 'the SSO identifier members type (unique, up to 50 characters)')
    .option('--type <type>', 'oidc, saml or none')
    .option('--decryption <type>', 'member decryption: master-password, key-connector or trusted-device')
    .option('--authority <url>', 'OIDC authority (issuer)')
    .option('--metadata-address <url>', 'OIDC discovery document, when not under the authority')
    .option('--client-id <id>', 'OIDC client id')
    .option('--client-secret-file <file>', 'OIDC client secret, read from this file (never on the command line)')
    .option('--groups-claim <claim>', 'claim whose values map to groups by name or external id (e.g. groups)')
    .option('--admin-claim-values <csv>', 'values of the groups claim that make a member Admin')
    .option('--data-file <file>', 'a JSON object with any SSO data fields (as the admin console sends them)')
    .action(async (options: ConfigureOptions) => {
      const { runSsoConfigure } = await import('../actions/sso');
      await runSsoConfigure(options);
    });
}
