import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import {
  createScratchDatabase,
  freePort,
  HttpClient,
  passwordLogin,
  registerAccount,
  requireServices,
  serviceUrls,
  startServer,
  type HttpResponse,
  type ServerProcess,
} from '@keyhaven/testing';

/**
 * HTTP hygiene (issue 18) on the compiled all-in-one and on split apps (api over plain HTTP behind a proxy,
 * identity serving TLS itself): security headers and no-store on every response, CORS only for the vault origin
 * and browser extensions, TLS 1.2 only with ECDHE + AEAD, metrics only on the management port, a request whose
 * body trickles in closed after the request timeout, a header block that trickles in closed after the header
 * timeout, and connections beyond the cap refused while the open ones keep working.
 */
const PASSWORD = 'correct horse battery staple';
const REQUEST_TIMEOUT_MS = 3000;
const HEADERS_TIMEOUT_MS = 1000;
const MAX_CONNECTIONS = 8;

function assertSecurityHeaders(res: HttpResponse, https: boolean): void {
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assert.equal(res.headers['referrer-policy'], 'same-origin');
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers['cache-control'], 'no-store');
  if (https) assert.match(String(res.headers['strict-transport-security']), /^max-age=\d{8,}/);
  else assert.equal(res.headers['strict-transport-security'], undefined);
}

/** A TLS connection to the server, as a raw socket (to write partial requests). */
function rawTls(server: ServerProcess): TLSSocket {
  return tlsConnect({
    host: '127.0.0.1',
    port: server.port,
    servername: 'localhost',
    ca: readFileSync(server.caPath ?? ''),
  });
}

/** Whether the server completes the TLS handshake on a new connection (`open`) or drops it (`dropped`). */
function openOrDropped(socket: TLSSocket): Promise<'open' | 'dropped'> {
  return new Promise((done) => {
    socket.once('secureConnect', () => {
      done('open');
    });
    socket.once('error', () => {
      done('dropped');
    });
    socket.once('close', () => {
      done('dropped');
    });
  });
}

/** What the server answers to `request` written on an open socket, read until it closes or answers. */
function exchange(socket: TLSSocket, request: string): Promise<string> {
  return new Promise((done) => {
    let response = '';
    socket.on('data', (chunk: Buffer) => {
      response += chunk.toString();
      if (response.includes('\r\n\r\n')) done(response);
    });
    socket.once('close', () => {
      done(response);
    });
    socket.write(request);
  });
}

/** A TLS handshake with the given client options: the negotiated cipher, or the error. */
function handshake(
  server: ServerProcess,
  options: ConnectionOptions,
): Promise<{ cipher: string; version: string } | Error> {
  return new Promise((done) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: server.port,
      servername: 'localhost',
      ca: readFileSync(server.caPath ?? ''),
      ...options,
    });
    socket.once('secureConnect', () => {
      const cipher = socket.getCipher();
      done({ cipher: cipher.standardName, version: socket.getProtocol() ?? '' });
      socket.destroy();
    });
    socket.once('error', (error: Error) => {
      done(error);
    });
  });
}

