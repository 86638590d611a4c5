import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PushType } from '@keyhaven/contracts';
import { BwCli, passwordLogin, registerAccount, startServer, type ServerProcess } from '@keyhaven/testing';
import { encryptCipher, encryptFolder, type Account } from '@keyhaven/vault-crypto';
import {
  PROTOCOLS,
  connectHub,
  rawSocket,
  subjectOf,
  withTimeout,
  type HubClient,
  type Notification,
} from './notifications-clients';

const PASSWORD = 'notifications hub password';
const HANDSHAKE_TIMEOUT_MS = 1000;
const ANONYMOUS_PER_IP = 4;
const MAX_MESSAGE_BYTES = 4096;
const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');
const RS = '\u001e';

describe('the notifications hub on the all-in-one server', () => {
  let server: ServerProcess;
  let account: Account;
  let token = '';
  let userId = '';
  let bw: BwCli;
  const clients: HubClient[] = [];

  before(async () => {
    server = await startServer({
      env: {
        NOTIFICATIONS_HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_TIMEOUT_MS),
        NOTIFICATIONS_ANONYMOUS_CONNECTIONS_PER_IP: String(ANONYMOUS_PER_IP),
        NOTIFICATIONS_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
        NOTIFICATIONS_STAMP_CHECK_MS: '300',
      },
    });
    const email = `hub-${Date.now()}@example.com`;
    account = await registerAccount(server.http, email, PASSWORD);
    token = (await passwordLogin(server.http, account)).accessToken;
    userId = subjectOf(token);
    bw = new BwCli(server.caPath);
    await bw.ok(['config', 'server', server.url]);
    bw.session = (await bw.ok(['login', email, PASSWORD, '--raw'])).trim();
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
    bw.cleanup();
    await server.stop();
    server.cleanup();
  });

  const connect = async (options: Partial<Parameters<typeof connectHub>[0]> = {}): Promise<HubClient> => {
    const client = await connectHub({
      baseUrl: server.url,
      caPath: server.caPath,
      protocol: 'json',
      token,
      ...options,
    });
    clients.push(client);
    return client;
  };

  for (const protocol of PROTOCOLS) {
    test(`${protocol}: SyncCipherCreate with the item's ids within a second of bw create item`, async () => {
      const client = await connect({ protocol });
      const made = JSON.parse(
        await bw.ok([
          'create',
          'item',
          encode({ type: 2, name: `note ${protocol}`, secureNote: { type: 0 } }),
          '--raw',
        ]),
      ) as { id: string };
      const doneAt = Date.now();
      const { message, at } = await client.next(
        (n) => n.Type === PushType.SyncCipherCreate && n.Payload['Id'] === made.id,
      );
      assert.ok(at - doneAt <= 1000, `delivered ${at - doneAt} ms after bw returned`);
      assert.equal(message.Payload['UserId'], userId);
      assert.equal(message.Payload['OrganizationId'], null);
      const revision = message.Payload['RevisionDate'];
      // MessagePack carries dates as the timestamp extension, JSON as ISO strings.
      if (protocol === 'messagepack') assert.ok(revision instanceof Date, `a Date: ${String(revision)}`);
      else assert.match(String(revision), /^\d{4}-\d{2}-\d{2}T/);
      await client.stop();
    });

    test(`${protocol}: SyncCipherCreate after an API create, SyncFolderUpdate after bw edit folder`, async () => {
      const client = await connect({ protocol });
      const sent = Date.now();
      const cipher = await server.http.post<{ id: string }>('/api/ciphers', {
        token,
        json: encryptCipher(account.userKey, { type: 2, name: 'api note', secureNote: { type: 0 } }),
      });
      assert.equal(cipher.status, 200, cipher.text);
      const created = await client.next(
        (n) => n.Type === PushType.SyncCipherCreate && n.Payload['Id'] === cipher.body.id,
      );
      assert.ok(created.at - sent <= 1000, `delivered ${created.at - sent} ms after the request`);

      const folder = await server.http.post<{ id: string }>('/api/folders', {
        token,
        json: encryptFolder(account.userKey, 'Before'),
      });
      assert.equal(folder.status, 200, folder.text);
      await client.next((n) => n.Type === PushType.SyncFolderCreate && n.Payload['Id'] === folder.body.id);
      await bw.ok(['sync']);
      await bw.ok(['edit', 'folder', folder.body.id, encode({ name: `After ${protocol}` })]);
      const editedAt = Date.now();
      const { message, at } = await client.next(
        (n) => n.Type === PushType.SyncFolderUpdate && n.Payload['Id'] === folder.body.id,
      );
      assert.ok(at - editedAt <= 1000, `delivered ${at - editedAt} ms after bw returned`);
      assert.equal(message.Payload['UserId'], userId);
      await client.stop();
    });
  }

  test('the access_token query parameter (as browsers send it) and negotiation both connect', async () => {
    const query = await connect({ protocol: 'messagepack', tokenInQuery: true });
    const negotiated = await connect({ protocol: 'json', negotiate: true });
    const folder = await server.http.post<{ id: string }>('/api/folders', {
      token,
      json: encryptFolder(account.userKey, 'Both'),
    });
    const isIt = (n: Notification): boolean =>
      n.Type === PushType.SyncFolderCreate && n.Payload['Id'] === folder.body.id;
    await Promise.all([query.next(isIt), negotiated.next(isIt)]);
    const anonymous = await server.http.post<{ negotiateVersion: number; availableTransports: unknown[] }>(
      '/notifications/anonymous-hub/negotiate?negotiateVersion=1',
    );
    assert.equal(anonymous.status, 200);
    assert.equal(anonymous.body.negotiateVersion, 1);
    const refused = await server.http.post('/notifications/hub/negotiate?negotiateVersion=1');
    assert.equal(refused.status, 401, 'the hub negotiates only with a token');
    await Promise.all([query.stop(), negotiated.stop()]);
  });

  test('a bad token, a forged one and none at all are refused at the upgrade', async () => {
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    const forged = [
      header,
      Buffer.from(JSON.stringify({ ...claims, exp: Number(claims['exp']) + 86400 })).toString('base64url'),
      signature,
    ].join('.');
    for (const bad of ['not-a-jwt', forged]) {
      for (const protocol of PROTOCOLS) {
        await assert.rejects(connectHub({ baseUrl: server.url, caPath: server.caPath, protocol, token: bad }));
      }
      await assert.rejects(rawSocket(server.url, server.caPath, 'hub', { authorization: `Bearer ${bad}` }), /HTTP 401/);
    }
    await assert.rejects(rawSocket(server.url, server.caPath, 'hub'), /HTTP 401/);
  });

  describe('bad clients are closed, one connection at a time', () => {
    let witness: HubClient;

    before(async () => {
      witness = await connect({ protocol: 'messagepack' });
    });

    /** After each misbehaving connection, the healthy one still gets its pushes. */
    const witnessStillServed = async (): Promise<void> => {
      const folder = await server.http.post<{ id: string }>('/api/folders', {
        token,
        json: encryptFolder(account.userKey, 'witness'),
      });
      assert.equal(folder.status, 200, folder.text);
      await witness.next((n) => n.Type === PushType.SyncFolderCreate && n.Payload['Id'] === folder.body.id);
    };

    const auth = (): Record<string, string> => ({ authorization: `Bearer ${token}` });

    test('garbage after the handshake (JSON and MessagePack) closes that connection', async () => {
      const json = await rawSocket(server.url, server.caPath, 'hub', auth());
      json.socket.send(`{"protocol":"json","version":1}${RS}`);
      json.socket.send(`this is not json${RS}`);
      const jsonClosed = await withTimeout(json.closed, 3000, 'json close');
      assert.equal(jsonClosed.code, 1008);
      assert.equal(json.messages[0]?.toString(), `{}${RS}`);
      assert.match(json.messages.at(-1)?.toString() ?? '', /"type":7,"error":"Connection closed with an error."/);

      const msgpack = await rawSocket(server.url, server.caPath, 'hub', auth());
      msgpack.socket.send(`{"protocol":"messagepack","version":1}${RS}`);
      msgpack.socket.send(Buffer.from('03c1c1c1', 'hex'));
      assert.equal((await withTimeout(msgpack.closed, 3000, 'msgpack close')).code, 1008);

      const handshake = await rawSocket(server.url, server.caPath, 'hub', auth());
      handshake.socket.send(`[1,2,3]${RS}`);
      assert.equal((await withTimeout(handshake.closed, 3000, 'bad handshake close')).code, 1008);
      await witnessStillServed();
    });

    test('an oversized frame closes that connection', async () => {
      const big = await rawSocket(server.url, server.caPath, 'hub', auth());
      big.socket.send(`{"protocol":"json","version":1}${RS}`);
      big.socket.send(`{"type":6,"pad":"${'x'.repeat(MAX_MESSAGE_BYTES * 2)}"}${RS}`);
      assert.equal((await withTimeout(big.closed, 3000, 'oversized close')).code, 1009);
      const longRecord = await rawSocket(server.url, server.caPath, 'hub', auth());
      longRecord.socket.send(`{"protocol":"json","version":1}${RS}`);
      // Under the frame cap, but a record that never ends grows past the message limit over several frames.
      for (let i = 0; i < 3; i++) longRecord.socket.send('y'.repeat(MAX_MESSAGE_BYTES - 100));
      assert.equal((await withTimeout(longRecord.closed, 3000, 'long record close')).code, 1008);
      await witnessStillServed();
    });

    test('an unknown protocol or version is refused in the handshake', async () => {
      const unknown = await rawSocket(server.url, server.caPath, 'hub', auth());
      unknown.socket.send(`{"protocol":"blazorpack","version":1}${RS}`);
      await withTimeout(unknown.closed, 3000, 'unknown protocol close');
      assert.equal(unknown.messages[0]?.toString(), `{"error":"The protocol 'blazorpack' is not supported."}${RS}`);
      const version = await rawSocket(server.url, server.caPath, 'hub', auth());
      version.socket.send(`{"protocol":"json","version":2}${RS}`);
      await withTimeout(version.closed, 3000, 'unknown version close');
      assert.match(version.messages[0]?.toString() ?? '', /does not support version 2/);
      await witnessStillServed();
    });

    test('no handshake within the timeout closes the connection', async () => {
      const started = Date.now();
      const silent = await rawSocket(server.url, server.caPath, 'hub', auth());
      const closed = await withTimeout(silent.closed, HANDSHAKE_TIMEOUT_MS + 3000, 'handshake timeout');
      const waited = Date.now() - started;
      assert.equal(closed.code, 1008);
      assert.ok(waited >= HANDSHAKE_TIMEOUT_MS - 100, `closed after ${waited} ms`);
      await witnessStillServed();
    });

    test('flooding the anonymous hub from one address: the extra connections are refused, the others stay', async () => {
      const requestId = '3f4a7c2e-5b1d-4e8f-9a6b-2c3d4e5f6a7b';
      const open = [];
      for (let i = 0; i < ANONYMOUS_PER_IP; i++) {
        open.push(
          await connectHub({
            baseUrl: server.url,
            caPath: server.caPath,
            protocol: 'messagepack',
            path: `anonymous-hub?Token=${requestId}`,
          }),
        );
      }
      for (let i = 0; i < 3; i++) {
        await assert.rejects(rawSocket(server.url, server.caPath, `anonymous-hub?Token=${requestId}`), /HTTP 429/);
      }
      await assert.rejects(
        connectHub({
          baseUrl: server.url,
          caPath: server.caPath,
          protocol: 'json',
          path: `anonymous-hub?Token=${requestId}`,
        }),
      );
      for (const client of open) assert.equal(client.connection.state, 'Connected');
      await assert.rejects(rawSocket(server.url, server.caPath, 'anonymous-hub?Token=not-a-guid'));
      await witnessStillServed();
      await open[0]?.stop();
      // The slot is free again once that connection has gone.
      let again: HubClient | undefined;
      for (let i = 0; i < 20 && !again; i++) {
        again = await connectHub({
          baseUrl: server.url,
          caPath: server.caPath,
          protocol: 'json',
          path: `anonymous-hub?Token=${requestId}`,
        }).catch(() => undefined);
        if (!again) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(again, 'a new anonymous connection is admitted after one closed');
      await Promise.all([again.stop(), ...open.slice(1).map((c) => c.stop())]);
    });
  });

  test('LogOut reaches both protocols after a security-stamp rotation; the connections close; the old token is refused', async () => {
    const json = await connect({ protocol: 'json' });
    const msgpack = await connect({ protocol: 'messagepack' });
    const rotate = await server.http.post('/api/accounts/security-stamp', {
      token,
      json: { masterPasswordHash: account.masterPasswordHash },
    });
    assert.equal(rotate.status, 200, rotate.text);
    for (const client of [json, msgpack]) {
      const { message } = await client.next((n) => n.Type === PushType.LogOut, 5000);
      assert.equal(message.Payload['UserId'], userId);
      await withTimeout(client.closed, 5000, 'closed after LogOut');
    }
    await assert.rejects(connectHub({ baseUrl: server.url, caPath: server.caPath, protocol: 'json', token }));
  });
});
