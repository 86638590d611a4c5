import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, importPKCS8 } from 'jose';
import { connectRabbitMq, type EventBus } from '@keyhaven/bus';
import { PUSH_TOPIC, PushType, type PushMessage } from '@keyhaven/contracts';
import { createAccount, encryptCipher, encryptFolder, type Account } from '@keyhaven/vault-crypto';
import {
  HttpClient,
  passwordLogin,
  queryDatabase,
  requireServices,
  serviceUrls,
  type ServerProcess,
} from '@keyhaven/testing';
import { connectHub, rawSocket, subjectOf, withTimeout, type HubClient } from './notifications-clients';
import { startSplitApps, type SplitApps } from './split-stack';

/** One public URL for every service, as behind a load balancer: tokens name it as their issuer. */
const SHARED_DOMAIN = 'https://vault.keyhaven.test';

describe('notifications as split apps on RabbitMQ: two hub instances, changes made through a separate api', () => {
  let stack: SplitApps | undefined;
  let identity: ServerProcess;
  let api: ServerProcess;
  let hubA: ServerProcess;
  let hubB: ServerProcess;
  let account: Account;
  let token = '';
  let userId = '';
  let bus: EventBus | undefined;
  const clients: HubClient[] = [];

  before(async () => {
    if (!(await requireServices({ skip: () => undefined }, 'postgres', 'redis', 'rabbitmq'))) return;
    stack = await startSplitApps(['identity', 'api', 'notifications', 'notifications'], SHARED_DOMAIN, {
      NOTIFICATIONS_STAMP_CHECK_MS: '500',
    });
    [identity, api, hubA, hubB] = stack.servers as [ServerProcess, ServerProcess, ServerProcess, ServerProcess];
    account = await createAccount({ email: `split-hub-${Date.now()}@example.com`, password: 'split hub password' });
    const registered = await identity.http.post('/identity/accounts/register', {
      json: account.registerFinishBody('', 'legacy'),
    });
    assert.equal(registered.status, 200, registered.text);
    token = (await passwordLogin(new HttpClient(identity.url), account)).accessToken;
    userId = subjectOf(token);
    bus = await connectRabbitMq(serviceUrls.rabbitmq());
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
    await bus?.close();
    await stack?.stop('SIGKILL');
  });

  const connect = async (
    hub: ServerProcess,
    options: Partial<Parameters<typeof connectHub>[0]> = {},
  ): Promise<HubClient> => {
    const client = await connectHub({
      baseUrl: hub.url,
      caPath: undefined,
      protocol: 'messagepack',
      token,
      ...options,
    });
    clients.push(client);
    return client;
  };

  /** An access token signed with the server's own current key, with the given lifetime. */
  const tokenLiving = async (seconds: number): Promise<string> => {
    assert.ok(stack);
    const [key] = await queryDatabase<{ kid: string; private_pkcs8: string }>(
      stack.databaseUrl,
      'SELECT id AS kid, private_pkcs8 FROM signing_key ORDER BY created_at DESC LIMIT 1',
    );
    const [user] = await queryDatabase<{ security_stamp: string }>(
      stack.databaseUrl,
      'SELECT security_stamp FROM app_user WHERE id = $1',
      [userId],
    );
    assert.ok(key && user);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      email: account.email,
      sstamp: user.security_stamp,
      client_id: 'web',
      scope: ['api', 'offline_access'],
    })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
      .setSubject(userId)
      .setIssuer(`${SHARED_DOMAIN}/identity`)
      .setIssuedAt(now - 7200)
      .setNotBefore(now - 7200)
      .setExpirationTime(now + seconds)
      .setJti(randomUUID())
      .sign(await importPKCS8(key.private_pkcs8, 'ES256'));
  };

  test('a change made through the api reaches clients on both hub instances, over both protocols, only through the bus', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const onA = await connect(hubA, { protocol: 'messagepack' });
    const onB = await connect(hubB, { protocol: 'json' });
    const sent = Date.now();
    const cipher = await api.http.post<{ id: string }>('/api/ciphers', {
      token,
      json: encryptCipher(account.userKey, { type: 2, name: 'split note', secureNote: { type: 0 } }),
    });
    assert.equal(cipher.status, 200, cipher.text);
    for (const client of [onA, onB]) {
      const { message, at } = await client.next(
        (n) => n.Type === PushType.SyncCipherCreate && n.Payload['Id'] === cipher.body.id,
      );
      assert.equal(message.Payload['UserId'], userId);
      assert.ok(at - sent <= 1000, `delivered ${at - sent} ms after the request`);
    }
    const folder = await api.http.post<{ id: string }>('/api/folders', {
      token,
      json: encryptFolder(account.userKey, 'before'),
    });
    const renamed = await api.http.put(`/api/folders/${folder.body.id}`, {
      token,
      json: encryptFolder(account.userKey, 'after'),
    });
    assert.equal(renamed.status, 200, renamed.text);
    await onA.next((n) => n.Type === PushType.SyncFolderUpdate && n.Payload['Id'] === folder.body.id);
    await onB.next((n) => n.Type === PushType.SyncFolderUpdate && n.Payload['Id'] === folder.body.id);
  });

  test('negotiate on one instance, then the WebSocket, as clients that negotiate do', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const negotiated = await connect(hubB, { protocol: 'json', negotiate: true });
    const folder = await api.http.post<{ id: string }>('/api/folders', {
      token,
      json: encryptFolder(account.userKey, 'negotiated'),
    });
    await negotiated.next((n) => n.Type === PushType.SyncFolderCreate && n.Payload['Id'] === folder.body.id);
  });

  test('the anonymous hub delivers AuthRequestResponseRecieved for its own request id only (synthetic bus message)', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq')) || !bus) return;
    const requestId = randomUUID();
    const waiting = await connect(hubB, { token: undefined, path: `anonymous-hub?Token=${requestId}` });
    const other = await connect(hubA, {
      token: undefined,
      path: `anonymous-hub?Token=${randomUUID()}`,
      protocol: 'json',
    });
    const signedIn = await connect(hubA);
    const push: PushMessage = { type: 16, userId, contextId: null, payload: { Id: requestId, UserId: userId } };
    await bus.publish(PUSH_TOPIC, push);
    const { message } = await waiting.next((n) => n.Type === 16);
    assert.deepEqual(message, { ContextId: null, Type: 16, Payload: { Id: requestId, UserId: userId } });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(other.received, [], 'another request id hears nothing');
    assert.deepEqual(
      signedIn.received.filter((n) => n.Type === 16),
      [],
      'the approval goes to the waiting device only',
    );
  });

  test('an expired token is refused; a token that expires while connected closes its connection', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const expired = await tokenLiving(-60);
    await assert.rejects(connect(hubA, { token: expired }));
    await assert.rejects(rawSocket(hubA.url, undefined, 'hub', { authorization: `Bearer ${expired}` }), /HTTP 401/);
    const shortLived = await tokenLiving(2);
    const client = await connect(hubA, { token: shortLived, protocol: 'json' });
    const connectedAt = Date.now();
    const error = await withTimeout(client.closed, 6000, 'closed at expiry');
    const lasted = Date.now() - connectedAt;
    assert.match(String(error), /Access token expired/);
    assert.ok(lasted > 500 && lasted < 4000, `closed ${lasted} ms after connecting`);
  });

  test('stopping instance A: its client is cut off, reconnects to B and keeps receiving', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const onA = await connect(hubA);
    await hubA.stop();
    await withTimeout(onA.closed, 5000, 'A closed its connections on shutdown');
    const onB = await connect(hubB);
    const cipher = await api.http.post<{ id: string }>('/api/ciphers', {
      token,
      json: encryptCipher(account.userKey, { type: 2, name: 'after failover', secureNote: { type: 0 } }),
    });
    await onB.next((n) => n.Type === PushType.SyncCipherCreate && n.Payload['Id'] === cipher.body.id);
  });

  test('LogOut on both protocols after a security-stamp rotation made through the api', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const json = await connect(hubB, { protocol: 'json' });
    const msgpack = await connect(hubB, { protocol: 'messagepack' });
    const rotate = await api.http.post('/api/accounts/security-stamp', {
      token,
      json: { masterPasswordHash: account.masterPasswordHash },
    });
    assert.equal(rotate.status, 200, rotate.text);
    for (const client of [json, msgpack]) {
      await client.next((n) => n.Type === PushType.LogOut && n.Payload['UserId'] === userId);
      await withTimeout(client.closed, 5000, 'closed after LogOut');
    }
  });
});
