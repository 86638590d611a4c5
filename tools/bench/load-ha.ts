/**
 * Mixed-workload benchmark, one instance against two behind nginx: the api and identity services from dist/ on the
 * HA test bed (tools/ha/testbed.ts: PostgreSQL, Redis, RabbitMQ, nginx with deploy/nginx/keyhaven.conf). For each
 * layout, six autocannon runs at once for the same duration, one per endpoint, so every endpoint is measured
 * under the others' load:
 *
 *   prelogin  POST /identity/accounts/prelogin
 *   login     POST /identity/connect/token (password grant)
 *   sync      GET  /api/sync (a vault of --items items)
 *   create    POST /api/ciphers
 *   update    PUT  /api/ciphers/{id}
 *   config    GET  /api/config
 *
 * Reported per endpoint: requests, requests/s, non-2xx, p50/p95/p99 (from every response's time, not autocannon's
 * own histogram, which has no p95), next to Bitwarden's published SLOs (p95: sync < 1200 ms, login < 800 ms,
 * config < 350 ms), and the machine's load average: on a shared two-core machine two instances cannot double
 * anything; the figures say what the proxy and a second instance cost or bring here.
 *
 *   npm run bench:load-ha
 *   npm run bench:load-ha -- --duration 20 --connections 2 --items 200
 */
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { passwordLogin, registerAccount } from '@keyhaven/testing';
import { encryptCipher } from '@keyhaven/vault-crypto';
import { startTestBed, type TestBed } from '../ha/testbed';

interface Options {
  readonly duration: number;
  readonly connections: number;
  readonly items: number;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number, max: number): number => {
    const at = argv.indexOf(name);
    const parsed = at >= 0 ? Number(argv[at + 1]) : fallback;
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} needs a positive number`);
    return Math.min(max, Math.round(parsed));
  };
  return {
    duration: value('--duration', 15, 120),
    connections: value('--connections', 2, 20),
    items: value('--items', 100, 5000),
  };
}

const SLO_P95_MS: Record<string, number> = { sync: 1200, login: 800, config: 350 };

interface EndpointResult {
  readonly name: string;
  readonly requests: number;
  readonly rps: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(
  name: string,
  bed: TestBed,
  options: Options,
  request: { method: 'GET' | 'POST' | 'PUT'; path: string; headers?: Record<string, string>; body?: string },
): Promise<EndpointResult> {
  const times: number[] = [];
  const result = await autocannon({
    url: bed.url,
    connections: options.connections,
    duration: options.duration,
    requests: [{ method: request.method, path: request.path, headers: request.headers, body: request.body }],
    setupClient: (client) => {
      client.on('response', (_status: number, _bytes: number, responseTime: number) => {
        times.push(responseTime);
      });
    },
  });
  times.sort((a, b) => a - b);
  return {
    name,
    requests: result.requests.total,
    rps: result.requests.total / options.duration,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
  };
}

async function runLayout(replicas: number, options: Options): Promise<EndpointResult[]> {
  const bed = await startTestBed({ replicas, apps: ['api', 'identity'] });
  try {
    const stamp = Date.now().toString(36);
    const email = `bench-ha-${stamp}@example.com`;
    const account = await registerAccount(bed.http, email, 'bench load ha password');
    const { accessToken } = await passwordLogin(bed.http, account);
    const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
    const body = JSON.stringify(
      encryptCipher(account.userKey, { type: 2, name: 'bench', notes: 'x'.repeat(200), secureNote: { type: 0 } }),
    );
    let updateId = '';
    for (let i = 0; i < options.items; i++) {
      const res = await bed.http.post<{ id: string }>('/api/ciphers', {
        rawBody: body,
        contentType: 'application/json',
        token: accessToken,
      });
      if (res.status !== 200) throw new Error(`seeding: ${String(res.status)} ${res.text}`);
      updateId = res.body.id;
    }
    const login = new URLSearchParams({
      scope: 'api offline_access',
      client_id: 'cli',
      deviceType: '25',
      deviceIdentifier: '4b1f0f3e-2d7c-4a55-9a0e-3e1c5d7f9b21',
      deviceName: 'linux',
      grant_type: 'password',
      username: email,
      password: account.masterPasswordHash,
    }).toString();
    const form = { 'content-type': 'application/x-www-form-urlencoded', 'device-type': '25' };
    return await Promise.all([
      measure('prelogin', bed, options, {
        method: 'POST',
        path: '/identity/accounts/prelogin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      }),
      measure('login', bed, options, { method: 'POST', path: '/identity/connect/token', headers: form, body: login }),
      measure('sync', bed, options, { method: 'GET', path: '/api/sync', headers: auth }),
      measure('create', bed, options, { method: 'POST', path: '/api/ciphers', headers: auth, body }),
      measure('update', bed, options, { method: 'PUT', path: `/api/ciphers/${updateId}`, headers: auth, body }),
      measure('config', bed, options, { method: 'GET', path: '/api/config' }),
    ]);
  } finally {
    await bed.close();
  }
}

function table(title: string, rows: EndpointResult[]): string {
  const ms = (n: number): string => (Number.isNaN(n) ? '–' : n.toFixed(0));
  const lines = [
    title,
    'endpoint   requests    req/s  non-2xx  errors   p50 ms   p95 ms   p99 ms   SLO p95',
    ...rows.map((r) => {
      const slo = SLO_P95_MS[r.name];
      const verdict = slo === undefined ? '' : `< ${String(slo)} ${r.p95 < slo ? 'met' : 'MISSED'}`;
      return [
        r.name.padEnd(8),
        String(r.requests).padStart(10),
        r.rps.toFixed(1).padStart(8),
        String(r.non2xx).padStart(8),
        String(r.errors).padStart(7),
        ms(r.p50).padStart(8),
        ms(r.p95).padStart(8),
        ms(r.p99).padStart(8),
        `   ${verdict}`,
      ].join(' ');
    }),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ');
  process.stdout.write(
    `load-ha: ${String(options.duration)} s per layout, ${String(options.connections)} connections per endpoint, ` +
      `${String(options.items)} items in the vault; load average (1/5/15 min) before: ${load()}\n\n`,
  );
  for (const replicas of [1, 2]) {
    const rows = await runLayout(replicas, options);
    const title = `${replicas === 1 ? 'one instance' : 'two instances'} of api and identity behind nginx (load average now ${load()})`;
    process.stdout.write(`${table(title, rows)}\n\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
