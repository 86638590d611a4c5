import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { passwordLogin, registerAccount, startServer, type ServerProcess } from '@keyhaven/testing';
import { encryptCipher, type SymmetricKey } from '@keyhaven/vault-crypto';

/**
 * Per-user limits on expensive calls (`@ExpensiveCall`): with small limits configured, one user's
 * burst is answered 429 with Retry-After in Bitwarden's error shape, while `/alive` and another
 * user's sync keep answering. Timings are the benchmark's business (tools/bench/load.ts).
 */
describe('expensive calls are limited per user', () => {
  let server: ServerProcess;

  before(async () => {
    server = await startServer({
      env: {
        SYNC_CONCURRENT_PER_USER: '2',
        SYNC_PER_MINUTE_PER_USER: '20',
        EXPENSIVE_CALLS_CONCURRENT_PER_USER: '1',
        EXPENSIVE_CALLS_PER_MINUTE_PER_USER: '3',
      },
    });
  });

  after(async () => {
    await server.stop();
    server.cleanup();
  });

  async function login(email: string): Promise<{ token: string; userKey: SymmetricKey }> {
    const account = await registerAccount(server.http, email, 'expensive calls password');
    return { token: (await passwordLogin(server.http, account)).accessToken, userKey: account.userKey };
  }

  test('a burst of syncs by one user gets 429 with Retry-After; /alive and another user are unaffected', async () => {
    const noisy = await login('noisy-sync@example.com');
    const quiet = await login('quiet-sync@example.com');
    const burst = Promise.all(Array.from({ length: 40 }, () => server.http.get('/api/sync', { token: noisy.token })));
    const [alive, other] = await Promise.all([
      server.http.get('/alive'),
      server.http.get<{ object: string }>('/api/sync', { token: quiet.token }),
    ]);
    const results = await burst;
    assert.equal(alive.status, 200);
    assert.equal(other.status, 200, other.text);
    assert.equal(other.body.object, 'sync');

    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    assert.equal(ok.length + refused.length, results.length, results.map((r) => r.status).join(','));
    assert.ok(ok.length >= 1 && ok.length <= 20, `${ok.length} syncs allowed`);
    assert.ok(refused.length >= 20, `${refused.length} refused`);
    for (const r of refused) {
      assert.match(String(r.headers['retry-after']), /^[1-9]\d*$/);
      assert.equal((r.body as { object: string }).object, 'error');
    }

    // The per-minute budget is now spent: a lone sync is refused with the wait until the window moves.
    const later = await server.http.get('/api/sync', { token: noisy.token });
    if (ok.length === 20) {
      assert.equal(later.status, 429);
      assert.ok(Number(later.headers['retry-after']) >= 1);
    }
    // The other user still syncs.
    assert.equal((await server.http.get('/api/sync', { token: quiet.token })).status, 200);
  });

  test('parallel imports by one user: one runs at a time, the rest get 429; another user syncs and imports', async () => {
    const noisy = await login('noisy-import@example.com');
    const quiet = await login('quiet-import@example.com');
    const body = (key: SymmetricKey, n: number) => ({
      folders: [],
      folderRelationships: [],
      ciphers: Array.from({ length: 200 }, (_, i) =>
        encryptCipher(key, { type: 2, name: `item ${n}.${i}`, secureNote: { type: 0 } }),
      ),
    });
    const bodies = Array.from({ length: 10 }, (_, n) => body(noisy.userKey, n));
    const burst = Promise.all(
      bodies.map((json) => server.http.post('/api/ciphers/import', { token: noisy.token, json })),
    );
    const [alive, otherSync, otherImport] = await Promise.all([
      server.http.get('/alive'),
      server.http.get('/api/sync', { token: quiet.token }),
      server.http.post('/api/ciphers/import', { token: quiet.token, json: body(quiet.userKey, 0) }),
    ]);
    const results = await burst;
    assert.equal(alive.status, 200);
    assert.equal(otherSync.status, 200, otherSync.text);
    assert.equal(otherImport.status, 200, otherImport.text);

    const statuses = results.map((r) => r.status);
    assert.ok(
      statuses.every((s) => s === 200 || s === 429),
      statuses.join(','),
    );
    const imported = statuses.filter((s) => s === 200).length;
    assert.ok(imported >= 1 && imported <= 3, statuses.join(','));
    for (const r of results.filter((x) => x.status === 429)) assert.ok(Number(r.headers['retry-after']) >= 1);

    // Exactly the accepted imports were written.
    const sync = await server.http.get<{ ciphers: unknown[] }>('/api/sync', { token: noisy.token });
    assert.equal(sync.status, 200);
    assert.equal(sync.body.ciphers.length, imported * 200);
  });
});
