import { createAccount, createOrganizationKeys, encryptType2, totpCode, type Account } from '@keyhaven/vault-crypto';
import type { HttpClient } from './https-client';

/** Registers an account through the API exactly as the 2026 web vault does (verification token, then finish). */
export async function registerAccount(http: HttpClient, email: string, password: string): Promise<Account> {
  const account = await createAccount({ email, password });
  const verification = await http.post<string>('/identity/accounts/register/send-verification-email', {
    json: { email, name: email.split('@')[0], receiveMarketingEmails: false },
  });
  if (verification.status !== 200)
    throw new Error(`send-verification-email: ${verification.status} ${verification.text}`);
  const finish = await http.post('/identity/accounts/register/finish', {
    json: account.registerFinishBody(verification.body),
  });
  if (finish.status !== 200) throw new Error(`register/finish: ${finish.status} ${finish.text}`);
  return account;
}

export interface Session {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly body: Record<string, unknown>;
}

/** A password-grant login as the CLI sends it. */
export async function passwordLogin(
  http: HttpClient,
  account: Account,
  extra: Record<string, string> = {},
  deviceIdentifier = '6d9a8f8e-1f8c-4b0e-9a51-6f1f3c7d1a20',
): Promise<Session> {
  const res = await http.post<Record<string, unknown>>('/identity/connect/token', {
    form: {
      scope: 'api offline_access',
      client_id: 'cli',
      deviceType: '25',
      deviceIdentifier,
      deviceName: 'linux',
      grant_type: 'password',
      username: account.email,
      password: account.masterPasswordHash,
      ...extra,
    },
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${res.text}`);
  return {
    accessToken: String(res.body['access_token']),
    refreshToken: String(res.body['refresh_token']),
    body: res.body,
  };
}

/** Turns on authenticator two-step login through the API as the web vault does; returns the secret. */
export async function enableTotp(http: HttpClient, account: Account, token: string): Promise<string> {
  const start = await http.post<{ key: string }>('/api/two-factor/get-authenticator', {
    token,
    json: { masterPasswordHash: account.masterPasswordHash },
  });
  if (start.status !== 200) throw new Error(`get-authenticator: ${start.status} ${start.text}`);
  const key = start.body.key;
  const enable = await http.put('/api/two-factor/authenticator', {
    token,
    json: { key, token: totpCode(key), masterPasswordHash: account.masterPasswordHash },
  });
  if (enable.status !== 200) throw new Error(`enable authenticator: ${enable.status} ${enable.text}`);
  return key;
}

/** Creates an organization as the web vault does (keys made client-side, a default collection); its id. */
export async function createOrganizationAs(
  http: HttpClient,
  owner: Account,
  accessToken: string,
  name: string,
): Promise<string> {
  const keys = await createOrganizationKeys(owner.publicKey);
  const res = await http.post<{ id: string }>('/api/organizations', {
    token: accessToken,
    json: {
      name,
      billingEmail: owner.email,
      key: keys.key,
      keys: { publicKey: keys.publicKey, encryptedPrivateKey: keys.encryptedPrivateKey },
      collectionName: encryptType2(keys.orgKey, 'Default'),
    },
  });
  if (res.status !== 200) throw new Error(`create organization: ${res.status} ${res.text}`);
  return res.body.id;
}
