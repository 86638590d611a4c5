/**
 * Fan-out benchmark: N concurrent authenticated hub connections on one all-in-one instance (loopback only),
 * the server's resident memory per idle connection, and the time from an API write to its delivery.
 *
 *   npm run bench:fanout                                  # 10,000 connections, 100 users, MessagePack, no TLS
 *   npm run bench:fanout -- --connections 2000 --users 20 --writes 100
 *   npm run bench:fanout -- --tls                         # wss:// on the all-in-one's own HTTPS
 *   npm run bench:fanout -- --protocol json
 *
 * The clients are raw `ws` sockets speaking the hub protocol through @keyhaven/signalr (the same framing the
 * server uses; the official client costs ~10x more memory per connection, which would measure the client).
 * Connections are spread round-robin over the users, so each write is delivered to N / users connections.
 * A write is `POST /api/folders` by one user; its latency is from just before the request to the arrival of
 * `SyncFolderCreate` with that folder's id, per delivered connection (all) and per write (the first and the
 * last connection to get it). Memory: VmRSS of the server after it settled with no hub connections, and
 * again with N idle connections; the difference over N is the cost of one connection.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { hubProtocolNamed, MessageType, parseHandshakeResponse, type HubProtocol } from '@keyhaven/signalr';
import { passwordLogin, registerAccount, startServer, type ServerProcess } from '@keyhaven/testing';
import { encryptFolder, type Account } from '@keyhaven/vault-crypto';

interface Options {
  readonly connections: number;
  readonly users: number;
  readonly writes: number;
  readonly protocol: HubProtocol;
  readonly tls: boolean;
  readonly concurrency: number;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number): number => {
    const at = argv.indexOf(name);
    const parsed = at >= 0 ? Number(argv[at + 1]) : fallback;
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${name} needs a positive integer`);
    return parsed;
  };
  const at = argv.indexOf('--protocol');
  const protocol = hubProtocolNamed(at >= 0 ? (argv[at + 1] ?? '') : 'messagepack');
  if (!protocol) throw new Error('--protocol is json or messagepack');
  return {
    connections: value('--connections', 10_000),
    users: value('--users', 100),
    writes: value('--writes', 200),
    protocol,
    tls: argv.includes('--tls'),
    concurrency: value('--concurrency', 100),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
}

/** This process's open-files limit, from /proc (Node cannot raise it; the shell's `ulimit -n` can). */
function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? NaN);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

/** The server's own hub counters (open connections, deliveries, closes by reason). */
async function hubMetrics(server: ServerProcess): Promise<string> {
  const res = await server.http.get<string>('/metrics', { parse: false });
  return res.text
    .split('\n')
    .filter((l) => l.startsWith('keyhaven_hub_'))
    .join('\n');
}

/** Arrival times (performance.now()) of each folder id, across all connections. */
const arrivals = new Map<string, number[]>();

interface Client {
  readonly socket: WebSocket;
  readonly ready: Promise<void>;
}

