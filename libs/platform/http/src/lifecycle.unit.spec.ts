import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectionTracker, Lifecycle, stopAccepting } from './lifecycle';

function get(port: number, agent: Agent): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

void describe('graceful shutdown', () => {
  test('Lifecycle: readiness fails first, closed listeners run once when the listener closes', () => {
    const lifecycle = new Lifecycle();
    const calls: string[] = [];
    const phase = (): { ready: boolean; closed: boolean } => ({ ready: lifecycle.ready, closed: lifecycle.closed });
    lifecycle.onClosed(() => calls.push('hub'));
    assert.deepEqual(phase(), { ready: true, closed: false });
    lifecycle.startDraining();
    assert.deepEqual(phase(), { ready: false, closed: false });
    assert.deepEqual([...calls], []);
    lifecycle.markClosed();
    lifecycle.markClosed();
    assert.deepEqual(phase(), { ready: false, closed: true });
    assert.deepEqual([...calls], ['hub']);
    lifecycle.onClosed(() => calls.push('late'));
    assert.deepEqual(calls, ['hub', 'late']);
  });

  test('stopAccepting refuses new connections but keeps serving a kept-alive one until its client closes it', async () => {
    let closing = false;
    const server = createServer((_req, res) => {
      if (closing) res.setHeader('connection', 'close');
      res.end('ok');
    });
    const tracker = new ConnectionTracker(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const proxy = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await get(port, proxy)).status, 200);
      assert.equal(tracker.openSockets, 1, 'the kept-alive connection is open and idle');
      stopAccepting(server);
      closing = true;
      // A new connection is refused: a proxy passes any request, POST included, to the next instance.
      await assert.rejects(get(port, new Agent({ keepAlive: false })), /ECONNREFUSED/);
      // The idle kept-alive connection was not closed under the client: its next request is served, and
      // asks the client to close.
      const reused = await get(port, proxy);
      assert.deepEqual(reused, { status: 200, connection: 'close' });
      assert.equal(await tracker.whenIdle(2000), true, 'the connection closed after its last answer');
      assert.equal(tracker.inFlight, 0);
    } finally {
      proxy.destroy();
      server.closeAllConnections();
    }
  });

  test('whenIdle gives up after its time when a client keeps its connection', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const tracker = new ConnectionTracker(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = new Agent({ keepAlive: true });
    try {
      await get(port, client);
      stopAccepting(server);
      const started = Date.now();
      assert.equal(await tracker.whenIdle(200), false);
      assert.ok(Date.now() - started >= 150);
    } finally {
      client.destroy();
      server.closeAllConnections();
    }
  });
});
