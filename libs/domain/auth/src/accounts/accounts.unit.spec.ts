import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createDomainHarness,
  passwordGrantForm,
  registerUser,
  registrationBody,
  rejectsWithCode,
  reloadUser,
  uniqueEmail,
  encString,
  type DomainHarness,
} from '@keyhaven/testing';
import { totpCode } from '@keyhaven/vault-crypto';
import { kdfProblem } from '@keyhaven/contracts';
import {
  AccessTokens,
  AccountsService,
  IdentityError,
  LoginService,
  RefreshTokens,
  TwoFactorService,
  UserRepository,
  type TokenForm,
} from '../index';

let h: DomainHarness;
before(async () => {
  h = await createDomainHarness();
});
after(async () => {
  await h.close();
});

const IP = '192.0.2.10';

async function rejectsWithGrantError(promise: Promise<unknown>, error: string, description?: RegExp): Promise<void> {
  await assert.rejects(promise, (thrown: unknown) => {
    assert.ok(thrown instanceof IdentityError, `expected an IdentityError, got ${String(thrown)}`);
    assert.equal(thrown.error, error);
    if (description) assert.match(thrown.description, description);
    return true;
  });
}

async function login(email: string, password: string, extra: TokenForm = {}): Promise<Record<string, unknown>> {
  return h.get(LoginService).token(passwordGrantForm(email, password, extra), IP);
}

/** A refresh as the CLI sends it (the token is bound to the client it was issued to). */
function refresh(token: unknown, service = h.get(LoginService), clientId = 'cli'): Promise<Record<string, unknown>> {
  return service.token({ grant_type: 'refresh_token', refresh_token: String(token), client_id: clientId }, IP);
}

describe('registration', () => {
  test('stores the normalised email and a server-side hash of the master password hash, never the value sent', async () => {
    const email = uniqueEmail('Mixed');
    const user = await h
      .get(AccountsService)
      .register(registrationBody(email.toUpperCase(), 'client-hash-value'), false);
    assert.equal(user.email, email.toLowerCase());
    assert.notEqual(user.masterPasswordHash, 'client-hash-value');
    assert.match(user.masterPasswordHash, /^\$argon2id\$/);
    assert.equal(user.emailVerified, false);
    assert.equal((await h.get(UserRepository).findByEmail(email.toLowerCase()))?.id, user.id);
  });

  test('an email that is taken, in any case, is refused and the first account is untouched', async () => {
    const { user } = await registerUser(h);
    await rejectsWithCode(
      h.get(AccountsService).register(registrationBody(user.email.toUpperCase()), false),
      'bad_request',
      /already taken/,
    );
    assert.equal((await reloadUser(h, user.id)).masterPasswordHash, user.masterPasswordHash);
  });

  test('a KDF below the minimum is refused and nothing is stored', async () => {
    const email = uniqueEmail();
    await rejectsWithCode(
      h.get(AccountsService).register(registrationBody(email, 'x', { kdfIterations: 5000 }), false),
      'bad_request',
      /PBKDF2 iterations/,
    );
    assert.equal(await h.get(UserRepository).findByEmail(email), null);
  });

  test('with signups closed, neither the verification mail nor registration goes through', async () => {
    const closed = await h.variant({ env: { SIGNUPS_ALLOWED: 'false' } });
    const email = uniqueEmail();
    await rejectsWithCode(closed.get(AccountsService).sendVerificationEmail(email, null), 'bad_request', /disabled/);
    await rejectsWithCode(closed.get(AccountsService).register(registrationBody(email), false), 'bad_request');
    assert.equal(await h.get(UserRepository).findByEmail(email), null);
  });

  test('with mail delivered, registration needs the mailed token, for that email only', async () => {
    const smtp = await h.variant({ mailDelivers: true });
    const accounts = smtp.get(AccountsService);
    const email = uniqueEmail('verified');
    // The legacy route without a token is closed once an address can be proven.
    await rejectsWithCode(accounts.register(registrationBody(email), false), 'bad_request', /verification/);
    assert.equal(await accounts.sendVerificationEmail(email, 'Ver'), null, 'the token goes by mail, not back');
    const mail = smtp.mailer.sent.find((m) => m.to === email);
    assert.ok(mail, 'a verification mail was sent');
    const token = decodeURIComponent(/token=([^&\s]+)/.exec(mail.text)?.[1] ?? '');
    assert.ok(token.length > 20);

    // Someone else's token does not register this address.
    await rejectsWithCode(
      accounts.register(registrationBody(uniqueEmail('other'), 'x', { emailVerificationToken: token }), true),
      'bad_request',
      /invalid or has expired/,
    );
    const user = await accounts.register(registrationBody(email, 'x', { emailVerificationToken: token }), true);
    assert.equal(user.emailVerified, true);
  });

  test('a signed token of another purpose (an organization invitation) does not verify an email', async () => {
    const smtp = await h.variant({ mailDelivers: true });
    const email = uniqueEmail('purpose');
    const foreign = await smtp.get(AccessTokens).signPurpose('org-invite', { email }, 3600);
    await rejectsWithCode(
      smtp.get(AccountsService).register(registrationBody(email, 'x', { emailVerificationToken: foreign }), true),
      'bad_request',
      /invalid or has expired/,
    );
    assert.equal(await h.get(UserRepository).findByEmail(email), null);
  });

  test('prelogin answers the account KDF for known emails and stable valid settings for unknown ones', async () => {
    const argon = uniqueEmail('argon');
    await h.get(AccountsService).register(
      registrationBody(argon, 'x', {
        kdf: 1,
        kdfIterations: 3,
        kdfMemory: 64,
        kdfParallelism: 4,
      }),
      false,
    );
    assert.deepEqual(await h.get(AccountsService).preloginKdf(argon.toUpperCase()), {
      kdf: 1,
      iterations: 3,
      memory: 64,
      parallelism: 4,
      salt: argon,
    });
    // An unknown email gets valid settings that stay the same for that email, so probing tells nothing.
    const unknown = uniqueEmail('nobody');
    const answer = await h.get(AccountsService).preloginKdf(unknown);
    assert.equal(answer.salt, unknown);
    assert.equal(kdfProblem(answer), null);
    assert.deepEqual(await h.get(AccountsService).preloginKdf(unknown.toUpperCase()), answer);
  });
});

