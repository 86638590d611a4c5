import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import { PushType } from '@keyhaven/contracts';
import type { UserRepository } from '@keyhaven/domain-auth';
import type { Principal, TokenVerifier } from '@keyhaven/platform-auth';
import { jsonHubProtocol, messagePackHubProtocol } from '@keyhaven/signalr';
import { HubAdmission } from './hub-admission';
import { HubConnection, type HubIdentity } from './hub-connection';
import { AUTH_REQUEST_RESPONSE, HubConnections } from './hub-connections';
import { ANONYMOUS_HUB_PATH, HUB_PATH, type HubSettings } from './hub-settings';

const RS = '\u001e';

const settings: HubSettings = {
  connectionsPerIp: 10,
  anonymousConnectionsPerIp: 2,
  maxMessageBytes: 4096,
  handshakeTimeoutMs: 60_000,
  keepAliveMs: 60_000,
  clientTimeoutMs: 30_000,
  maxBufferedBytes: 1024,
  stampCheckMs: 60_000,
  trustProxy: false,
};

/** Just enough of a ws WebSocket: records what is sent and how it ended. */
class FakeSocket extends EventEmitter {
  bufferedAmount = 0;
  readonly sent: { data: Buffer; binary: boolean }[] = [];
  closedWith: { code: number; reason: string } | undefined;
  terminated = false;

  send(data: Buffer, options: { binary: boolean }): void {
    this.sent.push({ data, binary: options.binary });
  }

  close(code: number, reason: string): void {
    if (this.closedWith) return;
    this.closedWith = { code, reason };
    this.emit('close');
  }

  terminate(): void {
    this.terminated = true;
    this.emit('close');
  }

  receive(data: string | Buffer): void {
    this.emit('message', Buffer.from(data));
  }
}

const userA: HubIdentity = { kind: 'user', userId: 'user-a', stamp: 'stamp-1', expiresAt: Date.now() + 3_600_000 };

function setUp(stamps: Record<string, string> = {}): {
  hub: HubConnections;
  open: (identity: HubIdentity, protocol?: 'json' | 'messagepack') => { socket: FakeSocket; connection: HubConnection };
} {
  const users = {
    securityStampsOf: (ids: string[]) =>
      Promise.resolve(new Map(ids.flatMap((id) => (stamps[id] ? [[id, stamps[id]] as const] : [])))),
  } as unknown as UserRepository;
  const hub = new HubConnections(settings, users);
  return {
    hub,
    open(identity, protocol = 'json') {
      const socket = new FakeSocket();
      const connection = new HubConnection(socket as unknown as WebSocket, identity, settings, hub);
      socket.receive(`{"protocol":"${protocol}","version":1}${RS}`);
      assert.equal(socket.sent[0]?.data.toString(), `{}${RS}`, 'handshake accepted');
      socket.sent.length = 0;
      return { socket, connection };
    },
  };
}

const cipherPush = {
  type: PushType.SyncCipherCreate,
  userId: 'user-a',
  contextId: 'device-1',
  payload: { Id: 'c1', UserId: 'user-a', OrganizationId: null, RevisionDate: '2026-01-02T03:04:05.678Z' },
};

