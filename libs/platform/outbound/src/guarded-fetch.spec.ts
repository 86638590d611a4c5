import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { GuardedFetcher } from './guarded-fetch';
import { OutboundError } from './outbound-errors';

/** A local HTTP server that counts the TCP connections it accepts (the proof that nothing connected). */
interface Site {
  readonly port: number;
  readonly url: string;
  connections: number;
  close(): Promise<void>;
}

async function site(host: string, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Site> {
  const server: Server = createServer(handler);
  const state = { connections: 0 };
  server.on('connection', () => {
    state.connections++;
  });
  await new Promise<void>((done) => server.listen(0, host, done));
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    port,
    url: `http://${shown}:${port}`,
    get connections() {
      return state.connections;
    },
    set connections(v: number) {
      state.connections = v;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => {
          done();
        });
      }),
  };
}

async function failure(work: Promise<unknown>): Promise<OutboundError> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof OutboundError, `expected an OutboundError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the fetch to fail');
}

void describe('GuardedFetcher against local servers', () => {
  let ok: Site;
  let inner: Site;
  let innerV6: Site;
  const fetchers: GuardedFetcher[] = [];
  const fetcher = (settings: ConstructorParameters<typeof GuardedFetcher>[0] = {}) => {
    const f = new GuardedFetcher({ connectTimeoutMs: 1000, readTimeoutMs: 1000, totalTimeoutMs: 3000, ...settings });
    fetchers.push(f);
    return f;
  };

  before(async () => {
    ok = await site('127.0.0.1', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/hello') return res.end('hello');
      if (url.pathname === '/to') {
        res.writeHead(302, { location: url.searchParams.get('u') ?? '/' });
        return res.end();
      }
      if (url.pathname.startsWith('/chain/')) {
        const n = Number(url.pathname.slice(7));
        res.writeHead(n > 0 ? 307 : 200, n > 0 ? { location: `/chain/${n - 1}` } : {});
        return res.end(n > 0 ? '' : 'end of chain');
      }
      if (url.pathname === '/auth') return res.end(req.headers.authorization ?? 'none');
      if (url.pathname === '/big') {
        res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) });
        return res.end(Buffer.alloc(2 * 1024 * 1024));
      }
      if (url.pathname === '/big-chunked') {
        // No content-length: the cap must trip while streaming.
        let sent = 0;
        const push = (): void => {
          if (res.destroyed || sent > 8 * 1024 * 1024) return void res.end();
          sent += 65536;
          if (res.write(Buffer.alloc(65536))) setImmediate(push);
          else res.once('drain', push);
        };
        push();
        return;
      }
      if (url.pathname === '/silent') return; // never answers
      if (url.pathname === '/dribble') {
        res.writeHead(200);
        const timer = setInterval(() => res.write('.'), 200);
        res.on('close', () => {
          clearInterval(timer);
        });
        return;
      }
      res.statusCode = 404;
      res.end();
    });
    inner = await site('127.0.0.2', (_req, res) => res.end('inner secret'));
    innerV6 = await site('::1', (_req, res) => res.end('inner secret'));
  });

  after(async () => {
    await Promise.all(fetchers.map((f) => f.close()));
    await Promise.all([ok.close(), inner.close(), innerV6.close()]);
  });

  void it('fetches from an allow-listed address', async () => {
    const r = await fetcher({ allowNetworks: ['127.0.0.1'] }).fetch(`${ok.url}/hello`);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello');
  });

  void it('with default settings, loopback, private and metadata targets make no connection', async () => {
    const before = ok.connections + inner.connections + innerV6.connections;
    const f = fetcher({
      routes: new Map([
        ['localhost', { address: '127.0.0.1', port: ok.port }],
        ['10.0.0.1', { address: '127.0.0.1', port: ok.port }],
        ['169.254.169.254', { address: '127.0.0.1', port: ok.port }],
      ]),
      resolve: (name) => Promise.resolve(name === 'rebind.test' ? ['127.0.0.1'] : ['93.184.216.34', '127.0.0.2']),
    });
    for (const url of [
      `${ok.url}/hello`,
      `${inner.url}/`,
      `${innerV6.url}/`,
      'http://localhost/hello',
      'http://10.0.0.1/hello',
      'http://169.254.169.254/latest/meta-data/',
      `http://[::ffff:127.0.0.1]:${ok.port}/hello`,
      `http://2130706433:${ok.port}/hello`,
      `http://rebind.test:${ok.port}/hello`,
      `http://mixed.test:${inner.port}/`,
    ]) {
      const err = await failure(f.fetch(url));
      assert.equal(err.failure, 'blocked', `${url}: ${err.message}`);
    }
    assert.equal(ok.connections + inner.connections + innerV6.connections, before);
  });

  void it('connects to the address it checked (one resolution per connection, pinned)', async () => {
    let calls = 0;
    // The first answer is allowed; any later answer points elsewhere (a rebinding DNS server).
    const resolve = (): Promise<string[]> => Promise.resolve(calls++ === 0 ? ['127.0.0.1'] : ['127.0.0.2']);
    const f = fetcher({ allowNetworks: ['127.0.0.1'], resolve });
    const innerBefore = inner.connections;
    const r = await f.fetch(`http://rebinding.test:${ok.port}/hello`);
    assert.equal(r.body.toString(), 'hello');
    assert.equal(calls, 1);
    const second = await failure(f.fetch(`http://rebinding.test:${inner.port}/`));
    assert.equal(second.failure, 'blocked');
    assert.equal(inner.connections, innerBefore);
  });

  void it('checks every redirect hop: a redirect to a private address is blocked before connecting', async () => {
    const f = fetcher({ allowNetworks: ['127.0.0.1'] });
    const before = inner.connections + innerV6.connections;
    for (const target of [`${inner.url}/`, `${innerV6.url}/`, 'http://169.254.169.254/', 'http://10.0.0.1/']) {
      const err = await failure(f.fetch(`${ok.url}/to?u=${encodeURIComponent(target)}`));
      assert.equal(err.failure, 'blocked', err.message);
    }
    assert.equal(inner.connections + innerV6.connections, before);
  });

  void it('follows at most 5 redirects', async () => {
    const f = fetcher({ allowNetworks: ['127.0.0.1'] });
    assert.equal((await f.fetch(`${ok.url}/chain/5`)).body.toString(), 'end of chain');
    assert.equal((await failure(f.fetch(`${ok.url}/chain/6`))).failure, 'redirects');
    const raw = await f.fetch(`${ok.url}/chain/1`, { maxRedirects: 0 });
    assert.equal(raw.status, 307);
  });

  void it('drops credentials on a redirect to another origin', async () => {
    const f = fetcher({ allowNetworks: ['127.0.0.0/8'] });
    const same = await f.fetch(`${ok.url}/to?u=/auth`, { headers: { Authorization: 'Bearer x' } });
    assert.equal(same.body.toString(), 'Bearer x');
    const other = `http://localhost:${ok.port}/auth`;
    const cross = await f.fetch(`${ok.url}/to?u=${encodeURIComponent(other)}`, {
      headers: { Authorization: 'Bearer x' },
    });
    assert.equal(cross.body.toString(), 'none');
  });

  void it('caps the response size, declared or streamed', async () => {
    const f = fetcher({ allowNetworks: ['127.0.0.1'], maxBytes: 256 * 1024 });
    assert.equal((await failure(f.fetch(`${ok.url}/big`))).failure, 'too-large');
    assert.equal((await failure(f.fetch(`${ok.url}/big-chunked`))).failure, 'too-large');
    assert.equal((await f.fetch(`${ok.url}/big`, { maxBytes: 4 * 1024 * 1024 })).body.length, 2 * 1024 * 1024);
  });

  void it('times out a silent server (read timeout) and a dribbling one (overall timeout)', async () => {
    const f = fetcher({ allowNetworks: ['127.0.0.1'], readTimeoutMs: 300, totalTimeoutMs: 1000 });
    const started = Date.now();
    assert.equal((await failure(f.fetch(`${ok.url}/silent`))).failure, 'timeout');
    assert.equal((await failure(f.fetch(`${ok.url}/dribble`))).failure, 'timeout');
    assert.ok(Date.now() - started < 5000);
  });

  void it('refuses other schemes and credentials in the URL', async () => {
    const f = fetcher({ allowNetworks: ['127.0.0.1'] });
    assert.equal((await failure(f.fetch('file:///etc/passwd'))).failure, 'invalid-url');
    assert.equal((await failure(f.fetch(`http://u:p@127.0.0.1:${ok.port}/`))).failure, 'invalid-url');
    const viaRedirect = await failure(f.fetch(`${ok.url}/to?u=${encodeURIComponent('file:///etc/passwd')}`));
    assert.equal(viaRedirect.failure, 'invalid-url');
  });
});
