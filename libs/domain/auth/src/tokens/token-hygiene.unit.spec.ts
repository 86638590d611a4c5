import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { KeyhavenError, kdfProblem } from '@keyhaven/contracts';
import {
  createDomainHarness,
  passwordGrantForm,
  registerUser,
  registrationBody,
  rejectsWithCode,
  uniqueEmail,
  type DomainContext,
  type DomainHarness,
} from '@keyhaven/testing';
import {
  AccessTokens,
  AccountCredentialsService,
  AccountsService,
  IdentityError,
  LoginService,
  SigningKeys,
  TwoFactorSettingsService,
  tokenDigest,
  type TokenForm,
} from '../index';

/**
 * Token and secret hygiene (issue 18): refresh-token grace and family revocation, client and scope
 * binding, `exp` required, rate-limited master-password re-checks, prelogin without enumeration.
 */
let h: DomainHarness;
before(async () => {
  h = await createDomainHarness();
});
after(async () => {
  await h.close();
});

const IP = '192.0.2.44';

async function login(
  ctx: DomainContext = h,
): Promise<{ userId: string; email: string; refresh: string; password: string }> {
  const { user, password } = await registerUser(ctx);
  const tokens = await ctx.get(LoginService).token(passwordGrantForm(user.email, password), IP);
  return { userId: user.id, email: user.email, refresh: String(tokens['refresh_token']), password };
}

/** `clientId` null sends none. */
function refresh(token: string, clientId: string | null = 'cli', ctx: DomainContext = h) {
  const form: TokenForm = { grant_type: 'refresh_token', refresh_token: token };
  if (clientId !== null) form['client_id'] = clientId;
  return ctx.get(LoginService).token(form, IP);
}

async function rejectsWithIdentityError(promise: Promise<unknown>, status: number, error: string): Promise<void> {
  await assert.rejects(promise, (thrown: unknown) => {
    assert.ok(thrown instanceof IdentityError, `expected an IdentityError, got ${String(thrown)}`);
    assert.equal(thrown.status, status);
    assert.equal(thrown.error, error);
    return true;
  });
}

async function tokenRow(token: string): Promise<{ rotated_at: Date | null; grace_uses: number } | undefined> {
  const rows = await h.db.rows<{ rotated_at: Date | null; grace_uses: number }>(
    'SELECT rotated_at, grace_uses FROM refresh_token WHERE token_hash = $1',
    [tokenDigest(token)],
  );
  return rows[0];
}

