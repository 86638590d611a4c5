/**
 * Footprint benchmark: how long the all-in-one takes to answer `/alive` on a fresh and on a reused data
 * directory, and how much memory it holds (VmRSS, and the peak VmHWM, from /proc/<pid>/status) after 10 s
 * idle and after a 1,000-item sync.
 *
 *   npm run bench:footprint                     # PGlite, the compiled build (dist/apps/server/main.js)
 *   npm run bench:footprint -- --postgres       # also on the PostgreSQL at TEST_DATABASE_URL
 *   npm run bench:footprint -- --source         # today's TypeScript entry through @swc-node/register instead
 *   npm run bench:footprint -- --rounds 5 --items 1000 --idle 10
 *   npm run bench:footprint -- --cold            # remove the embedded store's initdb template first
 *   npm run bench:footprint -- --node-arg=--max-semi-space-size=1   # extra node arguments, for experiments
 *
 * Start times are the median of `--rounds` starts (each a new process; fresh ones on a new data directory or
 * scratch database), with the CPU time the process used until `/alive` next to the wall time: on a shared
 * machine the wall time varies with the load, the CPU time much less. Memory figures come from the last round.
 * A fresh PGlite start copies the initdb template (node_modules/.cache/keyhaven) when there is one and runs initdb
 * (then keeps the result as the template) when there is not; each fresh start says which it did.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HttpClient, createScratchDatabase, freePort, repoRoot } from '@keyhaven/testing';
import { embeddedTemplateDir } from '@keyhaven/db';
import { fillRealisticVault } from './realistic-vault';

interface Options {
  readonly source: boolean;
  readonly postgres: boolean;
  readonly cold: boolean;
  readonly rounds: number;
  readonly items: number;
  readonly idleSeconds: number;
  readonly nodeArgs: string[];
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number): number => {
    const at = argv.indexOf(name);
    const parsed = at >= 0 ? Number(argv[at + 1]) : fallback;
    if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} needs a number`);
    return parsed;
  };
  return {
    source: argv.includes('--source'),
    postgres: argv.includes('--postgres'),
    cold: argv.includes('--cold'),
    rounds: Math.max(1, value('--rounds', 3)),
    items: value('--items', 1000),
    idleSeconds: value('--idle', 10),
    nodeArgs: argv.filter((a) => a.startsWith('--node-arg=')).map((a) => a.slice('--node-arg='.length)),
  };
}

interface Memory {
  /** Resident set size now, MiB. */
  readonly rss: number;
  /** Peak resident set size so far, MiB. */
  readonly hwm: number;
}

function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

/**
 * User + system CPU time the process and its finished children (initdb) have used, ms: fields 14 to 17 of
 * /proc/<pid>/stat, in clock ticks.
 */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return (ticks * 1000) / 100;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Started {
  readonly child: ChildProcess;
  readonly http: HttpClient;
  readonly aliveMs: number;
  readonly cpuMs: number;
  stop(): Promise<void>;
}

interface Target {
  readonly label: string;
  /** The node arguments that start the all-in-one. */
  readonly entry: string[];
}

function target(options: Options): Target {
  if (options.source) {
    return {
      label: 'TypeScript sources through @swc-node/register (apps/server/src/main.ts)',
      entry: ['--require', 'reflect-metadata', '--require', '@swc-node/register', 'apps/server/src/main.ts'],
    };
  }
  const compiled = join(repoRoot, 'dist', 'apps', 'server', 'main.js');
  if (!existsSync(compiled)) throw new Error(`${compiled} does not exist: run \`npm run build\``);
  return { label: 'compiled build (dist/apps/server/main.js)', entry: [compiled] };
}