describe('HTTP hygiene on the all-in-one', () => {
  let server: ServerProcess;
  let origin: string;
  let managementPort: number;

  before(async () => {
    managementPort = await freePort();
    server = await startServer({
      env: {
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
        MANAGEMENT_PORT: String(managementPort),
      },
    });
    origin = new URL(server.url).origin;
  });

  after(async () => {
    await server.stop();
    server.cleanup();
  });

  test('security headers and no-store on token, sync, errors and health', async () => {
    const account = await registerAccount(server.http, 'hygiene@example.com', PASSWORD);
    const session = await passwordLogin(server.http, account);
    const token = await server.http.post('/identity/connect/token', {
      form: { grant_type: 'refresh_token', refresh_token: session.refreshToken, client_id: 'cli' },
    });
    assert.equal(token.status, 200, token.text);
    assertSecurityHeaders(token, true);
    const sync = await server.http.get('/api/sync', { token: session.accessToken });
    assert.equal(sync.status, 200, sync.text);
    assertSecurityHeaders(sync, true);
    const profile = await server.http.get('/api/accounts/profile', { token: session.accessToken });
    assertSecurityHeaders(profile, true);
    const unauthorized = await server.http.get('/api/sync');
    assert.equal(unauthorized.status, 401);
    assertSecurityHeaders(unauthorized, true);
    const missing = await server.http.get('/api/no-such-route');
    assertSecurityHeaders(missing, true);
    assertSecurityHeaders(await server.http.get('/alive'), true);
  });

  test('CORS answers the vault origin and browser extensions, never null or another site', async () => {
    const allowed = [
      origin,
      'chrome-extension://nngceckbapebfimnlniiiahkandclblb',
      'moz-extension://0f7e3b8a-5d0c-4d7e-9a7a-2f8d0f6e1c11',
      'safari-web-extension://2D4C1E2A-9B0F-4F7B-8E3D-6A1C5B7D9E00',
      'file://',
    ];
    for (const from of allowed) {
      const preflight = await server.http.request('OPTIONS', '/identity/connect/token', {
        headers: {
          origin: from,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,device-type',
        },
      });
      assert.ok(preflight.status === 204 || preflight.status === 200, `${from}: ${preflight.status}`);
      assert.equal(preflight.headers['access-control-allow-origin'], from);
      assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
      const sync = await server.http.get('/api/sync', { headers: { origin: from } });
      assert.equal(sync.headers['access-control-allow-origin'], from);
    }
    for (const from of [
      'null',
      'https://evil.example',
      `${origin}.evil.example`,
      'chrome-extension://a/b',
      'http://localhost',
      'file:///etc/passwd',
    ]) {
      const preflight = await server.http.request('OPTIONS', '/identity/connect/token', {
        headers: { origin: from, 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.headers['access-control-allow-origin'], undefined, `${from} is refused`);
      const token = await server.http.post('/identity/connect/token', {
        form: { grant_type: 'password' },
        headers: { origin: from },
      });
      assert.equal(token.headers['access-control-allow-origin'], undefined, `${from} is refused`);
      const sync = await server.http.get('/api/sync', { headers: { origin: from } });
      assert.equal(sync.headers['access-control-allow-origin'], undefined, `${from} is refused`);
    }
  });

  test('TLS: only ECDHE with AEAD on TLS 1.2, TLS 1.3 works, CBC and static RSA are refused', async () => {
    const gcm = await handshake(server, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    assert.ok(!(gcm instanceof Error), gcm instanceof Error ? gcm.message : '');
    assert.equal(gcm.version, 'TLSv1.2');
    assert.equal(gcm.cipher, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    const chacha = await handshake(server, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' });
    assert.ok(!(chacha instanceof Error), chacha instanceof Error ? chacha.message : '');
    const tls13 = await handshake(server, { minVersion: 'TLSv1.3' });
    assert.ok(!(tls13 instanceof Error), tls13 instanceof Error ? tls13.message : '');
    assert.equal(tls13.version, 'TLSv1.3');
    for (const ciphers of [
      'AES128-SHA:AES256-SHA:AES128-SHA256',
      'AES128-GCM-SHA256:AES256-GCM-SHA384',
      'ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA256',
      'DHE-RSA-AES128-GCM-SHA256',
    ]) {
      const refused = await handshake(server, { maxVersion: 'TLSv1.2', ciphers });
      assert.ok(refused instanceof Error, `${ciphers} must be refused, got ${JSON.stringify(refused)}`);
    }
  });

  test('metrics and health detail only on the management port; /alive and a bare /healthz stay public', async () => {
    // A request from elsewhere: forwarded by a proxy (a direct connection from this host is an operator's).
    const remote = { headers: { 'x-forwarded-for': '203.0.113.7' } };
    const metrics = await server.http.get('/metrics', remote);
    assert.equal(metrics.status, 404);
    assert.doesNotMatch(metrics.text, /http_request_duration_seconds|process_cpu/);
    const health = await server.http.get<Record<string, unknown>>('/healthz', remote);
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const alive = await server.http.get('/alive', remote);
    assert.equal(alive.status, 200);
    const management = new HttpClient(`http://127.0.0.1:${managementPort}`);
    const scraped = await management.get('/metrics');
    assert.equal(scraped.status, 200);
    assert.match(scraped.text, /http_request_duration_seconds/);
    const detail = await management.get<{ status: string; checks: Record<string, { kind: string }> }>('/healthz');
    assert.equal(detail.status, 200, detail.text);
    assert.equal(detail.body.checks['database']?.kind, 'pglite');
    assert.equal((await management.get('/alive')).status, 200);
    assert.equal((await management.get('/api/sync')).status, 404);
  });

  test('a request body that trickles in is closed after the request timeout', async () => {
    const started = Date.now();
    const outcome = await new Promise<{ closedAfterMs: number; response: string }>((done) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: server.port,
        servername: 'localhost',
        ca: readFileSync(server.caPath ?? ''),
      });
      let response = '';
      let timer: NodeJS.Timeout | undefined;
      socket.once('secureConnect', () => {
        socket.write(
          'POST /identity/accounts/prelogin HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
            'Content-Length: 1000\r\n\r\n{',
        );
        timer = setInterval(() => {
          if (socket.writable) socket.write(' ');
        }, 200);
      });
      socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
      socket.once('close', () => {
        clearInterval(timer);
        done({ closedAfterMs: Date.now() - started, response });
      });
      socket.once('error', () => undefined);
    });
    assert.ok(outcome.closedAfterMs >= REQUEST_TIMEOUT_MS - 100, `closed after ${outcome.closedAfterMs} ms`);
    assert.ok(outcome.closedAfterMs < REQUEST_TIMEOUT_MS + 4000, `closed after ${outcome.closedAfterMs} ms`);
    assert.match(outcome.response, /^HTTP\/1\.1 408 /);
  });

  test('a header block that trickles in is closed after the header timeout, well before the request timeout', async () => {
    const socket = rawTls(server);
    assert.equal(await openOrDropped(socket), 'open');
    const started = Date.now();
    const outcome = await new Promise<{ closedAfterMs: number; response: string }>((done) => {
      let response = '';
      socket.write('GET /alive HTTP/1.1\r\nHost: localhost\r\n');
      // A header line every 200 ms (slowloris): each byte arriving does not restart the clock.
      let n = 0;
      const timer = setInterval(() => {
        n += 1;
        if (socket.writable) socket.write(`X-Slow-${n}: ${n}\r\n`);
      }, 200);
      socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
      socket.once('close', () => {
        clearInterval(timer);
        done({ closedAfterMs: Date.now() - started, response });
      });
      socket.once('error', () => undefined);
    });
    assert.ok(outcome.closedAfterMs >= HEADERS_TIMEOUT_MS - 200, `closed after ${outcome.closedAfterMs} ms`);
    assert.ok(outcome.closedAfterMs < REQUEST_TIMEOUT_MS - 500, `closed after ${outcome.closedAfterMs} ms`);
    assert.match(outcome.response, /^HTTP\/1\.1 408 /);
  });

  test('connections beyond HTTP_MAX_CONNECTIONS are dropped; open ones keep working; closing frees them', async () => {
    // The harness's own keep-alive connections count towards the cap too: open more than it, one at a time.
    const sockets: TLSSocket[] = [];
    const outcomes: ('open' | 'dropped')[] = [];
    try {
      for (let i = 0; i < MAX_CONNECTIONS + 4; i += 1) {
        const socket = rawTls(server);
        socket.on('error', () => undefined);
        sockets.push(socket);
        outcomes.push(await openOrDropped(socket));
      }
      const open = outcomes.filter((o) => o === 'open').length;
      // At most the cap; at least the cap less the harness's few (sequential requests share one socket).
      assert.ok(open <= MAX_CONNECTIONS, `${open} connections open, cap ${MAX_CONNECTIONS}: ${outcomes.join()}`);
      assert.ok(open >= MAX_CONNECTIONS - 3, `only ${open} connections open: ${outcomes.join()}`);
      assert.ok(outcomes.length - open >= 4, `extra connections dropped: ${outcomes.join()}`);
      // An accepted connection still serves requests while the listener is full.
      const first = sockets[outcomes.indexOf('open')];
      assert.ok(first);
      const answer = await exchange(first, 'GET /alive HTTP/1.1\r\nHost: localhost\r\n\r\n');
      assert.match(answer, /^HTTP\/1\.1 200 /);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    // Once they close, new connections are accepted again.
    const deadline = Date.now() + 5000;
    let again: 'open' | 'dropped' = 'dropped';
    while (again === 'dropped' && Date.now() < deadline) {
      const socket = rawTls(server);
      socket.on('error', () => undefined);
      again = await openOrDropped(socket);
      socket.destroy();
      if (again === 'dropped') await sleep(100);
    }
    assert.equal(again, 'open');
    assert.equal((await server.http.get('/alive')).status, 200);
  });
});

describe('HTTP hygiene on split apps (api behind a proxy, identity serving TLS)', () => {
  let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let api: ServerProcess | undefined;
  let identity: ServerProcess | undefined;
  let managementPort = 0;
  const DOMAIN = 'https://vault.keyhaven.test';
  const EXTENSION = 'chrome-extension://nngceckbapebfimnlniiiahkandclblb';

  before(async () => {
    if (!(await requireServices({ skip: () => undefined }, 'postgres', 'redis', 'rabbitmq'))) return;
    database = await createScratchDatabase();
    managementPort = await freePort();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: serviceUrls.redis(),
      AMQP_URL: serviceUrls.rabbitmq(),
      DOMAIN,
    };
    [api, identity] = await Promise.all([
      startServer({ app: 'api', env: { ...env, TRUST_PROXY: 'true' } }),
      // TLS=on: a split app that terminates HTTPS itself (its certificate from the local CA in its DATA_DIR).
      startServer({ app: 'identity', tls: true, env: { ...env, MANAGEMENT_PORT: String(managementPort) } }),
    ]);
  });

  after(async () => {
    await api?.stop();
    api?.cleanup();
    await identity?.stop();
    identity?.cleanup();
    await database?.drop();
  });

  test('api: headers, HSTS only behind an HTTPS proxy, and CORS for the vault origin only', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq')) || !api) return;
    assertSecurityHeaders(await api.http.get('/api/sync'), false);
    const proxied = await api.http.get('/api/sync', { headers: { 'x-forwarded-proto': 'https' } });
    assertSecurityHeaders(proxied, true);
    const vault = await api.http.request('OPTIONS', '/api/sync', {
      headers: { origin: DOMAIN, 'access-control-request-method': 'GET' },
    });
    assert.equal(vault.headers['access-control-allow-origin'], DOMAIN);
    const metrics = await api.http.get('/metrics', { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(metrics.status, 404);
    for (const from of ['null', 'https://evil.example']) {
      const refused: HttpResponse = await api.http.get('/api/sync', { headers: { origin: from } });
      assert.equal(refused.headers['access-control-allow-origin'], undefined, from);
    }
  });

  test('identity: the token route answers CORS for the vault and extensions only, with no-store and HSTS', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq')) || !identity) return;
    const http = identity.http;
    const account = await registerAccount(http, 'split-hygiene@example.com', PASSWORD);
    const session = await passwordLogin(http, account);
    // Refresh tokens are single-use: each refresh sends the one the previous answer gave.
    let refreshToken = session.refreshToken;
    const refresh = async (origin: string) => {
      const res = await http.post<{ refresh_token?: string }>('/identity/connect/token', {
        form: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'cli' },
        headers: { origin },
      });
      refreshToken = res.body.refresh_token ?? refreshToken;
      return res;
    };
    for (const from of [DOMAIN, EXTENSION]) {
      const preflight = await http.request('OPTIONS', '/identity/connect/token', {
        headers: {
          origin: from,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,device-type',
        },
      });
      assert.ok(preflight.status === 204 || preflight.status === 200, `${from}: ${preflight.status}`);
      assert.equal(preflight.headers['access-control-allow-origin'], from);
      const token = await refresh(from);
      assert.equal(token.status, 200, token.text);
      assert.equal(token.headers['access-control-allow-origin'], from);
      assertSecurityHeaders(token, true);
    }
    for (const from of ['null', 'https://evil.example', `${DOMAIN}.evil.example`, identity.url]) {
      const preflight = await http.request('OPTIONS', '/identity/connect/token', {
        headers: { origin: from, 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.headers['access-control-allow-origin'], undefined, `${from} is refused`);
      const token = await http.post('/identity/connect/token', {
        form: { grant_type: 'password' },
        headers: { origin: from },
      });
      assert.equal(token.headers['access-control-allow-origin'], undefined, `${from} is refused`);
      assertSecurityHeaders(token, true);
    }
  });

  test('identity with TLS=on: TLS 1.2 only with ECDHE + AEAD, CBC and static RSA refused', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq')) || !identity) return;
    const gcm = await handshake(identity, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' });
    assert.ok(!(gcm instanceof Error), gcm instanceof Error ? gcm.message : '');
    assert.deepEqual([gcm.version, gcm.cipher], ['TLSv1.2', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384']);
    const tls11 = await handshake(identity, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    assert.ok(tls11 instanceof Error, 'TLS 1.1 is refused');
    for (const ciphers of ['ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384', 'AES256-GCM-SHA384:AES128-SHA']) {
      const refused = await handshake(identity, { maxVersion: 'TLSv1.2', ciphers });
      assert.ok(refused instanceof Error, `${ciphers} must be refused, got ${JSON.stringify(refused)}`);
    }
  });

  test('identity: /metrics and the health detail on the management port only', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq')) || !identity) return;
    const remote = { headers: { 'x-forwarded-for': '203.0.113.7' } };
    const metrics = await identity.http.get('/metrics', remote);
    assert.equal(metrics.status, 404);
    assert.doesNotMatch(metrics.text, /http_request_duration_seconds/);
    assert.deepEqual((await identity.http.get('/healthz', remote)).body, { status: 'ok' });
    const management = new HttpClient(`http://127.0.0.1:${managementPort}`);
    const scraped = await management.get('/metrics');
    assert.equal(scraped.status, 200);
    assert.match(scraped.text, /http_request_duration_seconds/);
    const detail = await management.get<{ checks: Record<string, { kind: string }> }>('/healthz');
    assert.equal(detail.status, 200, detail.text);
    assert.equal(detail.body.checks['database']?.kind, 'postgres');
    assert.equal((await management.get('/identity/connect/token')).status, 404);
  });
});
