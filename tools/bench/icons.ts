/**
 * Icons benchmark: latency of `GET /icons/{domain}/icon.png` when the icon is cached (p50/p99), next to
 * the first lookup of each site (a miss: page, icon, decode, store) and to `/alive` on the same
 * connection path (the floor of an HTTPS round trip to this server).
 *
 *   npm run bench:icons                                # all-in-one, embedded cache (in-process) and local blobs
 *   npm run bench:icons -- --redis                     # the cache port on the Redis at TEST_REDIS_URL
 *   npm run bench:icons -- --sites 20 --requests 2000 --concurrency 4
 *
 * The sites are one local HTTP server answering for every name (OUTBOUND_CONNECT_TO, allow-listed
 * 127.0.0.1), each with a 128 px PNG link icon. Loopback only; bounded loops.
 */
import { performance } from 'node:perf_hooks';
import { bytes, getBytes, html, IconSites, serviceUrls, solidPng, startServer } from '@keyhaven/testing';

interface Options {
  readonly redis: boolean;
  readonly sites: number;
  readonly requests: number;
  readonly concurrency: number;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number): number => {
    const at = argv.indexOf(name);
    const parsed = at >= 0 ? Number(argv[at + 1]) : fallback;
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${name} needs a positive integer`);
    return parsed;
  };
  return {
    redis: argv.includes('--redis'),
    sites: Math.min(value('--sites', 20), 500),
    requests: Math.min(value('--requests', 2000), 100000),
    concurrency: Math.min(value('--concurrency', 1), 64),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(2).padStart(8);
  return `${label.padEnd(28)} n=${String(sorted.length).padStart(6)}  p50 ${f(percentile(sorted, 50))} ms  p99 ${f(percentile(sorted, 99))} ms  max ${f(sorted.at(-1) ?? NaN)} ms`;
}

/** Runs `total` calls of `fn`, `concurrency` at a time, returning each call's milliseconds. */
async function timed(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const started = performance.now();
        await fn(i);
        samples.push(performance.now() - started);
      }
    }),
  );
  return samples;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const png = await solidPng(128, 128, [30, 120, 200]);
  const names = Array.from({ length: options.sites }, (_, i) => `site${i}-${Date.now().toString(36)}.bench`);
  const sites = new IconSites('127.0.0.1').site('*', (_req, res, path) => {
    if (path === '/icon.png') bytes(res, 'image/png', png);
    else html(res, '<html><head><link rel="icon" sizes="128x128" href="/icon.png"></head></html>');
  });
  await sites.start();
  const server = await startServer({
    env: {
      OUTBOUND_ALLOW_NETWORKS: '127.0.0.1/32',
      OUTBOUND_CONNECT_TO: sites.routes(names),
      LOG_LEVEL: 'error',
      ...(options.redis ? { REDIS_URL: serviceUrls.redis() } : {}),
    },
  });
  try {
    const get = async (path: string): Promise<void> => {
      const r = await getBytes(server.url, path, server.caPath);
      if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
    };
    console.log(
      `icons bench: ${options.sites} sites, ${options.requests} cached requests, concurrency ${options.concurrency}, cache ${options.redis ? 'Redis' : 'in-process'}`,
    );
    const misses = await timed(names.length, 1, (i) => get(`/icons/${names[i] ?? ''}/icon.png`));
    const fetched = sites.requests.length;
    await timed(50, 1, () => get('/alive')); // warm-up
    const floor = await timed(options.requests, options.concurrency, () => get('/alive'));
    const hits = await timed(options.requests, options.concurrency, (i) =>
      get(`/icons/${names[i % names.length] ?? ''}/icon.png`),
    );
    if (sites.requests.length !== fetched) throw new Error('a cached request reached a site');
    console.log(summary('miss (first lookup)', misses));
    console.log(summary('GET /alive (floor)', floor));
    console.log(summary('cache hit', hits));
  } finally {
    await server.stop();
    server.cleanup();
    await sites.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
