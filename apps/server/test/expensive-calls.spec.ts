import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { passwordLogin, registerAccount, startServer, type ServerProcess } from '@keyhaven/testing';
import { createOrganizationKeys, encryptCipher, encryptType2, type SymmetricKey } from '@keyhaven/vault-crypto';

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
        WRITES_PER_MINUTE_PER_USER: '6',
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

  test('other writes draw from a per-user budget: the seventh in a minute gets 429; reads, imports and other users go on', async () => {
    const noisy = await login('many-writes@example.com');
    const quiet = await login('few-writes@example.com');
    const folder = (userKey: SymmetricKey, n: number): { name: string } => ({ name: encryptType2(userKey, `f${n}`) });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await server.http.post('/api/folders', { token: noisy.token, json: folder(noisy.userKey, i) });
      statuses.push(r.status);
      if (r.status === 429) {
        assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After');
        assert.equal((JSON.parse(r.text) as { object?: string }).object, 'error', r.text);
      }
    }
    // WRITES_PER_MINUTE_PER_USER is 6 here; a refused write changes nothing.
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429]);
    const folders = await server.http.get<{ data: unknown[] }>('/api/folders', { token: noisy.token });
    assert.equal(folders.status, 200);
    assert.equal(folders.body.data.length, 6);
    // An import has its own budget (EXPENSIVE_CALLS_*), so the spent write budget does not stop it.
    const imported = await server.http.post('/api/ciphers/import', {
      token: noisy.token,
      json: {
        folders: [],
        folderRelationships: [],
        ciphers: [encryptCipher(noisy.userKey, { type: 2, name: 'n', secureNote: { type: 0 } })],
      },
    });
    assert.equal(imported.status, 200, imported.text);
    const other = await server.http.post('/api/folders', { token: quiet.token, json: folder(quiet.userKey, 0) });
    assert.equal(other.status, 200, other.text);
  });

  test('an organization API key is limited per organization; its owner still syncs', async () => {
    const account = await registerAccount(server.http, 'directory-owner@example.com', 'expensive calls password');
    const session = await passwordLogin(server.http, account);
    const keys = await createOrganizationKeys(account.publicKey);
    const org = await server.http.post<{ id: string }>('/api/organizations', {
      token: session.accessToken,
      json: {
        name: 'Directory Co',
        billingEmail: account.email,
        key: keys.key,
        keys: { publicKey: keys.publicKey, encryptedPrivateKey: keys.encryptedPrivateKey },
        collectionName: encryptType2(keys.orgKey, 'Default'),
      },
    });
    assert.equal(org.status, 200, org.text);
    const apiKey = await server.http.post<{ apiKey: string }>(`/api/organizations/${org.body.id}/api-key`, {
      token: session.accessToken,
      json: { masterPasswordHash: account.masterPasswordHash },
    });
    assert.equal(apiKey.status, 200, apiKey.text);
    const granted = await server.http.post<{ access_token: string }>('/identity/connect/token', {
      form: {
        grant_type: 'client_credentials',
        scope: 'api.organization',
        client_id: `organization.${org.body.id}`,
        client_secret: apiKey.body.apiKey,
      },
    });
    assert.equal(granted.status, 200, granted.text);
    const directory = { members: [], groups: [], overwriteExisting: false };
    const statuses: number[] = [];
    let refused: { headers: Record<string, string | string[] | undefined> } | undefined;
    for (let i = 0; i < 4; i++) {
      const r = await server.http.post('/api/public/organization/import', {
        token: granted.body.access_token,
        json: directory,
      });
      statuses.push(r.status);
      if (r.status === 429) refused = r;
    }
    // EXPENSIVE_CALLS_PER_MINUTE_PER_USER is 3 here.
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.ok(Number(refused?.headers['retry-after']) >= 1);
    assert.equal((await server.http.get('/api/sync', { token: session.accessToken })).status, 200);
  });

  /** An import whose body is announced but (yet) unsent: resolves with the answer, if one comes before the body. */
  function announcedImport(
    token: string,
    declaredBytes: number,
  ): { req: ClientRequest; answer: Promise<IncomingMessage> } {
    const url = new URL('/api/ciphers/import', server.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': String(declaredBytes),
      },
      ...(server.caPath ? { ca: readFileSync(server.caPath) } : {}),
    });
    const answer = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    req.flushHeaders();
    return { req, answer };
  }

  test('an import over the limit is refused before its body is read; a bad token too', async () => {
    const noisy = await login('early-refusal@example.com');
    // The first import holds the user's only slot while its 40 MB body is still on the way.
    const first = announcedImport(noisy.token, 40_000_000);
    first.req.write('{"ciphers":[');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The second is answered 429 though not one byte of its body was sent.
    const second = announcedImport(noisy.token, 60_000_000);
    const refused = await second.answer;
    assert.equal(refused.statusCode, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    second.req.destroy();
    const forged = announcedImport(`${noisy.token.slice(0, -4)}AAAA`, 60_000_000);
    assert.equal((await forged.answer).statusCode, 401);
    forged.req.destroy();
    // Once the first import's connection is gone its slot is free again.
    first.req.destroy();
    await first.answer.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const next = await server.http.post('/api/ciphers/import', {
      token: noisy.token,
      json: { ciphers: [], folders: [], folderRelationships: [] },
    });
    assert.equal(next.status, 200, next.text);
  });

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