/** Spawns the all-in-one and polls `/alive` every 10 ms; the clock starts at spawn. */
async function start(options: Options, entry: Target, dataDir: string, env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const url = `https://localhost:${port}`;
  const began = performance.now();
  const child = spawn(process.execPath, [...options.nodeArgs, ...entry.entry], {
    cwd: repoRoot,
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DOMAIN: url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((done) => {
    child.once('exit', () => {
      done();
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const caPath = join(dataDir, 'tls', 'ca.pem');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output}`);
    if (performance.now() - began > 120_000) {
      child.kill('SIGKILL');
      throw new Error(`the server did not answer /alive within 120 s:\n${output}`);
    }
    if (existsSync(caPath)) {
      try {
        const res = await new HttpClient(url, caPath).get('/alive', { parse: false });
        if (res.status === 200) {
          const aliveMs = performance.now() - began;
          return { child, http: new HttpClient(url, caPath), aliveMs, cpuMs: cpuMsOf(child.pid ?? 0), stop };
        }
      } catch {
        // not listening yet
      }
    }
    await sleep(10);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Creates an account and `items` realistic items over HTTP, then times a full sync (median of 5). */
async function fillAndSync(http: HttpClient, items: number): Promise<{ syncMs: number; bytes: number }> {
  const { session } = await fillRealisticVault(http, 'footprint@example.com', items);
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const began = performance.now();
    const res = await http.get('/api/sync?excludeDomains=true', { token: session.accessToken, parse: false });
    samples.push(performance.now() - began);
    if (res.status !== 200) throw new Error(`sync failed: ${res.status}`);
    bytes = res.text.length;
  }
  return { syncMs: median(samples), bytes };
}

interface Store {
  readonly name: string;
  readonly embedded: boolean;
  /** A new, empty store; `env` points the server at it. */
  create(): Promise<{ env: Record<string, string>; dispose(): Promise<void> }>;
}

const pglite: Store = {
  name: 'PGlite',
  embedded: true,
  create: () => Promise.resolve({ env: {}, dispose: () => Promise.resolve() }),
};

const postgres: Store = {
  name: 'PostgreSQL',
  embedded: false,
  create: async () => {
    const database = await createScratchDatabase();
    return { env: { DATABASE_URL: database.url }, dispose: () => database.drop() };
  },
};

const fmtMs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const fmtMb = (m: Memory): string => `${m.rss.toFixed(0)} MiB (peak ${m.hwm.toFixed(0)})`;

async function benchStore(options: Options, entry: Target, store: Store): Promise<void> {
  const fresh: { wall: number; cpu: number; how: string }[] = [];
  const restart: { wall: number; cpu: number; how: string }[] = [];
  const template = embeddedTemplateDir();
  if (store.embedded && options.cold) rmSync(template, { recursive: true, force: true });
  let idleFresh: Memory | undefined;
  let idleRestart: Memory | undefined;
  let afterSync: Memory | undefined;
  let sync: { syncMs: number; bytes: number } | undefined;
  for (let round = 0; round < options.rounds; round++) {
    const last = round === options.rounds - 1;
    const dataDir = mkdtempSync(join(tmpdir(), 'keyhaven-footprint-'));
    const backing = await store.create();
    try {
      const how = !store.embedded ? 'migrations' : existsSync(template) ? 'template' : 'initdb';
      const first = await start(options, entry, dataDir, backing.env);
      try {
        fresh.push({ wall: first.aliveMs, cpu: first.cpuMs, how });
        if (last) {
          await sleep(options.idleSeconds * 1000);
          idleFresh = memoryOf(first.child.pid ?? 0);
        }
      } finally {
        await first.stop();
      }
      const again = await start(options, entry, dataDir, backing.env);
      try {
        restart.push({ wall: again.aliveMs, cpu: again.cpuMs, how: '' });
        if (last) {
          await sleep(options.idleSeconds * 1000);
          idleRestart = memoryOf(again.child.pid ?? 0);
          if (options.items > 0) {
            sync = await fillAndSync(again.http, options.items);
            afterSync = memoryOf(again.child.pid ?? 0);
          }
        }
      } finally {
        await again.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await backing.dispose();
    }
  }
  const line = (label: string, value: string): void => {
    process.stdout.write(`  ${label.padEnd(34)} ${value}\n`);
  };
  process.stdout.write(`${store.name}\n`);
  const times = (samples: { wall: number; cpu: number; how: string }[]): string =>
    `${fmtMs(median(samples.map((s) => s.wall)))} (CPU ${fmtMs(median(samples.map((s) => s.cpu)))}; runs ` +
    samples.map((s) => `${(s.wall / 1000).toFixed(2)}${s.how ? ` ${s.how}` : ''}`).join(', ') +
    ')';
  for (const how of [...new Set(fresh.map((f) => f.how))]) {
    line(`fresh start to /alive (${how})`, times(fresh.filter((f) => f.how === how)));
  }
  line('restart to /alive', times(restart));
  if (idleFresh) line(`RSS after ${options.idleSeconds} s idle, first start`, fmtMb(idleFresh));
  if (idleRestart) line(`RSS after ${options.idleSeconds} s idle, restart`, fmtMb(idleRestart));
  if (afterSync && sync) {
    line(
      `RSS after a ${options.items}-item sync`,
      `${fmtMb(afterSync)}; sync ${sync.syncMs.toFixed(0)} ms, ${(sync.bytes / 1024 / 1024).toFixed(1)} MiB`,
    );
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const entry = target(options);
  process.stdout.write(
    `footprint benchmark: ${entry.label}` +
      `${options.nodeArgs.length > 0 ? `, node ${options.nodeArgs.join(' ')}` : ''}; ` +
      `median of ${options.rounds} starts, node ${process.version}\n`,
  );
  await benchStore(options, entry, pglite);
  if (options.postgres) await benchStore(options, entry, postgres);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
