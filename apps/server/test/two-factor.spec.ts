import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrganizationAs, startSmtpSink, type SmtpSink } from '@keyhaven/testing';
import { totpCode } from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { SoftwareAuthenticator } from './software-authenticator';
import {
  DEVICE,
  accessToken,
  codeIn,
  enableEmail,
  getProvider,
  mailCount,
  nextMail,
  registerByMail,
  tokenRequest,
} from './two-factor-fixtures';

/**
 * Two-step login in the 2026 management shapes (user-verification token, nested responses, JSON
 * bodies on DELETE), email codes through a real SMTP sink, WebAuthn with a software authenticator,
 * Duo/YubiKey refused, and the negatives (foreign token, replayed code, too many wrong codes).
 */
describeOnBackends('two-step login', (backend) => {
  let smtp: SmtpSink;
  let server: BackedServer;

  before(async () => {
    smtp = await startSmtpSink();
    server = await startAllInOne(backend, {
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_SECURITY: 'off',
      LOGIN_FAILURES_PER_ACCOUNT: '10',
    });
  });

  after(async () => {
    await server.stop();
    await smtp.close();
  });

  test('authenticator through get-authenticator, its token, PUT and DELETE with a JSON body', async () => {
    const account = await registerByMail(server.http, smtp, `totp-${backend}@example.com`);
    const token = await accessToken(server.http, account);
    const got = await getProvider<{ authenticator: { enabled: boolean; key: string } }>(
      server.http,
      token,
      account,
      'authenticator',
    );
    assert.equal(got.authenticator.enabled, false);
    const key = got.authenticator.key;
    const wrongSecret = await server.http.post<{ message: string }>('/api/two-factor/get-authenticator', {
      token,
      json: { masterPasswordHash: 'bm90IGl0' },
    });
    assert.equal(wrongSecret.status, 400);
    assert.equal(wrongSecret.body.message, 'User verification failed.');
    // A token for another provider, or for another key, does not pass.
    const emailToken = (await getProvider(server.http, token, account, 'email')).userVerificationToken;
    for (const userVerificationToken of [emailToken, `${got.userVerificationToken}x`, '']) {
      const refused = await server.http.put<{ validationErrors: Record<string, string[]> }>(
        '/api/two-factor/authenticator',
        { token, json: { key, token: totpCode(key), userVerificationToken } },
      );
      assert.equal(refused.status, 400, refused.text);
    }
    const bad = await server.http.put<{ validationErrors: Record<string, string[]> }>('/api/two-factor/authenticator', {
      token,
      json: { key, token: '000000', userVerificationToken: got.userVerificationToken },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.validationErrors, { Token: ['Invalid token.'] });
    const put = await server.http.put<{ authenticator: { enabled: boolean; key: string }; object: string }>(
      '/api/two-factor/authenticator',
      { token, json: { key, token: totpCode(key), userVerificationToken: got.userVerificationToken } },
    );
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body.authenticator, { enabled: true, key });
    assert.equal(put.body.object, 'twoFactorAuthenticatorUpdate');

    const challenge = await tokenRequest(server.http, account);
    assert.equal(challenge.status, 400);
    assert.deepEqual(challenge.body['TwoFactorProviders2'], { '0': null });
    const login = await tokenRequest(server.http, account, {
      twoFactorProvider: '0',
      twoFactorToken: totpCode(key, Date.now() + 30_000),
    });
    assert.equal(login.status, 200, login.text);

    const again = await getProvider<{ authenticator: { enabled: boolean; key: string } }>(
      server.http,
      token,
      account,
      'authenticator',
    );
    assert.deepEqual(again.authenticator, { enabled: true, key });
    const removed = await server.http.delete('/api/two-factor/authenticator', {
      token,
      json: { key, userVerificationToken: again.userVerificationToken },
    });
    assert.equal(removed.status, 204, removed.text);
    const list = await server.http.get<{ data: unknown[] }>('/api/two-factor', { token });
    assert.deepEqual(list.body.data, []);
    assert.equal((await tokenRequest(server.http, account)).status, 200, 'no second step any more');
  });

  test('a user-verification token of another user is refused', async () => {
    const alice = await registerByMail(server.http, smtp, `alice-${backend}@example.com`);
    const bob = await registerByMail(server.http, smtp, `bob-${backend}@example.com`);
    const aliceToken = await accessToken(server.http, alice);
    const bobToken = await accessToken(server.http, bob);
    const alices = await getProvider(server.http, aliceToken, alice, 'email');
    const refused = await server.http.post<{ message: string; validationErrors: Record<string, string[]> }>(
      '/api/two-factor/send-email',
      { token: bobToken, json: { email: bob.email, userVerificationToken: alices.userVerificationToken } },
    );
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.validationErrors, { UserVerificationToken: ['User verification failed.'] });
  });

  test('email: mailed setup code, challenge, send-email-login, single-use code, 429 after wrong codes', async () => {
    const account = await registerByMail(server.http, smtp, `mail2fa-${backend}@example.com`);
    const token = await accessToken(server.http, account);
    const address = `codes-${backend}@example.com`;
    await enableEmail(server.http, smtp, token, account, address);

    const profile = await server.http.get<{ twoFactorEnabled: boolean }>('/api/accounts/profile', { token });
    assert.equal(profile.body.twoFactorEnabled, true, 'email alone counts as two-step login');
    const challenge = await tokenRequest(server.http, account);
    assert.equal(challenge.status, 400);
    assert.deepEqual(challenge.body['TwoFactorProviders'], ['1']);
    assert.deepEqual(challenge.body['TwoFactorProviders2'], { '1': { Email: `co***@example.com` } });
    assert.equal(challenge.body['Email'], account.email);
    assert.equal(typeof challenge.body['SsoEmail2faSessionToken'], 'string');
    const seen = mailCount(smtp, address);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(mailCount(smtp, address), seen, 'the challenge itself mails nothing');

    const wrongSecret = await server.http.post('/api/two-factor/send-email-login', {
      json: { email: account.email, masterPasswordHash: 'bm90IGl0' },
    });
    assert.equal(wrongSecret.status, 400);
    // What the CLI sends: the email and the master password hash, no device identifier.
    const sent = await server.http.post('/api/two-factor/send-email-login', {
      json: { email: account.email, masterPasswordHash: account.masterPasswordHash },
    });
    assert.equal(sent.status, 200, sent.text);
    const code = codeIn(await nextMail(smtp, address, seen));
    const login = await tokenRequest(server.http, account, { twoFactorProvider: '1', twoFactorToken: code });
    assert.equal(login.status, 200, login.text);
    const replay = await tokenRequest(server.http, account, { twoFactorProvider: '1', twoFactorToken: code });
    assert.equal(replay.status, 400, 'a used code is refused');
    assert.equal(replay.body['error_description'], 'Two-step token is invalid. Try again.');

    // The session token of the challenge asks for the mail without the password.
    const viaSession = await server.http.post('/api/two-factor/send-email-login', {
      json: { email: account.email, ssoEmail2FaSessionToken: challenge.body['SsoEmail2faSessionToken'] },
    });
    assert.equal(viaSession.status, 200, viaSession.text);
    const fresh = codeIn(await nextMail(smtp, address, seen + 1));
    let status = 0;
    for (let i = 0; i < 12 && status !== 429; i++) {
      const wrong = String((Number(fresh) + 1 + i) % 1_000_000).padStart(6, '0');
      status = (await tokenRequest(server.http, account, { twoFactorProvider: '1', twoFactorToken: wrong })).status;
    }
    assert.equal(status, 429, 'too many wrong codes are rate-limited');
  });

  test('WebAuthn: none and packed registration, login, counter regression and a foreign key refused', async () => {
    const rpId = new URL(server.url).hostname;
    const origin = new URL(server.url).origin;
    const account = await registerByMail(server.http, smtp, `webauthn-${backend}@example.com`);
    const other = await registerByMail(server.http, smtp, `webauthn-other-${backend}@example.com`);
    const token = await accessToken(server.http, account);
    const otherToken = await accessToken(server.http, other);

    const register = async (
      bearer: string,
      who: typeof account,
      slot: number,
      attestation: 'none' | 'packed',
    ): Promise<SoftwareAuthenticator> => {
      const { userVerificationToken } = await getProvider(server.http, bearer, who, 'webauthn');
      const challenge = await server.http.post<{ options: Record<string, unknown>; object: string }>(
        '/api/two-factor/get-webauthn-challenge',
        { token: bearer, json: { userVerificationToken } },
      );
      assert.equal(challenge.status, 200, challenge.text);
      assert.equal(challenge.body.object, 'twoFactorWebAuthnChallenge');
      assert.ok(Array.isArray(challenge.body.options['excludeCredentials']));
      assert.equal((challenge.body.options['rp'] as { id: string }).id, rpId);
      const key = new SoftwareAuthenticator(rpId, origin);
      const put = await server.http.put<{ webAuthn: { enabled: boolean; keys: { id: number; name: string }[] } }>(
        '/api/two-factor/webauthn',
        {
          token: bearer,
          json: {
            id: slot,
            name: `key ${slot}`,
            userVerificationToken,
            deviceResponse: key.register(String(challenge.body.options['challenge']), attestation),
          },
        },
      );
      assert.equal(put.status, 200, put.text);
      assert.ok(put.body.webAuthn.keys.some((k) => k.id === slot && k.name === `key ${slot}`));
      return key;
    };
    const first = await register(token, account, 1, 'none');
    const second = await register(token, account, 2, 'packed');
    const foreign = await register(otherToken, other, 1, 'none');

    const assertionChallenge = async (): Promise<string> => {
      const res = await tokenRequest(server.http, account);
      assert.equal(res.status, 400);
      const options = (
        res.body['TwoFactorProviders2'] as Record<string, { challenge: string; allowCredentials: unknown[] }>
      )['7'];
      assert.ok(options, 'WebAuthn is offered');
      assert.equal(options.allowCredentials.length, 2);
      return options.challenge;
    };
    const login = (twoFactorToken: string) =>
      tokenRequest(server.http, account, { twoFactorProvider: '7', twoFactorToken });

    assert.equal((await login(first.assert(await assertionChallenge()))).status, 200);
    assert.equal((await login(second.assert(await assertionChallenge()))).status, 200);
    // The same key again with a counter that did not move forward: a cloned key.
    const regressed = await login(first.assert(await assertionChallenge(), { counter: first.counter }));
    assert.equal(regressed.status, 400, 'counter regression refused');
    // Another user's key, even signing this user's challenge, is refused.
    assert.equal((await login(foreign.assert(await assertionChallenge()))).status, 400, 'foreign key refused');
    // A wrong origin is refused too.
    assert.equal(
      (await login(first.assert(await assertionChallenge(), { origin: 'https://evil.example' }))).status,
      400,
    );
    assert.equal((await login(first.assert(await assertionChallenge()))).status, 200, 'the key still works');

    const { userVerificationToken } = await getProvider(server.http, token, account, 'webauthn');
    const removed = await server.http.delete<{ webAuthn: { keys: { id: number }[] } }>('/api/two-factor/webauthn', {
      token,
      json: { id: 1, userVerificationToken },
    });
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(
      removed.body.webAuthn.keys.map((k) => k.id),
      [2],
    );
    const all = await server.http.delete('/api/two-factor/webauthn/all', { token, json: { userVerificationToken } });
    assert.equal(all.status, 204);
    assert.equal((await tokenRequest(server.http, account)).status, 200);
  });

  test('Duo and YubiKey: shapes answered, enabling refused with the reason', async () => {
    const account = await registerByMail(server.http, smtp, `duo-${backend}@example.com`);
    const token = await accessToken(server.http, account);
    const duo = await getProvider<{ duo: Record<string, unknown> }>(server.http, token, account, 'duo');
    assert.equal(duo.duo['enabled'], false);
    const putDuo = await server.http.put<{ message: string }>('/api/two-factor/duo', {
      token,
      json: {
        clientId: 'x',
        clientSecret: 'y',
        host: 'api-1.duosecurity.com',
        userVerificationToken: duo.userVerificationToken,
      },
    });
    assert.equal(putDuo.status, 400);
    assert.match(putDuo.body.message, /outside/);
    const yubi = await getProvider<{ yubiKey: Record<string, unknown> }>(server.http, token, account, 'yubikey');
    assert.equal(yubi.yubiKey['enabled'], false);
    const putYubi = await server.http.put<{ message: string }>('/api/two-factor/yubikey', {
      token,
      json: { key1: 'cccccccccccc', nfc: false, userVerificationToken: yubi.userVerificationToken },
    });
    assert.equal(putYubi.status, 400);
    assert.match(putYubi.body.message, /outside/);
    assert.deepEqual((await server.http.get<{ data: unknown[] }>('/api/two-factor', { token })).body.data, []);

    // An organization's Duo: its owner reads the shape, turning it on is refused; a stranger is not let in.
    const orgId = await createOrganizationAs(server.http, account, token, 'Duo org');
    const orgDuo = await server.http.post<{ duo: { enabled: boolean }; userVerificationToken: string }>(
      `/api/organizations/${orgId}/two-factor/get-duo`,
      { token, json: { masterPasswordHash: account.masterPasswordHash } },
    );
    assert.equal(orgDuo.status, 200, orgDuo.text);
    assert.equal(orgDuo.body.duo.enabled, false);
    const putOrgDuo = await server.http.put<{ message: string }>(`/api/organizations/${orgId}/two-factor/duo`, {
      token,
      json: { clientId: 'x', clientSecret: 'y', host: 'h', userVerificationToken: orgDuo.body.userVerificationToken },
    });
    assert.equal(putOrgDuo.status, 400);
    assert.match(putOrgDuo.body.message, /outside/);
    const stranger = await registerByMail(server.http, smtp, `duo-stranger-${backend}@example.com`);
    const strangers = await server.http.post(`/api/organizations/${orgId}/two-factor/get-duo`, {
      token: await accessToken(server.http, stranger),
      json: { masterPasswordHash: stranger.masterPasswordHash },
    });
    assert.ok([403, 404].includes(strangers.status), `stranger: ${strangers.status}`);
  });

  test('the recovery code turns every provider off', async () => {
    const account = await registerByMail(server.http, smtp, `recover-${backend}@example.com`);
    const token = await accessToken(server.http, account);
    await enableEmail(server.http, smtp, token, account, account.email);
    const code = await server.http.post<{ code: string }>('/api/two-factor/get-recover', {
      token,
      json: { masterPasswordHash: account.masterPasswordHash },
    });
    assert.equal(code.status, 200);
    const login = await tokenRequest(server.http, account, { twoFactorProvider: '8', twoFactorToken: code.body.code });
    assert.equal(login.status, 200, login.text);
    const rows = await server.db.rows(
      'SELECT 1 FROM two_factor_provider WHERE user_id = (SELECT id FROM app_user WHERE email = $1)',
      [account.email],
    );
    assert.equal(rows.length, 0);
    assert.equal((await tokenRequest(server.http, account, {}, DEVICE)).status, 200);
  });
});
