/**
 * Load benchmark: can one user freeze the server? One all-in-one instance on loopback, two users: a noisy one
 * who bursts expensive calls and a quiet one who keeps syncing. Three scenarios, one after the other:
 *
 *   (a) N concurrent syncs of the noisy user (default 200)
 *   (b) one large import by the noisy user (default 20 MB; the body limit on imports is 64 MiB)
 *   (c) M parallel imports by the noisy user (default 45, 1 MB each) while the quiet user syncs
 *   (d) a directory import of K new members (default 1,000, in 10 groups) through the public API with the
 *       noisy user's organization key (the case that once blocked everything for 39 s)
 *
 * During each, `/alive` is polled from outside (the server's own event-loop monitor is not reachable) and the
 * quiet user syncs in a loop; reported are `/alive` p50/p99/max, the quiet user's sync p50/p99/max, the noisy
 * user's statuses, and the server's event-loop lag from `/metrics` (prom-client's nodejs_eventloop_lag_*,
 * cumulative since start) when loopback may read it. Every loop is bounded; bodies are built before a
 * scenario starts so the bench's own CPU work does not stall its probes.
 *
 *   npm run bench:load
 *   npm run bench:load -- --syncs 200 --import-mb 54 --imports 45 --import-each-mb 1 --directory-members 1000
 *   npm run bench:load -- --unlimited     # per-user limits lifted, to compare
 */
import { performance } from 'node:perf_hooks';
import { HttpClient, createOrganizationAs, passwordLogin, registerAccount, startServer } from '@keyhaven/testing';
import { encryptCipher, type SymmetricKey } from '@keyhaven/vault-crypto';
import { directoryImport, organizationApiToken } from './directory';

