import assert from 'node:assert/strict';
import { mailText, type HttpClient, type HttpResponse, type SmtpSink } from '@keyhaven/testing';
import { createAccount, type Account } from '@keyhaven/vault-crypto';

export const PASSWORD = 'correct horse battery staple';
export const DEVICE = '5b0e3c7a-2f4d-4e8b-9c1a-6d7e8f9a0b1c';

/** The SMTP sink's messages to one address, newest last; `after` counts the ones already seen. */
export async function nextMail(smtp: SmtpSink, to: string, after: number, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = smtp.messages.filter((m) => m.to.includes(to));
    const mail = mails[after];
    if (mail) return mailText(mail);
    if (Date.now() > deadline) throw new Error(`no mail #${after + 1} to ${to} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const mailCount = (smtp: SmtpSink, to: string): number => smtp.messages.filter((m) => m.to.includes(to)).length;

export const codeIn = (text: string): string => {
  const code = /\b(\d{6})\b/.exec(text)?.[1];
  assert.ok(code, `a 6-digit code in: ${text}`);
  return code;
};

/** Registers through the mailed verification link, as with SMTP configured the server requires. */
export async function registerByMail(http: HttpClient, smtp: SmtpSink, email: string): Promise<Account> {
  const seen = mailCount(smtp, email);
  const sent = await http.post('/identity/accounts/register/send-verification-email', { json: { email, name: 'T' } });
  assert.equal(sent.status, 204, sent.text);
  const token = /[?&]token=([^&\s]+)/.exec(await nextMail(smtp, email, seen))?.[1] ?? '';
  const account = await createAccount({ email, password: PASSWORD });
  const finish = await http.post('/identity/accounts/register/finish', {
    json: account.registerFinishBody(decodeURIComponent(token)),
  });
  assert.equal(finish.status, 200, finish.text);
  return account;
}

/** One password grant as the CLI sends it, answered as it comes (the test asserts the status). */
export function tokenRequest(
  http: HttpClient,
  account: Account,
  extra: Record<string, string> = {},
  device = DEVICE,
): Promise<HttpResponse<Record<string, unknown>>> {
  return http.post<Record<string, unknown>>('/identity/connect/token', {
    form: {
      scope: 'api offline_access',
      client_id: 'cli',
      deviceType: '25',
      deviceIdentifier: device,
      deviceName: 'linux',
      grant_type: 'password',
      username: account.email,
      password: account.masterPasswordHash,
      ...extra,
    },
  });
}

export async function accessToken(
  http: HttpClient,
  account: Account,
  extra: Record<string, string> = {},
): Promise<string> {
  const res = await tokenRequest(http, account, extra);
  assert.equal(res.status, 200, res.text);
  return String(res.body['access_token']);
}

/** `POST two-factor/get-<provider>` with the master password: the nested details and the token. */
export async function getProvider<T = Record<string, unknown>>(
  http: HttpClient,
  token: string,
  account: Account,
  provider: string,
): Promise<T & { userVerificationToken: string }> {
  const res = await http.post<T & { userVerificationToken: string }>(`/api/two-factor/get-${provider}`, {
    token,
    json: { masterPasswordHash: account.masterPasswordHash },
  });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

/** Turns on email two-step login through the 2026 shapes; codes go to `address`. */
export async function enableEmail(
  http: HttpClient,
  smtp: SmtpSink,
  token: string,
  account: Account,
  address: string,
): Promise<void> {
  const { userVerificationToken } = await getProvider(http, token, account, 'email');
  const seen = mailCount(smtp, address);
  const sent = await http.post('/api/two-factor/send-email', {
    token,
    json: { email: address, userVerificationToken },
  });
  assert.equal(sent.status, 200, sent.text);
  const code = codeIn(await nextMail(smtp, address, seen));
  const put = await http.put<{ email: { enabled: boolean; email: string } }>('/api/two-factor/email', {
    token,
    json: { email: address, token: code, userVerificationToken },
  });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body.email, { enabled: true, email: address });
}
