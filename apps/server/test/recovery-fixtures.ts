import { passwordLogin, type HttpClient, type SmtpSink, mailText } from '@keyhaven/testing';
import {
  createAccount,
  deriveMasterKey,
  hashMasterPassword,
  stretchMasterKey,
  wrapSymmetricKey,
  type Account,
  type KdfConfig,
  type SymmetricKey,
} from '@keyhaven/vault-crypto';
import { PASSWORD, call, confirm, ok, type Member, type Org, type Person } from './org-fixtures';

/**
 * Helpers shared by the emergency-access and account-recovery suites: accounts registered the way
 * the 2026 web vault does it when mail is delivered (the verification link from the SMTP sink),
 * the sink's mails by subject, and the new-password bodies a client builds for someone else's account.
 */

/** Mails to `to` whose subject matches, in arrival order. */
export function mailsTo(smtp: SmtpSink, to: string, subject: RegExp): string[] {
  return smtp.messages
    .filter((m) => m.to.includes(to) && subject.test(/^Subject: (.*)$/m.exec(m.raw)?.[1] ?? ''))
    .map(mailText);
}

/** Waits (bounded) for the `nth` (1-based) mail to `to` with a matching subject. */
export async function waitForMail(
  smtp: SmtpSink,
  to: string,
  subject: RegExp,
  nth = 1,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = mailsTo(smtp, to, subject)[nth - 1];
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no mail #${nth} to ${to} matching ${String(subject)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A query parameter of the first link in a mail (the link's query sits in the URL fragment). */
export function linkParam(text: string, name: string): string {
  const match = new RegExp(`[?&]${name}=([^&\\s]+)`).exec(text);
  if (!match?.[1]) throw new Error(`no ${name} in mail: ${text}`);
  return decodeURIComponent(match[1]);
}

/** Registers through the mailed verification link, then logs in. */
export async function registerByMail(http: HttpClient, smtp: SmtpSink, email: string): Promise<Person> {
  const account = await createAccount({ email, password: PASSWORD });
  const sent = await http.post('/identity/accounts/register/send-verification-email', { json: { email } });
  if (sent.status !== 204 && sent.status !== 200) throw new Error(`send-verification-email: ${sent.status}`);
  const token = linkParam(await waitForMail(smtp, email, /verify/i), 'token');
  const finish = await http.post('/identity/accounts/register/finish', { json: account.registerFinishBody(token) });
  if (finish.status !== 200) throw new Error(`register/finish: ${finish.status} ${finish.text}`);
  const session = await passwordLogin(http, account);
  const profile = ok(await call<{ id: string }>(http, session.accessToken, 'GET', '/api/accounts/profile'), 'profile');
  return { email, account, token: session.accessToken, userId: profile.id };
}

export interface NewPassword {
  readonly masterPasswordHash: string;
  readonly key: string;
  readonly kdf: KdfConfig;
  readonly salt: string;
}

/** What a client derives to set `password` on an account whose user key it holds. */
export async function newPasswordFor(
  salt: string,
  kdf: KdfConfig,
  userKey: SymmetricKey,
  password: string,
): Promise<NewPassword> {
  const masterKey = await deriveMasterKey(password, salt, kdf);
  return {
    masterPasswordHash: hashMasterPassword(masterKey, password),
    key: wrapSymmetricKey(stretchMasterKey(masterKey), userKey),
    kdf,
    salt,
  };
}

/** The 2026 web vault's body (`authenticationData` + `unlockData`). */
export function modernPasswordBody(p: NewPassword): Record<string, unknown> {
  return {
    authenticationData: { kdf: p.kdf, salt: p.salt, masterPasswordAuthenticationHash: p.masterPasswordHash },
    unlockData: { kdf: p.kdf, salt: p.salt, masterKeyWrappedUserKey: p.key },
  };
}

/** Older clients' body. */
export function legacyPasswordBody(p: NewPassword): Record<string, unknown> {
  return { newMasterPasswordHash: p.masterPasswordHash, key: p.key };
}

/** The account as a login helper needs it, with the new password's hash. */
export function withPassword(account: Account, p: NewPassword): Account {
  return { ...account, masterPasswordHash: p.masterPasswordHash };
}

/** The KDF the server answers in `takeover` / `reset-password-details` as the client library reads it. */
export function kdfOf(body: {
  kdf: number;
  kdfIterations: number;
  kdfMemory: number | null;
  kdfParallelism: number | null;
}): KdfConfig {
  return {
    kdfType: body.kdf as 0 | 1,
    iterations: body.kdfIterations,
    memory: body.kdfMemory,
    parallelism: body.kdfParallelism,
  };
}

/** Brings a person into an organization through the mailed invitation (with SMTP the link is not handed back). */
export async function joinByMail(
  http: HttpClient,
  smtp: SmtpSink,
  org: Org,
  adminToken: string,
  person: Person,
  options: { type: number; permissions?: Record<string, boolean> },
  extraAccept: Record<string, unknown> = {},
): Promise<Member> {
  const before = mailsTo(smtp, person.email, /^Join /).length;
  const invited = ok(
    await call<{ data: { id: string }[] }>(http, adminToken, 'POST', `/api/organizations/${org.id}/users/invite`, {
      emails: [person.email],
      type: options.type,
      collections: [],
      groups: [],
      ...(options.permissions ? { permissions: options.permissions } : {}),
    }),
    `invite ${person.email}`,
  );
  const memberId = invited.data[0]?.id ?? '';
  const inviteToken = linkParam(await waitForMail(smtp, person.email, /^Join /, before + 1), 'token');
  ok(
    await call(http, person.token, 'POST', `/api/organizations/${org.id}/users/${memberId}/accept`, {
      token: inviteToken,
      ...extraAccept,
    }),
    `accept ${person.email}`,
  );
  ok(await confirm(http, org, adminToken, memberId, person.userId), `confirm ${person.email}`);
  return { ...person, memberId, inviteToken };
}
