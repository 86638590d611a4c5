import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { BwCli, passwordLogin, registerAccount, type HttpResponse } from '@keyhaven/testing';
import type { Account } from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';

/**
 * Token and secret hygiene (issue 18) over HTTP on the all-in-one, on each database: refresh-token
 * grace and family revocation (and the real `bw` CLI staying logged in across a double refresh),
 * client and scope binding, `exp` required, rate-limited master-password re-checks, and prelogin
 * that does not tell unknown emails from accounts.
 */
const PASSWORD = 'correct horse battery staple';
const TOKEN = '/identity/connect/token';

interface TokenBody {
  access_token?: string;
  refresh_token?: string;
  scope?: string;
  error?: string;
  ErrorModel?: { Message?: string; Object?: string };
}

function assertIdentityError(res: HttpResponse, status: number, error: string): void {
  assert.equal(res.status, status, res.text);
  const body = res.body as TokenBody;
  assert.equal(body.error, error, res.text);
  assert.equal(body.ErrorModel?.Object, 'error', res.text);
}

describeOnBackends('token and secret hygiene', (backend) => {
  let server: BackedServer;
  let alice: Account;

  const refresh = (refreshToken: string, clientId: string | null = 'cli') =>
    server.http.post<TokenBody>(TOKEN, {
      form: {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        ...(clientId === null ? {} : { client_id: clientId }),
      },
    });

  const graceUses = async (email: string): Promise<number> =>
    (
      await server.db.rows<{ n: number }>(
        `SELECT coalesce(sum(r.grace_uses), 0)::int AS n FROM refresh_token r JOIN app_user u ON u.id = r.user_id
         WHERE u.email = $1`,
        [email],
      )
    )[0]?.n ?? 0;

  before(async () => {
    server = await startAllInOne(backend, { LOGIN_FAILURES_PER_ACCOUNT: '3' });
    alice = await registerAccount(server.http, `alice-${randomUUID().slice(0, 6)}@example.com`, PASSWORD);
  });

  after(async () => {
    await server.stop();
  });

  test('two concurrent refreshes with the same token both succeed, with the same successor, which then works', async () => {
    const session = await passwordLogin(server.http, alice);
    const [a, b] = await Promise.all([refresh(session.refreshToken), refresh(session.refreshToken)]);
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assert.equal(a.body.refresh_token, b.body.refresh_token);
    assert.notEqual(a.body.refresh_token, session.refreshToken);
    for (const res of [a, b]) {
      const sync = await server.http.get('/api/sync', { token: String(res.body.access_token) });
      assert.equal(sync.status, 200, sync.text);
    }
    const next = await refresh(String(a.body.refresh_token));
    assert.equal(next.status, 200, next.text);
  });

  test('a replaced token reused after the grace period revokes its family: the successor dies too', async () => {
    const session = await passwordLogin(server.http, alice, {}, randomUUID());
    const other = await passwordLogin(server.http, alice, {}, randomUUID());
    const first = await refresh(session.refreshToken);
    assert.equal(first.status, 200, first.text);
    // The grace period has passed for the replaced token (as if it were replayed a minute later).
    await server.db.rows(
      "UPDATE refresh_token SET rotated_at = rotated_at - interval '61 seconds' WHERE rotated_at IS NOT NULL",
    );
    assertIdentityError(await refresh(session.refreshToken), 400, 'invalid_grant');
    assertIdentityError(await refresh(String(first.body.refresh_token)), 400, 'invalid_grant');
    // Another login of the same account is another family, and lives on.
    const untouched = await refresh(other.refreshToken);
    assert.equal(untouched.status, 200, untouched.text);
  });

  test('the refresh grant is bound to its client; the password grant takes only known clients and scopes', async () => {
    const session = await passwordLogin(server.http, alice);
    assertIdentityError(await refresh(session.refreshToken, 'web'), 400, 'invalid_grant');
    assertIdentityError(await refresh(session.refreshToken, null), 400, 'invalid_grant');
    const ok = await refresh(session.refreshToken, 'cli');
    assert.equal(ok.status, 200, 'the refused attempts did not use the token up');

    const form = {
      grant_type: 'password',
      username: alice.email,
      password: alice.masterPasswordHash,
      deviceType: '25',
      deviceIdentifier: randomUUID(),
      deviceName: 'linux',
    };
    for (const clientId of ['evil', 'user.whatever', '']) {
      const res = await server.http.post(TOKEN, {
        form: { ...form, client_id: clientId, scope: 'api offline_access' },
      });
      assertIdentityError(res, 400, 'invalid_client');
    }
    for (const scope of ['api admin', 'api.organization', 'offline_access']) {
      assertIdentityError(
        await server.http.post(TOKEN, { form: { ...form, client_id: 'web', scope } }),
        400,
        'invalid_scope',
      );
    }
    const web = await server.http.post<TokenBody>(TOKEN, {
      form: { ...form, client_id: 'web', scope: 'api offline_access' },
    });
    assert.equal(web.status, 200, web.text);
    assertIdentityError(await refresh(String(web.body.refresh_token), 'cli'), 400, 'invalid_grant');
    assert.equal((await refresh(String(web.body.refresh_token), 'web')).status, 200);
  });

  test('a server-signed access token without exp is refused', async () => {
    const [key] = await server.db.rows<{ kid: string; private_pkcs8: string }>(
      'SELECT id AS kid, private_pkcs8 FROM signing_key ORDER BY created_at DESC LIMIT 1',
    );
    const [user] = await server.db.rows<{ id: string; security_stamp: string }>(
      'SELECT id, security_stamp FROM app_user WHERE email = $1',
      [alice.email],
    );
    assert.ok(key && user);
    const privateKey = await importPKCS8(key.private_pkcs8, 'ES256');
    const sign = (withExp: boolean): Promise<string> => {
      const jwt = new SignJWT({
        email: alice.email,
        sstamp: user.security_stamp,
        client_id: 'cli',
        scope: ['api', 'offline_access'],
      })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
        .setSubject(user.id)
        .setIssuer(`${server.url}/identity`)
        .setIssuedAt()
        .setJti(randomUUID());
      if (withExp) jwt.setExpirationTime('10m');
      return jwt.sign(privateKey);
    };
    assert.equal((await server.http.get('/api/sync', { token: await sign(true) })).status, 200, 'control');
    const refused = await server.http.get<{ object?: string }>('/api/sync', { token: await sign(false) });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.object, 'error');
  });

  test('master-password re-checks are rate-limited per account: 429 with Retry-After in the error shape on every route that asks', async () => {
    const carol = await registerAccount(server.http, `carol-${randomUUID().slice(0, 6)}@example.com`, PASSWORD);
    const token = (await passwordLogin(server.http, carol)).accessToken;
    for (let i = 0; i < 3; i++) {
      const wrong = await server.http.post<{ object?: string }>('/api/accounts/verify-password', {
        token,
        json: { masterPasswordHash: 'bm9wZQ==' },
      });
      assert.equal(wrong.status, 400, wrong.text);
    }
    const right = { masterPasswordHash: carol.masterPasswordHash };
    const routes: [string, string][] = [
      ['POST', '/api/accounts/verify-password'],
      ['POST', '/api/accounts/api-key'],
      ['POST', '/api/accounts/rotate-api-key'],
      ['POST', '/api/accounts/security-stamp'],
      ['POST', '/api/two-factor/get-authenticator'],
      ['POST', '/api/two-factor/get-recover'],
      ['POST', '/api/ciphers/purge'],
    ];
    for (const [, path] of routes) {
      const res = await server.http.post<{ message?: string; object?: string; validationErrors?: unknown }>(path, {
        token,
        json: right,
      });
      assert.equal(res.status, 429, `${path}: ${res.text}`);
      assert.equal(res.body.object, 'error', path);
      assert.equal(typeof res.body.message, 'string', path);
      assert.ok(Number(res.headers['retry-after']) >= 1, `${path} carries Retry-After`);
    }
    // Still signed in, and another account's checks are its own.
    assert.equal((await server.http.get('/api/sync', { token })).status, 200);
    const aliceToken = (await passwordLogin(server.http, alice)).accessToken;
    const aliceCheck = await server.http.post('/api/accounts/verify-password', {
      token: aliceToken,
      json: { masterPasswordHash: alice.masterPasswordHash },
    });
    assert.equal(aliceCheck.status, 200, aliceCheck.text);
  });

  test('prelogin answers unknown emails like accounts: same shape, derived settings, stable across calls', async () => {
    const prelogin = (email: string) =>
      server.http.post<Record<string, unknown>>('/identity/accounts/prelogin/password', { json: { email } });
    const known = await prelogin(alice.email);
    assert.equal(known.status, 200);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const email = `nobody-${i}-${randomUUID().slice(0, 6)}@example.com`;
      const first = await prelogin(email);
      assert.equal(first.status, 200);
      assert.deepEqual(Object.keys(first.body).sort(), Object.keys(known.body).sort());
      assert.deepEqual(
        Object.keys(first.body['kdfSettings'] as object).sort(),
        Object.keys(known.body['kdfSettings'] as object).sort(),
      );
      assert.equal(first.body['salt'], email);
      assert.deepEqual((await prelogin(email.toUpperCase())).body, first.body, 'stable across calls and case');
      seen.add(JSON.stringify(first.body['kdfSettings']));
    }
    assert.ok(seen.size >= 2, `derived per email, not one constant: ${[...seen].join(' ')}`);
  });

  test('prelogin takes about as long for an unknown email as for an account', async () => {
    const time = async (email: string): Promise<number> => {
      const start = process.hrtime.bigint();
      const res = await server.http.post('/identity/accounts/prelogin/password', { json: { email } });
      assert.equal(res.status, 200);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const median = (values: number[]): number => values.sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 15; i++) {
      known.push(await time(alice.email));
      unknown.push(await time(`ghost-${randomUUID()}@example.com`));
    }
    // Loose on purpose (a shared machine): both make one lookup and one HMAC, so no systematic gap.
    assert.ok(
      Math.abs(median(known) - median(unknown)) < 50,
      `known ${median(known)} ms, unknown ${median(unknown)} ms`,
    );
  });

  if (backend === 'pglite') {
    test('the real bw CLI stays logged in when two commands refresh with the same token at once', async () => {
      const email = `bw-${randomUUID().slice(0, 6)}@example.com`;
      await registerAccount(server.http, email, PASSWORD);
      const bw = new BwCli(server.caPath);
      try {
        await bw.ok(['config', 'server', server.url]);
        bw.session = (await bw.ok(['login', email, PASSWORD, '--raw'])).trim();
        // `sync --force` always refreshes first; two at once read the same stored refresh token.
        // Whether both really sent it is read back from the server (a use inside the grace period).
        let doubled = false;
        for (let round = 0; round < 3 && !doubled; round++) {
          const before = await graceUses(email);
          const results = await Promise.all([bw.run(['sync', '--force']), bw.run(['sync', '--force'])]);
          for (const result of results) assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
          doubled = (await graceUses(email)) > before;
          assert.match(await bw.ok(['sync', '--force']), /Syncing complete/);
        }
        assert.ok(doubled, 'the two commands refreshed with the same token');
        const status = await bw.json<{ status: string }>(['status']);
        assert.equal(status.status, 'unlocked');
        assert.match(await bw.ok(['sync', '--force']), /Syncing complete/);
        await bw.json(['create', 'folder', Buffer.from(JSON.stringify({ name: 'after' })).toString('base64')]);
      } finally {
        bw.cleanup();
      }
    });
  }
});
