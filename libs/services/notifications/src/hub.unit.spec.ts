import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import { PushType } from '@keyhaven/contracts';
import type { UserRepository } from '@keyhaven/domain-auth';
import { jsonHubProtocol, messagePackHubProtocol } from '@keyhaven/signalr';
import { HubConnection, type HubIdentity } from './hub-connection';
import { AUTH_REQUEST_RESPONSE, HubConnections } from './hub-connections';
import type { HubSettings } from './hub-settings';

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
  const users = { securityStampOf: (id: string) => Promise.resolve(stamps[id] ?? null) } as unknown as UserRepository;
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

  void it('LogOut is delivered, then the connections of that user close', () => {
    const { hub, open } = setUp();
    const { socket } = open(userA);
    hub.deliver({ type: PushType.LogOut, userId: 'user-a', contextId: null, payload: { UserId: 'user-a' } });
    assert.match(socket.sent[0]?.data.toString() ?? '', /"Type":11/);
    assert.equal(socket.closedWith?.code, 1000);
    assert.equal(hub.size, 0);
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
