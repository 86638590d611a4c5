import { createHash } from 'node:crypto';
import {
  decryptPrivateKey,
  deriveMasterKey,
  emailToSalt,
  hashMasterPassword,
  kdfFromFields,
  stretchMasterKey,
  unwrapOrgKey,
  unwrapSymmetricKey,
  type KdfType,
  type SymmetricKey,
} from '@keyhaven/vault-crypto';
import { CliError, EXIT } from '../context';
import { VaultApi, describeError } from './api';
import { askHidden } from './secrets';

export interface SyncCipher {
  id: string;
  type: number;
  organizationId: string | null;
  folderId: string | null;
  deletedDate?: string | null;
  collectionIds?: string[] | null;
  attachments?: { id: string; fileName: string; key: string | null; size: string; url: string }[] | null;
  [key: string]: unknown;
}

export interface SyncResponse {
  profile: {
    id: string;
    key: string;
    privateKey: string | null;
    organizations: { id: string; key: string | null; name?: string }[];
  };
  folders: { id: string; name: string }[];
  collections: { id: string; organizationId: string; name: string }[];
  ciphers: SyncCipher[];
}

/** A logged-in user as a client holds it: the API with its token, the user key and the organisation keys. */
export interface Session {
  readonly api: VaultApi;
  readonly email: string;
  readonly userId: string;
  readonly userKey: SymmetricKey;
  readonly orgKeys: ReadonlyMap<string, SymmetricKey>;
  sync(): Promise<SyncResponse>;
}

/** One device per machine, account and server, so repeated runs do not fill the account's device list. */
function deviceIdentifier(server: string, email: string): string {
  const h = createHash('sha256')
    .update(`keyhaven-cli|${server}|${emailToSalt(email)}`)
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface PreloginBody {
  kdf: KdfType;
  kdfIterations: number;
  kdfMemory?: number | null;
  kdfParallelism?: number | null;
}

/**
 * Logs in as the official CLI does: prelogin for the KDF settings, the master key derived here, only the
 * authentication hash sent; then the user key unwrapped locally. Authenticator two-step login is asked
 * for on a terminal.
 */
export async function login(
  server: string,
  email: string,
  password: string,
  options: { insecure?: boolean } = {},
): Promise<Session> {
  const api = new VaultApi(server, options.insecure);
  const prelogin = await api.request<PreloginBody>('POST', '/identity/accounts/prelogin', { json: { email } });
  if (prelogin.status !== 200) throw new CliError(`prelogin at ${server}: ${describeError(prelogin)}`, EXIT.failure);
  const kdf = kdfFromFields(prelogin.body);
  const masterKey = await deriveMasterKey(password, email, kdf);
  const form: Record<string, string> = {
    scope: 'api offline_access',
    client_id: 'cli',
    deviceType: '25',
    deviceIdentifier: deviceIdentifier(server, email),
    deviceName: 'keyhaven-cli',
    grant_type: 'password',
    username: emailToSalt(email),
    password: hashMasterPassword(masterKey, password),
  };
  let token = await api.request<Record<string, unknown>>('POST', '/identity/connect/token', { form });
  if (token.status === 400 && token.body['TwoFactorProviders2'] !== undefined) {
    if (!process.stdin.isTTY) throw new CliError(`${email} needs two-step login: run on a terminal`, EXIT.unauthorized);
    const code = await askHidden(`Authenticator code for ${email}: `);
    token = await api.request('POST', '/identity/connect/token', {
      form: { ...form, twoFactorToken: code.trim(), twoFactorProvider: '0', twoFactorRemember: '0' },
    });
  }
  if (token.status !== 200)
    throw new CliError(`login to ${server} refused: ${describeError(token)}`, EXIT.unauthorized);
  api.token = String(token.body['access_token']);

  const first = await api.ok<SyncResponse>('GET', '/api/sync?excludeDomains=true');
  const userKey = unwrapSymmetricKey(stretchMasterKey(masterKey), first.profile.key);
  const orgKeys = new Map<string, SymmetricKey>();
  if (first.profile.privateKey) {
    const privateKey = decryptPrivateKey(userKey, first.profile.privateKey);
    for (const org of first.profile.organizations) {
      if (org.key) orgKeys.set(org.id, unwrapOrgKey(privateKey, org.key));
    }
  }
  let cached: SyncResponse | null = first;
  return {
    api,
    email,
    userId: first.profile.id,
    userKey,
    orgKeys,
    // The first sync is reused once; every later call asks the server again (the vault changes under us).
    async sync() {
      const value = cached ?? (await api.ok<SyncResponse>('GET', '/api/sync?excludeDomains=true'));
      cached = null;
      return value;
    },
  };
}