function connect(url: string, token: string, protocol: HubProtocol, ca: Buffer | undefined): Client {
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, ...(ca ? { ca } : {}) });
  let pending: Uint8Array = new Uint8Array(0);
  let handshaken = false;
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('open', () => {
      socket.send(`{"protocol":"${protocol.name}","version":1}\u001e`);
    });
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    socket.on('message', (data: Buffer) => {
      const at = performance.now();
      let bytes: Uint8Array = data;
      if (!handshaken) {
        const parsed = parseHandshakeResponse(data);
        if (!parsed) return;
        if (parsed.error) {
          reject(new Error(parsed.error));
          return;
        }
        handshaken = true;
        bytes = parsed.rest;
        resolve();
      }
      const { messages, rest } = protocol.parse(pending, bytes, 1 << 20);
      pending = rest;
      for (const message of messages) {
        if (message.type !== MessageType.Invocation) continue;
        const argument = message.arguments?.[0] as { Type: number; Payload: { Id?: string } } | undefined;
        const id = argument?.Payload.Id;
        if (argument?.Type !== 7 || !id) continue;
        let times = arrivals.get(id);
        if (!times) arrivals.set(id, (times = []));
        times.push(at);
      }
    });
  });
  return { socket, ready };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const limit = openFilesLimit();
  // The server runs in its own process; this one holds one socket per connection plus a few.
  if (limit < options.connections + 200) {
    throw new Error(
      `this process may open ${limit} files, fewer than ${options.connections} connections need: raise it (ulimit -n) or pass --connections ${limit - 200}`,
    );
  }
  console.log(
    `fan-out: ${options.connections} connections over ${options.users} users, ${options.protocol.name}, ${options.tls ? 'wss (TLS)' : 'ws (no TLS)'}, open-files limit ${limit}`,
  );
  const server: ServerProcess = await startServer({
    tls: options.tls,
    env: {
      LOG_LEVEL: 'error',
      NOTIFICATIONS_CONNECTIONS_PER_IP: String(options.connections + 100),
      // Hub connections count against the HTTP server's connection cap like any other.
      HTTP_MAX_CONNECTIONS: String(options.connections + 1000),
      LOGIN_RATE_LIMIT_PER_MINUTE: '1000000',
    },
  });
  const pid = server.child.pid ?? 0;
  const clients: Client[] = [];
  let pinger: NodeJS.Timeout | undefined;
  try {
    const ca = server.caPath ? readFileSync(server.caPath) : undefined;
    const accounts: { account: Account; token: string }[] = [];
    const registeredAt = performance.now();
    for (let i = 0; i < options.users; i++) {
      const account = await registerAccount(server.http, `fanout-${i}-${Date.now()}@example.com`, `fanout pw ${i}`);
      accounts.push({ account, token: (await passwordLogin(server.http, account)).accessToken });
    }
    console.log(`registered ${options.users} users in ${((performance.now() - registeredAt) / 1000).toFixed(1)} s`);

    await sleep(5000);
    const baseline = rssMiB(pid);
    const hubUrl = `${server.url.replace(/^http/, 'ws')}/notifications/hub`;
    // Clients ping about every 10 s (the SignalR client: 15 s when idle; the server closes one silent for 30 s),
    // spread over the interval, from the start: connecting them all may take longer than that, and while the
    // list grows a client can wait up to two rounds.
    const ping = options.protocol.ping();
    let cursor = 0;
    let lastTick = performance.now();
    pinger = setInterval(() => {
      // As many as are due since the last tick, so a late timer (a busy event loop) skips nobody.
      const now = performance.now();
      const due = Math.ceil((clients.length * (now - lastTick)) / 10_000);
      lastTick = now;
      for (let k = 0; k < due && clients.length > 0; k++, cursor++) clients[cursor % clients.length]?.socket.send(ping);
    }, 100);
    const connectStarted = performance.now();
    // A bounded number of handshakes in flight: enough to be quick, few enough for the accept backlog.
    for (let i = 0; i < options.connections; i += options.concurrency) {
      const batch: Client[] = [];
      for (let j = i; j < Math.min(options.connections, i + options.concurrency); j++) {
        const user = accounts[j % accounts.length];
        if (!user) throw new Error('no users');
        batch.push(connect(hubUrl, user.token, options.protocol, ca));
      }
      await Promise.all(batch.map((c) => c.ready));
      clients.push(...batch);
    }
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    console.log(
      `connected ${clients.length} in ${connectSeconds.toFixed(1)} s (${Math.round(clients.length / connectSeconds)}/s)`,
    );
    await sleep(5000);
    const open = clients.filter((c) => c.socket.readyState === WebSocket.OPEN).length;
    if (open !== clients.length) {
      throw new Error(`only ${open} of ${clients.length} connections are still open\n${await hubMetrics(server)}`);
    }
    const loaded = rssMiB(pid);
    const perConnectionKiB = ((loaded - baseline) * 1024) / clients.length;
    console.log(
      `server RSS: ${baseline.toFixed(1)} MiB settled without connections, ${loaded.toFixed(1)} MiB with ${clients.length} idle: ${perConnectionKiB.toFixed(1)} KiB per connection`,
    );

    const writes: { id: string; sentAt: number; respondedAt: number }[] = [];
    for (let w = 0; w < options.writes; w++) {
      const user = accounts[w % accounts.length];
      if (!user) throw new Error('no users');
      const sentAt = performance.now();
      const res = await server.http.post<{ id: string }>('/api/folders', {
        token: user.token,
        json: encryptFolder(user.account.userKey, `bench ${w}`),
      });
      const respondedAt = performance.now();
      if (res.status !== 200) throw new Error(`write ${w}: ${res.status} ${res.text}`);
      writes.push({ id: res.body.id, sentAt, respondedAt });
      await sleep(20);
    }
    await sleep(2000);

    const perConnection = Math.floor(options.connections / options.users);
    const all: number[] = [];
    const first: number[] = [];
    const last: number[] = [];
    const response: number[] = [];
    const afterResponse: number[] = [];
    let missing = 0;
    for (const write of writes) {
      const times = (arrivals.get(write.id) ?? []).map((t) => t - write.sentAt).sort((a, b) => a - b);
      response.push(write.respondedAt - write.sentAt);
      const expected =
        perConnection + (writes.indexOf(write) % options.users < options.connections % options.users ? 1 : 0);
      missing += Math.max(0, expected - times.length);
      all.push(...times);
      afterResponse.push(...times.map((t) => t - (write.respondedAt - write.sentAt)));
      if (times.length > 0) {
        first.push(times[0] ?? NaN);
        last.push(times.at(-1) ?? NaN);
      }
    }
    for (const list of [all, first, last, response, afterResponse]) list.sort((a, b) => a - b);
    const line = (name: string, list: number[]): string =>
      `${name.padEnd(34)} p50 ${fmt(percentile(list, 50)).padStart(9)}   p99 ${fmt(percentile(list, 99)).padStart(9)}   max ${fmt(list.at(-1) ?? NaN).padStart(9)}`;
    console.log(
      `${writes.length} writes, each delivered to ~${perConnection} connections (${all.length} deliveries, ${missing} missing)`,
    );
    console.log(line('API response', response));
    console.log(line('write -> delivery (every one)', all));
    console.log(line('write -> first connection', first));
    console.log(line('write -> last connection', last));
    // The hub's own share: negative when the push arrived before the HTTP response did.
    console.log(line('API response -> delivery', afterResponse));
    console.log(`server RSS at the end: ${rssMiB(pid).toFixed(1)} MiB`);
    console.log(await hubMetrics(server));
  } catch (error) {
    console.error(
      `server ${server.child.exitCode === null ? 'running' : `exited ${server.child.exitCode}`}; its output:`,
    );
    console.error(server.output().slice(-4000));
    throw error;
  } finally {
    clearInterval(pinger);
    for (const client of clients) client.socket.terminate();
    await server.stop();
    server.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