describe('login', () => {
  test('the right password returns tokens that verify; a wrong one or an unknown account get the same refusal', async () => {
    const { user, password } = await registerUser(h);
    const tokens = await login(user.email.toUpperCase(), password);
    assert.equal(typeof tokens['access_token'], 'string');
    assert.equal(typeof tokens['refresh_token'], 'string');
    const principal = await h.get(AccessTokens).verify(String(tokens['access_token']));
    assert.equal(principal?.userId, user.id);

    await rejectsWithGrantError(login(user.email, `${password}-wrong`), 'invalid_grant', /incorrect/);
    await rejectsWithGrantError(login(uniqueEmail('ghost'), password), 'invalid_grant', /incorrect/);
  });

  test('failed logins per account are capped with 429 even when the password is then right', async () => {
    const strict = await h.variant({ env: { LOGIN_FAILURES_PER_ACCOUNT: '3' } });
    const { user, password } = await registerUser(strict);
    const service = strict.get(LoginService);
    for (let i = 0; i < 3; i++)
      await rejectsWithGrantError(service.token(passwordGrantForm(user.email, 'wrong'), IP), 'invalid_grant');
    await assert.rejects(service.token(passwordGrantForm(user.email, password), IP), (e: unknown) => {
      assert.ok(e instanceof IdentityError);
      assert.equal(e.status, 429);
      return true;
    });
    // Keyed by account and address: the owner elsewhere still gets in.
    const other = await service.token(passwordGrantForm(user.email, password), '198.51.100.7');
    assert.equal(typeof other['access_token'], 'string');
  });

  test('a refresh token rotates; a replay after the grace period ends its whole family; another client cannot use it', async () => {
    const strict = await h.variant({ env: { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' } });
    const service = strict.get(LoginService);
    const { user, password } = await registerUser(strict);
    const first = (await service.token(passwordGrantForm(user.email, password), IP))['refresh_token'];
    await rejectsWithGrantError(refresh(first, service, 'web'), 'invalid_grant');
    const second = (await refresh(first, service))['refresh_token'];
    assert.notEqual(second, first);
    const third = (await refresh(second, service))['refresh_token'];
    await sleep(5);
    // `second` was already used: presenting it again is what a stolen copy looks like.
    await rejectsWithGrantError(refresh(second, service), 'invalid_grant');
    await rejectsWithGrantError(refresh(third, service), 'invalid_grant');
    // A fresh login opens a new family that works.
    const fresh = (await service.token(passwordGrantForm(user.email, password), IP))['refresh_token'];
    assert.equal(typeof (await refresh(fresh, service))['access_token'], 'string');
  });

  test('a refresh token issued under an older security stamp is refused, even if it was never revoked', async () => {
    const { user, password } = await registerUser(h);
    const token = String((await login(user.email, password))['refresh_token']);
    const twin = String((await login(user.email, password))['refresh_token']);
    assert.equal(typeof (await refresh(twin))['access_token'], 'string', 'the tokens work before the change');
    // Only the stamp moves; the token row stays, so the stamp comparison alone must refuse it.
    await h.get(UserRepository).update(user.id, { security_stamp: randomUUID() });
    assert.equal(await h.get(RefreshTokens).consume(token, 'cli'), null);
    await rejectsWithGrantError(refresh(token), 'invalid_grant');
  });

  test('changing the password ends every session: old access and refresh tokens stop working, the new password logs in', async () => {
    const { user, password } = await registerUser(h);
    const session = await login(user.email, password);
    const accounts = h.get(AccountsService);
    await rejectsWithCode(
      accounts.changePassword(user, {
        masterPasswordHash: 'not-it',
        newMasterPasswordHash: 'new-hash',
        key: encString(),
      }),
      'bad_request',
      /Invalid password/,
    );
    assert.ok(await h.get(AccessTokens).verify(String(session['access_token'])), 'a refused change ends nothing');

    await accounts.changePassword(user, {
      masterPasswordHash: password,
      newMasterPasswordHash: 'new-hash',
      key: encString(),
    });
    const stored = await reloadUser(h, user.id);
    assert.notEqual(stored.securityStamp, user.securityStamp);
    assert.equal(await h.get(AccessTokens).verify(String(session['access_token'])), null);
    await rejectsWithGrantError(refresh(session['refresh_token']), 'invalid_grant');
    await rejectsWithGrantError(login(user.email, password), 'invalid_grant');
    assert.equal(typeof (await login(user.email, 'new-hash'))['access_token'], 'string');
  });

  test('changing the KDF ends every session, and prelogin then answers the new settings', async () => {
    const { user, password } = await registerUser(h);
    const session = await login(user.email, password);
    const accounts = h.get(AccountsService);
    const argon = { kdf: 1, kdfIterations: 3, kdfMemory: 64, kdfParallelism: 4 };
    await rejectsWithCode(
      accounts.changeKdf(user, {
        masterPasswordHash: password,
        newMasterPasswordHash: 'kdf-hash',
        key: encString(),
        kdf: 1,
        kdfIterations: 1,
        kdfMemory: 64,
        kdfParallelism: 4,
      }),
      'bad_request',
      /Argon2 iterations/,
    );
    assert.ok(await h.get(AccessTokens).verify(String(session['access_token'])), 'a refused change ends nothing');
    await accounts.changeKdf(user, {
      masterPasswordHash: password,
      newMasterPasswordHash: 'kdf-hash',
      key: encString(),
      ...argon,
    });
    assert.deepEqual(await accounts.preloginKdf(user.email), {
      kdf: 1,
      iterations: 3,
      memory: 64,
      parallelism: 4,
      salt: user.email,
    });
    assert.equal(await h.get(AccessTokens).verify(String(session['access_token'])), null);
    await rejectsWithGrantError(refresh(session['refresh_token']), 'invalid_grant');
    assert.equal(typeof (await login(user.email, 'kdf-hash'))['access_token'], 'string');
  });

  test('"log out everywhere" rotates the stamp and removes remembered two-step devices', async () => {
    const { user, password } = await registerUser(h);
    const twoFactor = h.get(TwoFactorService);
    const remember = await twoFactor.issueRememberToken(user.id);
    const session = await login(user.email, password);
    await h.get(AccountsService).rotateSecurityStamp(user);
    assert.equal(await twoFactor.checkRememberToken(user.id, remember), false);
    assert.equal(await h.get(AccessTokens).verify(String(session['access_token'])), null);
  });

  test('a personal API key logs in as its user (any GUID case) until it is rotated', async () => {
    const { user } = await registerUser(h);
    const service = h.get(LoginService);
    const grant = (clientId: string, secret: string) =>
      service.token({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: 'api' }, IP);
    const tokens = await grant(`user.${user.id.toUpperCase()}`, user.apiKey);
    assert.equal((await h.get(AccessTokens).verify(String(tokens['access_token'])))?.userId, user.id);
    await rejectsWithGrantError(grant(`user.${user.id}`, `${user.apiKey}x`), 'invalid_client');
    await rejectsWithGrantError(grant('user.not-a-guid', user.apiKey), 'invalid_client');

    const rotated = await h.get(AccountsService).rotateApiKey(user);
    await rejectsWithGrantError(grant(`user.${user.id}`, user.apiKey), 'invalid_client');
    assert.equal(typeof (await grant(`user.${user.id}`, rotated))['access_token'], 'string');
  });

  test('two-step login: challenge without a code, a code works once, a remembered device skips the step', async () => {
    const { user, password } = await registerUser(h);
    const twoFactor = h.get(TwoFactorService);
    const secret = twoFactor.newAuthenticatorKey();
    await twoFactor.enableAuthenticator(user, secret);

    await rejectsWithGrantError(login(user.email, password), 'invalid_grant', /Two factor required/);
    const code = totpCode(secret);
    const withCode = await login(user.email, password, {
      twoFactorToken: code,
      twoFactorProvider: '0',
      twoFactorRemember: '1',
    });
    assert.equal(typeof withCode['access_token'], 'string');
    const rememberToken = withCode['TwoFactorToken'];
    assert.ok(typeof rememberToken === 'string' && rememberToken.length > 0, 'a remember-device token was issued');

    // The same code again is a replay.
    await rejectsWithGrantError(
      login(user.email, password, { twoFactorToken: code, twoFactorProvider: '0' }),
      'invalid_grant',
      /Two-step token is invalid/,
    );
    const remembered = await login(user.email, password, { twoFactorToken: rememberToken, twoFactorProvider: '5' });
    assert.equal(typeof remembered['access_token'], 'string');
    // Turning two-step login off forgets the device: were it re-enabled, the old token would not skip it.
    await twoFactor.disableAuthenticator(user);
    assert.equal(await twoFactor.checkRememberToken(user.id, rememberToken), false);
  });

  test('the recovery code logs in once and turns two-step login off', async () => {
    const { user, password } = await registerUser(h);
    const twoFactor = h.get(TwoFactorService);
    await twoFactor.enableAuthenticator(user, twoFactor.newAuthenticatorKey());
    const code = await twoFactor.newRecoveryCode(await reloadUser(h, user.id));
    const remember = await twoFactor.issueRememberToken(user.id);

    await rejectsWithGrantError(
      login(user.email, password, { twoFactorToken: 'NOT-THE-CODE', twoFactorProvider: '8' }),
      'invalid_grant',
      /Two-step token is invalid/,
    );
    const recovered = await login(user.email, password, { twoFactorToken: code.toLowerCase(), twoFactorProvider: '8' });
    assert.equal(typeof recovered['access_token'], 'string');
    const after = await reloadUser(h, user.id);
    assert.deepEqual([after.totpSecret, after.recoveryCodeHash], [null, null]);
    assert.equal(await twoFactor.checkRememberToken(user.id, remember), false);
    assert.equal(await twoFactor.recover(after, code), false, 'the code works once');
  });
});