void describe('hub delivery', () => {
  void it("delivers a push to that user's connections only, encoded once per protocol", () => {
    const { hub, open } = setUp();
    const json = open(userA, 'json');
    const msgpack = open(userA, 'messagepack');
    const other = open({ ...userA, userId: 'user-b' }, 'json');
    assert.equal(hub.deliver(cipherPush), 2);
    const argument = { ContextId: 'device-1', Type: 1, Payload: cipherPush.payload };
    assert.deepEqual(json.socket.sent, [
      { data: jsonHubProtocol.invocation('ReceiveMessage', [argument]), binary: false },
    ]);
    // MessagePack gets the date back as a timestamp, as Bitwarden's server sends it.
    const dated = {
      ...argument,
      Payload: { ...cipherPush.payload, RevisionDate: new Date('2026-01-02T03:04:05.678Z') },
    };
    assert.deepEqual(msgpack.socket.sent, [
      { data: messagePackHubProtocol.invocation('ReceiveMessage', [dated]), binary: true },
    ]);
    assert.deepEqual(other.socket.sent, []);
  });

  void it('closes a slow consumer instead of buffering, and keeps serving the others', () => {
    const { hub, open } = setUp();
    const slow = open(userA);
    const fine = open(userA);
    slow.socket.bufferedAmount = settings.maxBufferedBytes;
    assert.equal(hub.deliver(cipherPush), 1);
    assert.ok(slow.socket.terminated, 'the slow one is cut off');
    assert.equal(slow.socket.sent.length, 0, 'nothing more was queued for it');
    assert.equal(fine.socket.sent.length, 1);
    assert.equal(hub.size, 1);
    assert.equal(hub.deliver(cipherPush), 1);
  });

  void it('pings on the keep-alive tick and closes a client silent past the client timeout', () => {
    const { open } = setUp();
    const { socket, connection } = open(userA, 'messagepack');
    connection.tick(Date.now());
    assert.deepEqual(socket.sent.at(-1)?.data, messagePackHubProtocol.ping());
    connection.tick(Date.now() + settings.clientTimeoutMs + 1);
    assert.deepEqual(socket.closedWith?.code, 1000);
    assert.deepEqual(
      socket.sent.at(-1)?.data,
      messagePackHubProtocol.close('Server timeout elapsed without receiving a message from the client.', true),
    );
  });

  void it('pings every connection once per keep-alive interval, a slice of them per tick', async () => {
    const users = { securityStampsOf: () => Promise.resolve(new Map()) } as unknown as UserRepository;
    const hub = new HubConnections({ ...settings, keepAliveMs: 300 }, users);
    const sockets: FakeSocket[] = [];
    for (let i = 0; i < 45; i++) {
      const socket = new FakeSocket();
      new HubConnection(socket as unknown as WebSocket, userA, settings, hub);
      socket.receive(`{"protocol":"json","version":1}${RS}`);
      socket.sent.length = 0;
      sockets.push(socket);
    }
    hub.onModuleInit();
    try {
      await new Promise((r) => setTimeout(r, 60));
      const early = sockets.filter((s) => s.sent.length > 0).length;
      assert.ok(early > 0 && early < sockets.length, `${early} pinged after a fifth of the interval`);
      await new Promise((r) => setTimeout(r, 400));
      for (const socket of sockets) assert.deepEqual(socket.sent[0]?.data, jsonHubProtocol.ping());
    } finally {
      hub.onApplicationShutdown();
    }
  });

  void it('LogOut is delivered, then the connections of that user close', () => {
    const { hub, open } = setUp();
    const { socket } = open(userA);
    hub.deliver({ type: PushType.LogOut, userId: 'user-a', contextId: null, payload: { UserId: 'user-a' } });
    assert.match(socket.sent[0]?.data.toString() ?? '', /"Type":11/);
    assert.equal(socket.closedWith?.code, 1000);
    assert.equal(hub.size, 0);
  });

  void it("LogOut addressed to one device closes only that device's connections", () => {
    const { hub, open } = setUp();
    const laptop = open({ ...userA, deviceIdentifier: 'laptop' });
    const phone = open({ ...userA, deviceIdentifier: 'phone' }, 'messagepack');
    const sent = hub.deliver({
      type: PushType.LogOut,
      userId: 'user-a',
      contextId: null,
      payload: { UserId: 'user-a' },
      deviceIdentifier: 'laptop',
    });
    assert.equal(sent, 1);
    assert.match(laptop.socket.sent[0]?.data.toString() ?? '', /"Type":11/);
    assert.equal(laptop.socket.closedWith?.code, 1000);
    assert.deepEqual(phone.socket.sent, []);
    assert.equal(phone.socket.closedWith, undefined);
    assert.equal(hub.size, 1);
    // The user's other pushes still reach the device that stays signed in.
    assert.equal(hub.deliver(cipherPush), 1);
  });

  void it('AuthRequestResponse goes to the anonymous connections waiting on that request id', () => {
    const { hub, open } = setUp();
    const id = '3F4A7C2E-5B1D-4E8F-9A6B-2C3D4E5F6A7B';
    const waiting = open({ kind: 'anonymous', authRequestId: id.toLowerCase() });
    const elsewhere = open({ kind: 'anonymous', authRequestId: '00000000-0000-4000-8000-000000000000' });
    const user = open(userA);
    const sent = hub.deliver({
      type: AUTH_REQUEST_RESPONSE,
      userId: 'user-a',
      contextId: null,
      payload: { Id: id, UserId: 'user-a' },
    });
    assert.equal(sent, 1);
    assert.deepEqual(
      waiting.socket.sent[0]?.data,
      jsonHubProtocol.invocation('AuthRequestResponseRecieved', [
        { ContextId: null, Type: 16, Payload: { Id: id, UserId: 'user-a' } },
      ]),
    );
    assert.deepEqual(elsewhere.socket.sent, []);
    assert.deepEqual(user.socket.sent, []);
  });

  void it('the stamp check sends LogOut to connections whose stamp changed, and closes them', async () => {
    const { hub, open } = setUp({ 'user-a': 'stamp-2', 'user-b': 'stamp-1' });
    const stale = open(userA);
    const current = open({ ...userA, userId: 'user-b' });
    await hub.checkStamps();
    assert.match(stale.socket.sent[0]?.data.toString() ?? '', /"Type":11,"Payload":\{"UserId":"user-a"/);
    assert.equal(stale.socket.closedWith?.code, 1000);
    assert.deepEqual(current.socket.sent, []);
    assert.equal(current.socket.closedWith, undefined);
  });

  void it('the stamp check reads many users per statement and logs out a user who is gone or disabled', async () => {
    const asked: string[][] = [];
    const users = {
      securityStampsOf: (ids: string[]) => {
        asked.push(ids);
        return Promise.resolve(new Map(ids.filter((id) => id !== 'user-7').map((id) => [id, 'stamp-1'] as const)));
      },
    } as unknown as UserRepository;
    const hub = new HubConnections(settings, users);
    const sockets = Array.from({ length: 1500 }, (_, i) => {
      const socket = new FakeSocket();
      new HubConnection(socket as unknown as WebSocket, { ...userA, userId: `user-${i}` }, settings, hub);
      socket.receive(`{"protocol":"json","version":1}${RS}`);
      socket.sent.length = 0;
      return socket;
    });
    await hub.checkStamps();
    assert.deepEqual(
      asked.map((ids) => ids.length),
      [1000, 500],
    );
    assert.equal(sockets[7]?.closedWith?.code, 1000);
    assert.equal(sockets.filter((s) => s.closedWith !== undefined).length, 1);
  });

  void it('a push for many users is delivered to those of them connected here, each with its own UserId', () => {
    const { hub, open } = setUp();
    const a = open(userA);
    const b = open({ ...userA, userId: 'user-b' });
    const c = open({ ...userA, userId: 'user-c' });
    const sent = hub.deliverToUsers({
      type: PushType.SyncOrgKeys,
      userIds: ['user-a', 'user-b', 'user-absent'],
      contextId: null,
      date: '2026-01-02T03:04:05.678Z',
    });
    assert.equal(sent, 2);
    assert.match(
      a.socket.sent[0]?.data.toString() ?? '',
      /"Type":6,"Payload":\{"UserId":"user-a","Date":"2026-01-02T03:04:05.678Z"\}/,
    );
    assert.match(b.socket.sent[0]?.data.toString() ?? '', /"UserId":"user-b"/);
    assert.deepEqual(c.socket.sent, []);
  });

  void it("a many-users push with a payload gives each user that payload (an organization item's change)", () => {
    const { hub, open } = setUp();
    const a = open(userA, 'messagepack');
    const b = open({ ...userA, userId: 'user-b' }, 'messagepack');
    const payload = {
      Id: 'item',
      UserId: null,
      OrganizationId: 'org',
      CollectionIds: ['c1'],
      RevisionDate: '2026-01-02T03:04:05.678Z',
    };
    const sent = hub.deliverToUsers({
      type: PushType.SyncCipherUpdate,
      userIds: ['user-a', 'user-b', 'user-absent'],
      contextId: 'device-1',
      date: '2026-01-02T03:04:05.678Z',
      payload,
    });
    assert.equal(sent, 2);
    const argument = {
      ContextId: 'device-1',
      Type: PushType.SyncCipherUpdate,
      Payload: { ...payload, RevisionDate: new Date(payload.RevisionDate) },
    };
    const frame = messagePackHubProtocol.invocation('ReceiveMessage', [argument]);
    assert.deepEqual(a.socket.sent, [{ data: frame, binary: true }]);
    assert.deepEqual(b.socket.sent, [{ data: frame, binary: true }]);
  });

  void it('a client close message, garbage, or a flood ends only that connection', () => {
    const { hub, open } = setUp();
    const closing = open(userA);
    closing.socket.receive(`{"type":7}${RS}`);
    assert.equal(closing.socket.closedWith?.code, 1000);
    const garbage = open(userA, 'messagepack');
    garbage.socket.receive(Buffer.from('02c1c1', 'hex'));
    assert.equal(garbage.socket.closedWith?.code, 1008);
    const flood = open(userA);
    for (let i = 0; i < 500; i++) flood.socket.receive(`{"type":6}${RS}`);
    assert.equal(flood.socket.closedWith?.code, 1008);
    const fine = open(userA);
    fine.socket.receive(`{"type":6}${RS}`);
    assert.equal(hub.deliver(cipherPush), 1);
  });
});

void describe('hub admission', () => {
  const jwt = (claims: Record<string, unknown>): string =>
    ['{"alg":"ES256"}', JSON.stringify(claims)].map((p) => Buffer.from(p).toString('base64url')).join('.') + '.sig';
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const good = jwt({ sub: 'user-a', sstamp: 'stamp-1', exp });
  const noApiScope = jwt({ sub: 'user-a', sstamp: 'stamp-1', exp, scope: [] });
  const principal = (scopes: string[], kind: 'user' | 'organization' = 'user'): Principal => ({
    kind,
    userId: 'user-a',
    deviceId: null,
    deviceIdentifier: 'laptop-app',
    clientId: 'web',
    scopes,
    email: 'a@example.com',
  });
  const verifier: TokenVerifier = {
    verify: (token) =>
      Promise.resolve(token === good ? principal(['api']) : token === noApiScope ? principal(['other']) : null),
  };
  const request = (url: string, ip = '10.0.0.1', headers: Record<string, string> = {}): IncomingMessage => {
    const socket = Object.assign(new EventEmitter(), { remoteAddress: ip });
    return { url, headers, socket } as unknown as IncomingMessage;
  };

  void it('takes the token from the Authorization header or access_token, and refuses anything else', async () => {
    const admission = new HubAdmission(settings, verifier);
    const byHeader = await admission.admit(
      HUB_PATH,
      request('/notifications/hub', '1.1.1.1', { authorization: `Bearer ${good}` }),
    );
    assert.deepEqual(byHeader, {
      ok: true,
      identity: {
        kind: 'user',
        userId: 'user-a',
        stamp: 'stamp-1',
        expiresAt: exp * 1000,
        deviceIdentifier: 'laptop-app',
      },
    });
    const byQuery = await admission.admit(HUB_PATH, request(`/notifications/hub?access_token=${good}`, '1.1.1.2'));
    assert.equal(byQuery.ok, true);
    for (const url of [
      '/notifications/hub',
      '/notifications/hub?access_token=forged',
      `/notifications/hub?access_token=${noApiScope}`,
    ]) {
      assert.deepEqual(await admission.admit(HUB_PATH, request(url, '1.1.1.3')), { ok: false, status: 401 });
    }
    const anonymous = await admission.admit(
      ANONYMOUS_HUB_PATH,
      request('/notifications/anonymous-hub?Token=3F4A7C2E-5B1D-4E8F-9A6B-2C3D4E5F6A7B', '1.1.1.4'),
    );
    assert.deepEqual(anonymous, {
      ok: true,
      identity: { kind: 'anonymous', authRequestId: '3f4a7c2e-5b1d-4e8f-9a6b-2c3d4e5f6a7b' },
    });
    assert.deepEqual(
      await admission.admit(ANONYMOUS_HUB_PATH, request('/notifications/anonymous-hub?Token=x', '1.1.1.5')),
      {
        ok: false,
        status: 400,
      },
    );
  });

  void it('caps open connections per address and hub; a slot frees when its TCP connection closes', async () => {
    const admission = new HubAdmission(settings, verifier);
    const url = '/notifications/anonymous-hub?Token=3f4a7c2e-5b1d-4e8f-9a6b-2c3d4e5f6a7b';
    const first = request(url);
    assert.equal((await admission.admit(ANONYMOUS_HUB_PATH, first)).ok, true);
    assert.equal((await admission.admit(ANONYMOUS_HUB_PATH, request(url))).ok, true);
    assert.deepEqual(await admission.admit(ANONYMOUS_HUB_PATH, request(url)), { ok: false, status: 429 });
    assert.equal((await admission.admit(ANONYMOUS_HUB_PATH, request(url, '10.0.0.2'))).ok, true, 'another address');
    const hub = await admission.admit(
      HUB_PATH,
      request('/notifications/hub', '10.0.0.1', { authorization: `Bearer ${good}` }),
    );
    assert.equal(hub.ok, true, 'the signed-in hub has its own cap');
    first.socket.emit('close');
    assert.equal((await admission.admit(ANONYMOUS_HUB_PATH, request(url))).ok, true);
  });

  void it('behind a trusted proxy, counts the address the proxy saw (the last X-Forwarded-For entry)', () => {
    const direct = new HubAdmission(settings, verifier);
    const proxied = new HubAdmission({ ...settings, trustProxy: true }, verifier);
    const req = request('/', '10.9.9.9', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' });
    assert.equal(direct.clientIp(req), '10.9.9.9');
    assert.equal(proxied.clientIp(req), '203.0.113.7');
    assert.equal(proxied.clientIp(request('/', '10.9.9.9')), '10.9.9.9');
  });
});
