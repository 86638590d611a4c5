import { loadConfig, serverConfigSchema } from '@keyhaven/config';
import { isGuid } from '@keyhaven/contracts';
import { ScimSetupService, scimBaseUrl } from '@keyhaven/domain-admin-console';
import { CliError, EXIT, print, type ServerOptions } from '../context';
import { withDomain } from '../domain';

export interface ScimOptions extends ServerOptions {
  readonly json?: boolean;
  readonly org: string;
}

function organizationId(options: ScimOptions): string {
  if (options.server) throw new CliError('scim commands work on the database only (no --server)', EXIT.usage);
  if (!isGuid(options.org)) throw new CliError('--org takes the organization id (a GUID)', EXIT.usage);
  return options.org.toLowerCase();
}

/** What the admin pastes into the directory: the base URL and the key. */
function report(json: boolean, orgId: string, apiKey: string): void {
  const baseUrl = scimBaseUrl(loadConfig(serverConfigSchema).DOMAIN, orgId);
  print(json, { organizationId: orgId, baseUrl, apiKey }, () => `SCIM base URL: ${baseUrl}\nSCIM API key:  ${apiKey}`);
}

const notFound = (error: unknown): never => {
  if (error instanceof Error && /not found/i.test(error.message))
    throw new CliError('no such organization', EXIT.notFound);
  throw error;
};

export async function runScimEnable(options: ScimOptions): Promise<void> {
  const orgId = organizationId(options);
  const { apiKey } = await withDomain((app) => app.get(ScimSetupService).enableForOperator(orgId)).catch(notFound);
  report(options.json === true, orgId, apiKey);
}
export async function runScimRotateKey(options: ScimOptions): Promise<void> {
  const orgId = organizationId(options);
  const { apiKey } = await withDomain((app) => app.get(ScimSetupService).issueKey(orgId, true)).catch(notFound);
  report(options.json === true, orgId, apiKey);
}