describe('refresh tokens: grace period and families', () => {
  test('two concurrent refreshes with the same token both succeed and answer the same successor, which works', async () => {
    const { refresh: first } = await login();
    const [a, b] = await Promise.all([refresh(first), refresh(first)]);
    assert.equal(typeof a['access_token'], 'string');
    assert.equal(typeof b['access_token'], 'string');
    assert.equal(a['refresh_token'], b['refresh_token'], 'one successor: no second branch of the family is left');
    assert.notEqual(a['refresh_token'], first);
    assert.equal((await tokenRow(first))?.grace_uses, 1, 'the second refresh went through the grace path');
    const next = await refresh(String(a['refresh_token']));
    assert.equal(typeof next['refresh_token'], 'string');
    const principal = await h.get(AccessTokens).verify(String(next['access_token']));
    assert.equal(principal?.clientId, 'cli');
    assert.equal(principal.deviceType, 25, "the login's device type, for the audit log, survives the refreshes");
  });

  test('a replaced token reused after the grace period revokes its whole family; other logins live on', async () => {
    const { userId, email, refresh: first, password } = await login();
    const otherLogin = String(
      (await h.get(LoginService).token(passwordGrantForm(email, password), IP))['refresh_token'],
    );
    const successor = String((await refresh(first))['refresh_token']);
    const grandchild = String((await refresh(successor))['refresh_token']);
    await h.db.execute(
      "UPDATE refresh_token SET rotated_at = rotated_at - interval '61 seconds' WHERE token_hash = $1",
      [tokenDigest(first)],
    );
    await rejectsWithIdentityError(refresh(first), 400, 'invalid_grant');
    await rejectsWithIdentityError(refresh(grandchild), 400, 'invalid_grant');
    await rejectsWithIdentityError(refresh(successor), 400, 'invalid_grant');
    const left = await h.db.rows<{ n: number }>('SELECT count(*)::int AS n FROM refresh_token WHERE user_id = $1', [
      userId,
    ]);
    assert.equal(left[0]?.n, 1, 'only the other login is left');
    assert.equal(typeof (await refresh(otherLogin))['access_token'], 'string');
  });

  test('with a grace of 0 seconds any second use revokes the family', async () => {
    const strict = await h.variant({ env: { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' } });
    const { refresh: first } = await login(strict);
    const successor = String((await refresh(first, 'cli', strict))['refresh_token']);
    await new Promise((done) => setTimeout(done, 5));
    await rejectsWithIdentityError(refresh(first, 'cli', strict), 400, 'invalid_grant');
    await rejectsWithIdentityError(refresh(successor, 'cli', strict), 400, 'invalid_grant');
  });

  test('the grace period is capped at 60 seconds', async () => {
    await assert.rejects(h.variant({ env: { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '61' } }), /REFRESH_TOKEN_REUSE_GRACE/);
  });

  test('a refresh is bound to the client the token was issued to; a refused one leaves the token usable', async () => {
    const { refresh: token } = await login();
    await rejectsWithIdentityError(refresh(token, 'web'), 400, 'invalid_grant');
    await rejectsWithIdentityError(refresh(token, null), 400, 'invalid_grant');
    await rejectsWithIdentityError(refresh(token, 'CLI'), 400, 'invalid_grant');
    assert.equal((await tokenRow(token))?.rotated_at, null, 'not rotated by the refused attempts');
    assert.equal(typeof (await refresh(token, 'cli'))['access_token'], 'string');
  });

  test('a new security stamp kills every refresh token, inside the grace period too', async () => {
    const { userId, refresh: first, password } = await login();
    const successor = String((await refresh(first))['refresh_token']);
    await h.get(AccountCredentialsService).logOutEverywhere(userId, password);
    await rejectsWithIdentityError(refresh(first), 400, 'invalid_grant');
    await rejectsWithIdentityError(refresh(successor), 400, 'invalid_grant');
  });
});

describe('password grant: client and scope', () => {
  test('only the official client ids are accepted', async () => {
    const { user, password } = await registerUser(h);
    const service = h.get(LoginService);
    for (const clientId of ['web', 'browser', 'desktop', 'mobile', 'cli', 'connector']) {
      const tokens = await service.token(passwordGrantForm(user.email, password, { client_id: clientId }), IP);
      const principal = await h.get(AccessTokens).verify(String(tokens['access_token']));
      assert.equal(principal?.clientId, clientId);
    }
    for (const clientId of ['evil', 'user.x', 'organization.y', '', 'CLI']) {
      await rejectsWithIdentityError(
        service.token(passwordGrantForm(user.email, password, { client_id: clientId }), IP),
        400,
        'invalid_client',
      );
    }
    // No client_id at all is the web vault, as before.
    const noClient = passwordGrantForm(user.email, password);
    delete noClient['client_id'];
    const web = await service.token(noClient, IP);
    assert.equal((await h.get(AccessTokens).verify(String(web['access_token'])))?.clientId, 'web');
  });

  test('scopes are api and offline_access only; api is required; a refresh token only with offline_access', async () => {
    const { user, password } = await registerUser(h);
    const service = h.get(LoginService);
    for (const scope of ['api.organization', 'api admin', 'offline_access', 'openid api', '']) {
      await rejectsWithIdentityError(
        service.token(passwordGrantForm(user.email, password, { scope }), IP),
        400,
        'invalid_scope',
      );
    }
    const apiOnly = await service.token(passwordGrantForm(user.email, password, { scope: 'api' }), IP);
    assert.equal(apiOnly['scope'], 'api');
    assert.equal(apiOnly['refresh_token'], undefined);
    assert.deepEqual((await h.get(AccessTokens).verify(String(apiOnly['access_token'])))?.scopes, ['api']);
    const messy = await service.token(
      passwordGrantForm(user.email, password, { scope: 'offline_access  api api' }),
      IP,
    );
    assert.equal(messy['scope'], 'api offline_access');
    assert.equal(typeof messy['refresh_token'], 'string');
    const omitted = passwordGrantForm(user.email, password);
    delete omitted['scope'];
    assert.equal((await service.token(omitted, IP))['scope'], 'api offline_access');
  });

  test('a refused client or scope costs the account no failed attempt', async () => {
    const strict = await h.variant({ env: { LOGIN_FAILURES_PER_ACCOUNT: '2' } });
    const { user, password } = await registerUser(strict);
    const service = strict.get(LoginService);
    for (let i = 0; i < 4; i++) {
      await rejectsWithIdentityError(
        service.token(passwordGrantForm(user.email, 'wrong', { client_id: 'nope' }), IP),
        400,
        'invalid_client',
      );
    }
    assert.equal(typeof (await service.token(passwordGrantForm(user.email, password), IP))['access_token'], 'string');
  });
});

describe('login throttling', () => {
  test('a throttled login says when to retry (Retry-After), within the 15-minute window', async () => {
    const strict = await h.variant({ env: { LOGIN_FAILURES_PER_ACCOUNT: '2' } });
    const { user } = await registerUser(strict);
    const service = strict.get(LoginService);
    for (let i = 0; i < 2; i++)
      await rejectsWithIdentityError(service.token(passwordGrantForm(user.email, 'wrong'), IP), 400, 'invalid_grant');
    await assert.rejects(service.token(passwordGrantForm(user.email, 'wrong'), IP), (error: unknown) => {
      assert.ok(error instanceof IdentityError);
      assert.equal(error.status, 429);
      const wait = error.retryAfterSeconds ?? 0;
      assert.ok(wait >= 1 && wait <= 900, `retry after ${wait} s`);
      return true;
    });
  });
});

describe('server-signed tokens', () => {
  test('an access token without exp is refused; the same token with exp verifies', async () => {
    const { user } = await registerUser(h);
    const key = await h.get(SigningKeys).current();
    const sign = (exp: number | null): Promise<string> => {
      const jwt = new SignJWT({
        email: user.email,
        sstamp: user.securityStamp,
        client_id: 'cli',
        scope: ['api', 'offline_access'],
      })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
        .setSubject(user.id)
        .setIssuer('https://keyhaven.test/identity')
        .setIssuedAt()
        .setJti(randomUUID());
      if (exp !== null) jwt.setExpirationTime(exp);
      return jwt.sign(key.privateKey);
    };
    const tokens = h.get(AccessTokens);
    assert.equal((await tokens.verify(await sign(Math.floor(Date.now() / 1000) + 600)))?.userId, user.id);
    assert.equal(await tokens.verify(await sign(null)), null);
  });

  test('a purpose token without exp is refused', async () => {
    const key = await h.get(SigningKeys).current();
    const token = await new SignJWT({ email: 'x@example.com', purpose: 'register' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'purpose+jwt' })
      .setIssuer('https://keyhaven.test/identity')
      .setIssuedAt()
      .sign(key.privateKey);
    assert.equal(await h.get(AccessTokens).verifyPurpose('register', token), null);
    const signed = await h.get(AccessTokens).signPurpose('register', { email: 'x@example.com' }, 60);
    assert.ok(await h.get(AccessTokens).verifyPurpose('register', signed));
  });
});

describe('master-password re-checks', () => {
  test('failed re-checks hit the per-account limit: 429 with Retry-After on every route that asks, even for the right password', async () => {
    const strict = await h.variant({ env: { LOGIN_FAILURES_PER_ACCOUNT: '3' } });
    const { user, password } = await registerUser(strict);
    const credentials = strict.get(AccountCredentialsService);
    for (let i = 0; i < 3; i++)
      await rejectsWithCode(credentials.verifyPassword(user.id, 'wrong'), 'bad_request', /Invalid password/);
    const limited = async (promise: Promise<unknown>): Promise<void> => {
      await assert.rejects(promise, (error: unknown) => {
        assert.ok(error instanceof KeyhavenError, String(error));
        assert.equal(error.code, 'rate_limited');
        assert.ok((error.retryAfterSeconds ?? 0) >= 1, 'carries Retry-After');
        return true;
      });
    };
    await limited(credentials.verifyPassword(user.id, password));
    await limited(credentials.apiKey(user.id, password));
    await limited(credentials.rotateApiKey(user.id, password));
    await limited(credentials.logOutEverywhere(user.id, password));
    await limited(strict.get(TwoFactorSettingsService).authenticator(user.id, password));
    await limited(strict.get(TwoFactorSettingsService).recoveryCode(user.id, password));
    await limited(
      credentials.changePassword(user.id, { masterPasswordHash: password, newMasterPasswordHash: 'n', key: '2.x|y|z' }),
    );
    // Another account is not affected.
    const other = await registerUser(strict);
    await credentials.verifyPassword(other.user.id, other.password);
  });

  test('the two-step recovery (email, password and recovery code) is limited per account as well', async () => {
    const strict = await h.variant({ env: { LOGIN_FAILURES_PER_ACCOUNT: '2' } });
    const { user, password } = await registerUser(strict);
    const settings = strict.get(TwoFactorSettingsService);
    const attempt = (masterPasswordHash: string) =>
      settings.recover(IP, { email: user.email, masterPasswordHash, recoveryCode: 'ABCD-EFGH' });
    for (let i = 0; i < 2; i++) await rejectsWithCode(attempt('wrong'), 'bad_request', /Invalid information/);
    await rejectsWithCode(attempt(password), 'rate_limited');
  });

  test('a right password clears the count', async () => {
    const strict = await h.variant({ env: { LOGIN_FAILURES_PER_ACCOUNT: '3' } });
    const { user, password } = await registerUser(strict);
    const credentials = strict.get(AccountCredentialsService);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) await rejectsWithCode(credentials.verifyPassword(user.id, 'wrong'), 'bad_request');
      await credentials.verifyPassword(user.id, password);
    }
  });
});

describe('prelogin without enumeration', () => {
  const fields = (kdf: object): string[] => Object.keys(kdf).sort();

  test('an unknown email gets plausible settings, the same on every call, case and instance', async () => {
    const accounts = h.get(AccountsService);
    const email = uniqueEmail('ghost');
    const first = await accounts.preloginKdf(email);
    assert.equal(first.salt, email);
    assert.equal(
      kdfProblem({
        kdf: first.kdf,
        iterations: first.iterations,
        memory: first.memory,
        parallelism: first.parallelism,
      }),
      null,
    );
    assert.deepEqual(await accounts.preloginKdf(email), first);
    assert.deepEqual(await accounts.preloginKdf(`  ${email.toUpperCase()} `), first);
    // Another module on the same store (a second instance, its own caches) answers the same.
    const other = await h.variant({});
    assert.deepEqual(await other.get(AccountsService).preloginKdf(email), first);
  });

  test('unknown emails spread over the configured settings, in the same shape as real accounts', async () => {
    const accounts = h.get(AccountsService);
    const known = await registerUser(h);
    const real = await accounts.preloginKdf(known.user.email);
    const seen = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const answer = await accounts.preloginKdf(uniqueEmail(`probe${i}`));
      assert.deepEqual(fields(answer), fields(real));
      assert.equal(kdfProblem(answer), null);
      seen.add(JSON.stringify([answer.kdf, answer.iterations, answer.memory, answer.parallelism]));
    }
    assert.ok(seen.size >= 2, `derived, not one constant answer: ${[...seen].join(' ')}`);
    assert.ok(seen.has(JSON.stringify([0, 600_000, null, null])), 'the clients’ default is among them');
  });

  test('an account registered with the settings an unknown email got answers exactly as before it existed', async () => {
    const accounts = h.get(AccountsService);
    const email = uniqueEmail('later');
    const before = await accounts.preloginKdf(email);
    await accounts.register(
      registrationBody(email, 'x', {
        kdf: before.kdf,
        kdfIterations: before.iterations,
        kdfMemory: before.memory,
        kdfParallelism: before.parallelism,
      }),
      false,
    );
    assert.deepEqual(await accounts.preloginKdf(email), before);
  });
});
