import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BwCli, startSmtpSink, type SmtpSink } from '@keyhaven/testing';
import { totpCode } from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import {
  PASSWORD,
  accessToken,
  codeIn,
  enableEmail,
  getProvider,
  mailCount,
  nextMail,
  registerByMail,
  tokenRequest,
} from './two-factor-fixtures';

const KNOWN_DEVICE = '1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b';
const NEW_DEVICE = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';

/**
 * The real `bw` CLI against two-step login set up through the 2026 shapes (email codes read from a
 * real SMTP sink, TOTP), and new-device verification (NEW_DEVICE_VERIFICATION on) through the API.
 */
describeOnBackends('two-step login with the bw CLI, new-device verification', (backend) => {
  let smtp: SmtpSink;
  let server: BackedServer;
  const clis: BwCli[] = [];

  before(async () => {
    smtp = await startSmtpSink();
    server = await startAllInOne(backend, {
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_SECURITY: 'off',
      NEW_DEVICE_VERIFICATION: 'true',
    });
  });

  after(async () => {
    for (const cli of clis) cli.cleanup();
    await server.stop();
    await smtp.close();
  });

  const newCli = async (): Promise<BwCli> => {
    const bw = new BwCli(server.caPath);
    clis.push(bw);
    await bw.ok(['config', 'server', server.url]);
    return bw;
  };

  test('bw login with email two-step login: --method 1 without --code asks for the mail, the mailed code logs in', async () => {
    const email = `bw-mail-${backend}@example.com`;
    const account = await registerByMail(server.http, smtp, email);
    await enableEmail(server.http, smtp, await accessToken(server.http, account), account, email);
    const bw = await newCli();

    const seen = mailCount(smtp, email);
    const withoutCode = await bw.run(['login', email, PASSWORD, '--method', '1', '--raw']);
    assert.notEqual(withoutCode.code, 0);
    assert.match(withoutCode.stdout + withoutCode.stderr, /code is required/i);
    // The CLI called send-email-login itself; the challenge alone mails nothing.
    const code = codeIn(await nextMail(smtp, email, seen));
    assert.equal(mailCount(smtp, email), seen + 1, 'one mail: the one the CLI asked for');

    const wrong = await bw.run(['login', email, PASSWORD, '--method', '1', '--code', '000000', '--raw']);
    assert.notEqual(wrong.code, 0);
    bw.session = (await bw.ok(['login', email, PASSWORD, '--method', '1', '--code', code, '--raw'])).trim();
    assert.equal((await bw.json<{ status: string }>(['status'])).status, 'unlocked');
    await bw.ok(['logout']);
    bw.session = undefined;
    const replay = await bw.run(['login', email, PASSWORD, '--method', '1', '--code', code, '--raw']);
    assert.notEqual(replay.code, 0, 'a used code does not log in again');
  });

  test('bw login with an authenticator enrolled through get-authenticator and its token', async () => {
    const email = `bw-totp-${backend}@example.com`;
    const account = await registerByMail(server.http, smtp, email);
    const token = await accessToken(server.http, account);
    const got = await getProvider<{ authenticator: { key: string } }>(server.http, token, account, 'authenticator');
    const key = got.authenticator.key;
    const put = await server.http.put('/api/two-factor/authenticator', {
      token,
      json: { key, token: totpCode(key), userVerificationToken: got.userVerificationToken },
    });
    assert.equal(put.status, 200, put.text);
    const bw = await newCli();
    const withoutCode = await bw.run(['login', email, PASSWORD, '--raw']);
    assert.notEqual(withoutCode.code, 0);
    assert.match(withoutCode.stdout + withoutCode.stderr, /code is required/i);
    const code = totpCode(key, Date.now() + 30_000);
    bw.session = (await bw.ok(['login', email, PASSWORD, '--method', '0', '--code', code, '--raw'])).trim();
    assert.equal((await bw.json<{ status: string }>(['status'])).status, 'unlocked');
  });

  test('bw login from a new device: no code without a terminal; on a terminal it asks, and the mailed code logs in', async () => {
    const email = `bw-newdevice-${backend}@example.com`;
    const account = await registerByMail(server.http, smtp, email);
    assert.equal((await tokenRequest(server.http, account, {}, KNOWN_DEVICE)).status, 200, 'a first, known device');
    await server.db.rows(`UPDATE app_user SET creation_date = now() - interval '2 days' WHERE email = $1`, [email]);
    const bw = await newCli();

    const seen = mailCount(smtp, email);
    const unattended = await bw.run(['login', email, PASSWORD, '--raw']);
    assert.notEqual(unattended.code, 0);
    assert.match(unattended.stdout + unattended.stderr, /code is required/i);
    await nextMail(smtp, email, seen);

    const asked = mailCount(smtp, email);
    const login = await bw.runOnTerminal(['login', email, PASSWORD, '--raw'], async (output) =>
      /Enter OTP sent to login email/i.test(output) ? codeIn(await nextMail(smtp, email, asked)) : null,
    );
    assert.equal(login.code, 0, login.stdout + login.stderr);
    const session = login.stdout.trim().split(/\r?\n/).pop()?.trim() ?? '';
    assert.match(session, /^[A-Za-z0-9+/=]{40,}$/, 'the session key, last');
    bw.session = session;
    assert.equal((await bw.json<{ status: string }>(['status'])).status, 'unlocked');
  });

  test('new-device verification: device_error, the mailed code, the device known after, wrong code, opt-out', async () => {
    const email = `newdevice-${backend}@example.com`;
    const account = await registerByMail(server.http, smtp, email);
    // The first device is not asked (no device yet), nor is an account younger than a day.
    assert.equal((await tokenRequest(server.http, account, {}, KNOWN_DEVICE)).status, 200);
    assert.equal((await tokenRequest(server.http, account, {}, NEW_DEVICE)).status, 200, 'a new account is not asked');
    await server.db.rows(`UPDATE app_user SET creation_date = now() - interval '2 days' WHERE email = $1`, [email]);
    await server.db.rows('DELETE FROM device WHERE identifier = $1', [NEW_DEVICE]);

    const seen = mailCount(smtp, email);
    const asked = await tokenRequest(server.http, account, {}, NEW_DEVICE);
    assert.equal(asked.status, 400);
    assert.equal(asked.body['error'], 'device_error');
    assert.deepEqual(asked.body['ErrorModel'], { Message: 'new device verification required', Object: 'error' });
    const code = codeIn(await nextMail(smtp, email, seen));
    assert.equal(
      (await tokenRequest(server.http, account, {}, KNOWN_DEVICE)).status,
      200,
      'a known device is not asked',
    );

    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const refused = await tokenRequest(server.http, account, { newDeviceOtp: wrong }, NEW_DEVICE);
    assert.equal(refused.status, 400);
    assert.equal((refused.body['ErrorModel'] as { Message: string }).Message, 'invalid new device otp');
    // Resend: always 200, and a fresh code replaces the old one.
    const resent = await server.http.post('/api/accounts/resend-new-device-otp', {
      json: { email, masterPasswordHash: account.masterPasswordHash },
    });
    assert.equal(resent.status, 200);
    const fresh = codeIn(await nextMail(smtp, email, seen + 1));
    assert.equal(
      (await server.http.post('/api/accounts/resend-new-device-otp', { json: { email, masterPasswordHash: 'eA==' } }))
        .status,
      200,
      'a wrong password answers the same',
    );
    assert.equal(mailCount(smtp, email), seen + 2, 'but mails nothing');
    const ok = await tokenRequest(server.http, account, { newDeviceOtp: fresh }, NEW_DEVICE);
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await tokenRequest(server.http, account, {}, NEW_DEVICE)).status, 200, 'the device is known now');

    // Opt-out: a further unknown device logs in without a code.
    const token = String(ok.body['access_token']);
    const optOut = await server.http.put('/api/accounts/verify-devices', {
      token,
      json: { verifyDevices: false, masterPasswordHash: account.masterPasswordHash },
    });
    assert.equal(optOut.status, 200, optOut.text);
    const profile = await server.http.get<{ verifyDevices: boolean }>('/api/accounts/profile', { token });
    assert.equal(profile.body.verifyDevices, false);
    const third = await tokenRequest(server.http, account, {}, '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d');
    assert.equal(third.status, 200, third.text);
  });
});
