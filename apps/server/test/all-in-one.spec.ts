import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { startServer, type ServerProcess } from '@keyhaven/testing';
import { createAccount, decryptFolderName, encryptCipher, encryptFolder, pbkdf2Kdf } from '@keyhaven/vault-crypto';
import { passwordLogin, registerAccount } from '@keyhaven/testing';

interface Health {
  status: string;
  checks: Record<string, { status: string; kind: string }>;
}

describe('all-in-one server on embedded defaults', () => {
  let server: ServerProcess;

  before(async () => {
    server = await startServer({ env: { LOG_LEVEL: 'info' } });
  });

  after(async () => {
    await server.stop('SIGKILL');
    server.cleanup();
  });

  test('serves HTTPS with a local CA it created and answers /alive', async () => {
    assert.ok(server.caPath && existsSync(server.caPath), 'the CA file exists');
    assert.match(server.output(), /NODE_EXTRA_CA_CERTS=/);
    const res = await server.http.get('/alive');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
    assert.ok(res.headers['x-request-id'], 'responses carry a request id');
  });

  test('/healthz reports each embedded dependency', async () => {
    const res = await server.http.get<Health>('/healthz');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
    assert.deepEqual(
      Object.fromEntries(Object.entries(res.body.checks).map(([name, c]) => [name, `${c.kind}:${c.status}`])),
      { database: 'pglite:ok', bus: 'in-process:ok', cache: 'memory:ok', blobs: 'local:ok' },
    );
  });

  test('/metrics exposes Prometheus metrics', async () => {
    const res = await server.http.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.text, /http_request_duration_seconds_bucket/);
  });

  test('errors use the Bitwarden shape, never a stack trace', async () => {
    const missing = await server.http.get('/api/no-such-route');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { message: 'Resource not found.', validationErrors: null, object: 'error' });

    const malformed = await server.http.post('/identity/accounts/prelogin/password', {
      rawBody: '{"email": ',
      contentType: 'application/json',
    });
    assert.equal(malformed.status, 400);
    assert.equal((malformed.body as { object: string }).object, 'error');
    assert.doesNotMatch(malformed.text, /at \w+ \(/);

    const huge = await server.http.post('/identity/accounts/prelogin/password', {
      json: { email: 'x'.repeat(3 * 1024 * 1024) },
    });
    assert.equal(huge.status, 413);

    const unauthenticated = await server.http.get('/api/sync');
    assert.equal(unauthenticated.status, 401);
    assert.equal((unauthenticated.body as { object: string }).object, 'error');
  });

  test('50 concurrent imports on PGlite, a third failing mid-transaction, leave exactly the successful ones', async () => {
    const account = await registerAccount(server.http, 'concurrent@example.com', 'concurrent imports password');
    const { accessToken: token } = await passwordLogin(server.http, account);
    // Bodies are built first so that the 50 requests reach the server together and their transactions overlap.
    const imports = Array.from({ length: 50 }, (_, n) => ({
      n,
      fail: n % 3 === 0,
      body: {
        folders: [encryptFolder(account.userKey, `folder ${n}`)],
        ciphers: Array.from({ length: 40 }, (_, i) =>
          encryptCipher(account.userKey, { type: 2, name: `item ${n}.${i}`, secureNote: { type: 0 } }),
        ),
        // Each import writes a folder first; a relationship pointing outside the import then fails it.
        folderRelationships: [
          { key: 0, value: 0 },
          { key: n % 3 === 0 ? 99 : 1, value: 0 },
        ],
      },
    }));
    const results = await Promise.all(
      imports.map(async ({ n, fail, body }) => ({
        n,
        fail,
        status: (await server.http.post('/api/ciphers/import', { token, json: body })).status,
      })),
    );
    for (const r of results) assert.equal(r.status, r.fail ? 400 : 200, `import ${r.n}`);
    const sync = await server.http.get<{ folders: { name: string }[]; ciphers: unknown[] }>('/api/sync', { token });
    const expected = results
      .filter((r) => !r.fail)
      .map((r) => `folder ${r.n}`)
      .sort();
    assert.deepEqual(sync.body.folders.map((f) => decryptFolderName(account.userKey, f)).sort(), expected);
    assert.equal(sync.body.ciphers.length, expected.length * 40);
  });
});

describe('all-in-one lifecycle', () => {
  test('SIGTERM exits 0 within 5 seconds and a second start reuses the data', async () => {
    const first = await startServer();
    try {
      const ca = readFileSync(first.caPath ?? '', 'utf8');
      const account = await createAccount({
        email: 'persist@example.com',
        password: 'correct horse battery',
        kdf: pbkdf2Kdf(650_000),
      });
      const registered = await first.http.post('/identity/accounts/register', {
        json: account.registerFinishBody('', 'legacy'),
      });
      assert.equal(registered.status, 200, registered.text);
      const started = Date.now();
      const code = await first.stop('SIGTERM');
      assert.equal(code, 0);
      assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`);

      const second = await startServer({ dataDir: first.dataDir });
      try {
        assert.equal(readFileSync(second.caPath ?? '', 'utf8'), ca, 'the CA is reused');
        const health = await second.http.get<Health>('/healthz');
        assert.equal(health.status, 200);
        const prelogin = await second.http.post<{ kdfIterations: number }>('/identity/accounts/prelogin/password', {
          json: { email: 'persist@example.com' },
        });
        assert.equal(prelogin.body.kdfIterations, 650_000, 'the account registered before the restart is still there');
      } finally {
        assert.equal(await second.stop('SIGTERM'), 0);
      }
    } finally {
      first.cleanup();
    }
  });
});
