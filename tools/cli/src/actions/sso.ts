import { readFileSync } from 'node:fs';
import { KeyhavenError, isGuid } from '@keyhaven/contracts';
import {
  OrganizationRepository,
  SsoSettingsService,
  ssoConfigDataSchema,
  type SsoConfigData,
} from '@keyhaven/domain-admin-console';
import { CliError, EXIT, print, type ServerOptions } from '../context';
import { withDomain } from '../domain';

export interface ShowOptions extends ServerOptions {
  readonly json?: boolean;
  readonly org: string;
}

export interface ConfigureOptions extends ShowOptions {
  readonly enable?: boolean;
  readonly disable?: boolean;
  readonly identifier?: string;
  readonly type?: string;
  readonly decryption?: string;
  readonly authority?: string;
  readonly metadataAddress?: string;
  readonly clientId?: string;
  readonly clientSecretFile?: string;
  readonly groupsClaim?: string;
  readonly adminClaimValues?: string;
  readonly dataFile?: string;
}

const CONFIG_TYPES: Record<string, number> = { none: 0, oidc: 1, saml: 2 };
const DECRYPTION_TYPES: Record<string, number> = { 'master-password': 0, 'key-connector': 1, 'trusted-device': 2 };
const MASK = '********';

function organizationId(options: ShowOptions): string {
  if (options.server) throw new CliError('sso commands work on the database only (no --server)', EXIT.usage);
  if (!isGuid(options.org)) throw new CliError('--org takes the organization id (a GUID)', EXIT.usage);
  return options.org.toLowerCase();
}

function choice(table: Record<string, number>, value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const found = table[value];
  if (found === undefined) throw new CliError(`${option} is one of: ${Object.keys(table).join(', ')}`, EXIT.usage);
  return found;
}

/** The file's content without the trailing newline, so `echo secret > file` works. */
function readSecret(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch {
    throw new CliError(`cannot read ${path}`, EXIT.usage);
  }
}

/** A JSON object of §2.2 fields (the web's `data`), merged under the flags. */
function readData(path: string): Partial<SsoConfigData> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new CliError(`${path} is not a readable JSON file`, EXIT.usage);
  }
  const result = ssoConfigDataSchema.partial().safeParse(parsed);
  if (!result.success) throw new CliError(`${path}: ${result.error.issues[0]?.message ?? 'invalid'}`, EXIT.usage);
  return result.data;
}

/** What the operator sees: the configuration with its secret masked (the admin console shows it in full). */
function masked(sso: Record<string, unknown>): Record<string, unknown> {
  const data = sso['data'] as Record<string, unknown> | null;
  return { ...sso, data: data?.['clientSecret'] ? { ...data, clientSecret: MASK } : data };
}

function describe(sso: Record<string, unknown>): string {
  const data = (sso['data'] as Record<string, unknown> | null) ?? {};
  const urls = sso['urls'] as Record<string, string>;
  const lines = [
    `enabled:     ${String(sso['enabled'])}`,
    `identifier:  ${typeof sso['identifier'] === 'string' ? sso['identifier'] : '(none)'}`,
    ...Object.entries(data)
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => `${`${k}:`.padEnd(13)}${typeof v === 'string' ? v : JSON.stringify(v)}`),
    'for the IdP:',
    ...Object.entries(urls).map(([k, v]) => `  ${`${k}:`.padEnd(23)}${v}`),
  ];
  return lines.join('\n');
}

/** Domain refusals become the CLI's exit codes, with the field messages the web would show. */
function refused(error: unknown): never {
  if (error instanceof KeyhavenError) {
    if (error.code === 'not_found') throw new CliError('no such organization', EXIT.notFound);
    const fields = Object.entries(error.validationErrors ?? {})
      .filter(([, messages]) => messages.length > 0)
      .map(([field, messages]) => `${field}: ${messages.join(' ')}`);
    throw new CliError([error.message, ...fields].join('\n  '), EXIT.usage);
  }
  throw error;
}

export async function runSsoShow(options: ShowOptions): Promise<void> {
  const orgId = organizationId(options);
  const shown = await withDomain(async (app) => {
    if (!(await app.get(OrganizationRepository).findById(orgId))) throw new KeyhavenError('not_found', 'none');
    return app.get(SsoSettingsService).get(orgId);
  }).catch(refused);
  print(options.json === true, masked(shown), () => describe(masked(shown)));
}
export async function runSsoConfigure(options: ConfigureOptions): Promise<void> {
  const orgId = organizationId(options);
  if (options.enable && options.disable) throw new CliError('--enable or --disable, not both', EXIT.usage);
  const fromFile = options.dataFile ? readData(options.dataFile) : {};
  const flags: Partial<SsoConfigData> = Object.fromEntries(
    Object.entries({
      configType: choice(CONFIG_TYPES, options.type, '--type'),
      memberDecryptionType: choice(DECRYPTION_TYPES, options.decryption, '--decryption'),
      authority: options.authority,
      metadataAddress: options.metadataAddress,
      clientId: options.clientId,
      clientSecret: options.clientSecretFile ? readSecret(options.clientSecretFile) : undefined,
      groupsClaimType: options.groupsClaim,
      adminClaimValues: options.adminClaimValues,
    }).filter(([, v]) => v !== undefined),
  );
  const saved = await withDomain(async (app) => {
    if (!(await app.get(OrganizationRepository).findById(orgId))) throw new KeyhavenError('not_found', 'none');
    const settings = app.get(SsoSettingsService);
    const current = await settings.get(orgId);
    const data = ssoConfigDataSchema.parse({
      configType: 0,
      ...(current['data'] ?? {}),
      ...fromFile,
      ...flags,
    });
    const enabled = options.enable ? true : options.disable ? false : current['enabled'] === true;
    const identifier = options.identifier ?? (current['identifier'] as string | null);
    return settings.save(orgId, { enabled, identifier, data });
  }).catch(refused);
  print(options.json === true, masked(saved), () => describe(masked(saved)));
}