interface Options {
  readonly syncs: number;
  readonly importMb: number;
  readonly imports: number;
  readonly importEachMb: number;
  readonly seedItems: number;
  readonly directoryMembers: number;
  readonly unlimited: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number): number => {
    const at = argv.indexOf(name);
    const parsed = at >= 0 ? Number(argv[at + 1]) : fallback;
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} needs a positive number`);
    return parsed;
  };
  return {
    syncs: Math.min(2000, Math.round(value('--syncs', 200))),
    importMb: Math.min(63, value('--import-mb', 20)),
    imports: Math.min(500, Math.round(value('--imports', 45))),
    importEachMb: Math.min(63, value('--import-each-mb', 1)),
    seedItems: Math.min(20_000, Math.round(value('--seed-items', 1000))),
    directoryMembers: Math.min(20_000, Math.round(value('--directory-members', 1000))),
    unlimited: argv.includes('--unlimited'),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (n: number): string => (Number.isNaN(n) ? '–' : `${n.toFixed(0)} ms`);
  return `n=${sorted.length} p50 ${f(percentile(sorted, 50))} p99 ${f(percentile(sorted, 99))} max ${f(sorted.at(-1) ?? NaN)}`;
}

/** A secure note whose encrypted notes are about `bytes` long, so the body reaches its size with few rows. */
function items(key: SymmetricKey, count: number, bytes: number, tag: string): unknown[] {
  const notes = 'n'.repeat(Math.max(1, Math.floor((bytes * 3) / 4) - 200));
  return Array.from({ length: count }, (_, i) =>
    encryptCipher(key, { type: 2, name: `${tag} ${i}`, notes, secureNote: { type: 0 } }),
  );
}

/** An import body of about `mb` megabytes, serialised up front. */
function importBody(key: SymmetricKey, mb: number, tag: string): Buffer {
  const itemBytes = 4096;
  const count = Math.max(1, Math.round((mb * 1024 * 1024) / itemBytes));
  return Buffer.from(
    JSON.stringify({ folders: [], folderRelationships: [], ciphers: items(key, count, itemBytes, tag) }),
  );
}

/** Runs `work` while polling `/alive` and the quiet user's sync in bounded loops; returns their latencies. */
async function measure(
  http: HttpClient,
  quietToken: string,
  work: () => Promise<number[]>,
): Promise<{
  alive: number[];
  aliveFailures: number;
  quiet: number[];
  quietFailures: number;
  statuses: number[];
  seconds: number;
}> {
  const state = { done: false };
  const alive: number[] = [];
  const quiet: number[] = [];
  let aliveFailures = 0;
  let quietFailures = 0;
  const aliveLoop = (async () => {
    for (let i = 0; i < 20_000 && !state.done; i++) {
      const t = performance.now();
      if ((await statusOf(http.get('/alive'))) === 200) alive.push(performance.now() - t);
      else aliveFailures++;
      await sleep(20);
    }
  })();
  const quietLoop = (async () => {
    for (let i = 0; i < 5_000 && !state.done; i++) {
      const t = performance.now();
      if ((await statusOf(http.get('/api/sync', { token: quietToken, parse: false }))) === 200)
        quiet.push(performance.now() - t);
      else quietFailures++;
      await sleep(100);
    }
  })();
  const started = performance.now();
  const statuses = await work();
  const seconds = (performance.now() - started) / 1000;
  state.done = true;
  await Promise.all([aliveLoop, quietLoop]);
  return { alive, aliveFailures, quiet, quietFailures, statuses, seconds };
}

/**
 * A request's status, or 0 when it failed on the network (reset, timeout): reported among the statuses
 * rather than ending the run, since a connection the server resets under load is itself a finding.
 */
async function statusOf(response: Promise<{ status: number }>): Promise<number> {
  try {
    return (await response).status;
  } catch {
    return 0;
  }
}

async function eventLoopLag(http: HttpClient): Promise<string> {
  const r = await http.get('/metrics', { parse: false });
  if (r.status !== 200) return `(/metrics answered ${r.status})`;
  const pick = (name: string): string => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(r.text);
    return m?.[1] ? `${(Number(m[1]) * 1000).toFixed(0)} ms` : '–';
  };
  return `server event-loop lag since start: p99 ${pick('nodejs_eventloop_lag_p99_seconds')} max ${pick('nodejs_eventloop_lag_max_seconds')}`;
}

function countStatuses(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n}×${s === 0 ? 'network error' : s}`).join(' ');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const limits: Record<string, string> = options.unlimited
    ? {}
    : // The production defaults (startServer lifts them for the test suites).
      {
        SYNC_CONCURRENT_PER_USER: '2',
        SYNC_PER_MINUTE_PER_USER: '60',
        EXPENSIVE_CALLS_CONCURRENT_PER_USER: '2',
        EXPENSIVE_CALLS_PER_MINUTE_PER_USER: '30',
      };
  const server = await startServer({ tls: false, env: { LOG_LEVEL: 'error', ...limits } });
  try {
    const http = server.http;
    const noisyAccount = await registerAccount(http, `noisy-${Date.now()}@example.com`, 'noisy load password');
    const quietAccount = await registerAccount(http, `quiet-${Date.now()}@example.com`, 'quiet load password');
    const noisy = (await passwordLogin(http, noisyAccount)).accessToken;
    const quiet = (await passwordLogin(http, quietAccount)).accessToken;
    // Both vaults hold items, so a sync has something to build.
    for (const [account, token] of [
      [noisyAccount, noisy],
      [quietAccount, quiet],
    ] as const) {
      const seed = {
        folders: [],
        folderRelationships: [],
        ciphers: items(account.userKey, options.seedItems, 512, 'seed'),
      };
      const r = await http.post('/api/ciphers/import', { token, json: seed });
      if (r.status !== 200) throw new Error(`seeding answered ${r.status}: ${r.text.slice(0, 200)}`);
    }
    console.log(
      `load: all-in-one on loopback (no TLS), per-user limits ${options.unlimited ? 'lifted' : 'at their defaults'}, ${options.seedItems} items per vault`,
    );

    const report = async (label: string, result: Awaited<ReturnType<typeof measure>>): Promise<void> => {
      console.log(`\n${label} (${result.seconds.toFixed(1)} s): noisy user ${countStatuses(result.statuses)}`);
      console.log(
        `  /alive            ${summary(result.alive)}${result.aliveFailures ? `, ${result.aliveFailures} failed` : ''}`,
      );
      console.log(
        `  other user's sync ${summary(result.quiet)}${result.quietFailures ? `, ${result.quietFailures} failed` : ''}`,
      );
      console.log(`  ${await eventLoopLag(http)}`);
    };

    await sleep(1000);
    await report(
      `(a) ${options.syncs} concurrent syncs of one user`,
      await measure(http, quiet, async () => {
        const rs = await Promise.all(
          Array.from({ length: options.syncs }, () => statusOf(http.get('/api/sync', { token: noisy, parse: false }))),
        );
        return rs;
      }),
    );

    const big = importBody(noisyAccount.userKey, options.importMb, 'big');
    await sleep(1000);
    await report(
      `(b) one ${(big.length / 1024 / 1024).toFixed(1)} MB import`,
      await measure(http, quiet, async () => {
        // A fresh connection: building the body can outlast the server's keep-alive timeout, and a pooled
        // socket the server closed meanwhile would reset under the upload.
        return [
          await statusOf(
            new HttpClient(server.url).post('/api/ciphers/import', { token: noisy, rawBody: big, parse: false }),
          ),
        ];
      }),
    );

    const bodies = Array.from({ length: options.imports }, (_, n) =>
      importBody(noisyAccount.userKey, options.importEachMb, `parallel ${n}`),
    );
    await sleep(1000);
    await report(
      `(c) ${options.imports} parallel ${options.importEachMb} MB imports by one user while another syncs`,
      await measure(http, quiet, async () => {
        return Promise.all(
          bodies.map((rawBody) =>
            statusOf(new HttpClient(server.url).post('/api/ciphers/import', { token: noisy, rawBody, parse: false })),
          ),
        );
      }),
    );

    const orgId = await createOrganizationAs(http, noisyAccount, noisy, 'Load directory');
    const orgToken = await organizationApiToken(http, noisyAccount, noisy, orgId);
    const directory = Buffer.from(JSON.stringify(directoryImport(options.directoryMembers, 10)));
    await sleep(1000);
    await report(
      `(d) a directory import of ${options.directoryMembers} new members through the public API`,
      await measure(http, quiet, async () => {
        return [
          await statusOf(
            new HttpClient(server.url).post('/api/public/organization/import', {
              token: orgToken,
              rawBody: directory,
              parse: false,
            }),
          ),
        ];
      }),
    );
  } finally {
    await server.stop();
    server.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
