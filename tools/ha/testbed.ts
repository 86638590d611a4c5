/**
 * The multi-instance test bed: every split service from the compiled build (dist/), several instances of each
 * public one and of the events processor, on one scratch PostgreSQL database, the machine's Redis and RabbitMQ,
 * behind nginx running the configuration deploy/ ships. Used by tools/ha/ha.spec.ts and tools/bench/load-ha.ts,
 * and by hand: `npm run ha` (tools/ha/main.ts).
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadTls } from '@keyhaven/http';
import {
  HttpClient,
  createScratchDatabase,
  freePort,
  repoRoot,
  serviceUrls,
  startServer,
  type ServerProcess,
} from '@keyhaven/testing';
import { SHIPPED_NGINX_CONF, nginxVersion, renderNginxConf, startNginx, type RunningNginx } from './nginx';

/** The public services and the nginx upstream each one is behind. */
export const PUBLIC_APPS = ['api', 'identity', 'notifications', 'sso', 'scim', 'icons'] as const;
const SINGLE_APPS = ['admin', 'events', 'billing'] as const;
const UPSTREAM_OF: Record<string, string> = {
  api: 'keyhaven_api',
  identity: 'keyhaven_identity',
  admin: 'keyhaven_admin',
  notifications: 'keyhaven_notifications',
  events: 'keyhaven_events',
  sso: 'keyhaven_sso',
  scim: 'keyhaven_scim',
  billing: 'keyhaven_billing',
  icons: 'keyhaven_icons',
};

export interface Instance {
  /** `api-1`, `identity-2`, `admin-1`, … */
  readonly name: string;
  readonly app: string;
  readonly port: number;
  /** The running process; replaced by `restart`. */
  process: ServerProcess;
  /** The instance's own plain-HTTP URL (not through nginx). */
  readonly url: string;
}

export interface TestBedOptions {
  /** Instances of each public service and of the events processor (default 2). */
  readonly replicas?: number;
  /** Only these apps (default: every one); nginx still needs one instance behind each upstream it names. */
  readonly apps?: readonly string[];
  readonly env?: Record<string, string>;
  readonly log?: (line: string) => void;
}

export interface TestBed {
  /** https://localhost:<port>, nginx's TLS listener: what clients use. */
  readonly url: string;
  readonly caPath: string;
  readonly databaseUrl: string;
  readonly instances: Instance[];
  readonly nginx: RunningNginx;
  readonly http: HttpClient;
  of(app: string): Instance[];
  /** Stops the instance with the signal and waits for it to exit (exit code). */
  stop(instance: Instance, signal: NodeJS.Signals): Promise<number | null>;
  /** Starts a stopped instance again on its port and waits for its readiness (/healthz 200). */
  start(instance: Instance): Promise<void>;
  /** Stops everything and removes the database, the queue and every temporary file. */
  close(): Promise<void>;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 30_000 }, (error) => {
      if (error) reject(new Error(error.message));
      else resolve();
    });
  });
}

/** Polls an instance's readiness probe directly (not through nginx) until it answers 200. */
export async function waitReady(instance: Instance, timeoutMs = 300_000): Promise<void> {
  const http = new HttpClient(instance.url);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { child } = instance.process;
    if (child.exitCode !== null) {
      throw new Error(`${instance.name} exited with ${String(child.exitCode)}:\n${instance.process.output()}`);
    }
    try {
      if ((await http.get('/healthz')).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${instance.name} not ready within ${String(timeoutMs)} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startTestBed(options: TestBedOptions = {}): Promise<TestBed> {
  const log = options.log ?? ((): void => undefined);
  const replicas = options.replicas ?? 2;
  const version = nginxVersion();
  if (!version) throw new Error('nginx is not installed (apt-get install -y nginx; .ci/run installs it)');
  const work = mkdtempSync(join(tmpdir(), 'keyhaven-ha-'));
  const dataDir = join(work, 'data');
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  const url = `https://localhost:${String(httpsPort)}`;
  const tls = loadTls({ tls: 'on', dataDir: join(work, 'tls'), domain: url }, pino({ level: 'silent' }));
  if (!tls?.caPath) throw new Error('test bed TLS material missing');
  const certFile = join(work, 'tls', 'nginx-cert.pem');
  const keyFile = join(work, 'tls', 'nginx-key.pem');
  writeFileSync(certFile, tls.cert);
  writeFileSync(keyFile, tls.key, { mode: 0o600 });

  // A caller's own database (an outage test's private cluster) is used as it is; otherwise a scratch one.
  const ownDatabase = options.env?.['DATABASE_URL'];
  const database = ownDatabase ? { url: ownDatabase, drop: () => Promise.resolve() } : await createScratchDatabase();
  const queue = `keyhaven.events.ha-${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: serviceUrls.redis(),
    AMQP_URL: serviceUrls.rabbitmq(),
    DOMAIN: url,
    TRUST_PROXY: 'true',
    EVENTS_QUEUE: queue,
    // The production drain (the harness's default is 0): nginx closes its idle upstream connections within it.
    SHUTDOWN_DRAIN_MS: '5000',
    ...options.env,
  };
  const wanted = options.apps ?? [...PUBLIC_APPS, 'events-processor', ...SINGLE_APPS];
  const plan: { app: string; name: string; port: number }[] = [];
  for (const app of wanted) {
    const count = (SINGLE_APPS as readonly string[]).includes(app) ? 1 : replicas;
    for (let i = 1; i <= count; i++) plan.push({ app, name: `${app}-${String(i)}`, port: await freePort() });
  }
  const instances: Instance[] = [];
  // A shared machine can take minutes to boot a batch: readiness is awaited here, longer than startServer would.
  const boot = async (p: { app: string; name: string; port: number }): Promise<ServerProcess> => {
    const process = await startServer({ app: p.app, port: p.port, dataDir, env, tls: false, waitForAlive: false });
    await waitReady({ ...p, url: `http://localhost:${String(p.port)}`, process });
    return process;
  };
  let nginx: RunningNginx | undefined;
  const close = async (): Promise<void> => {
    await nginx?.stop();
    await Promise.all(instances.map((i) => i.process.stop('SIGKILL')));
    await database.drop().catch(() => undefined);
    // The events queue is durable: it would stay on the broker.
    await run('rabbitmqctl', ['-q', 'delete_queue', queue]).catch(() => undefined);
    await run('rabbitmqctl', ['-q', 'delete_queue', `${queue}.dead-letter`]).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  };
  try {
    // The first one applies the migrations (under their advisory lock); then two at a time (two cores).
    const [first, ...rest] = plan;
    if (!first) throw new Error('no apps to start');
    const started = Date.now();
    instances.push({ ...first, url: `http://localhost:${String(first.port)}`, process: await boot(first) });
    for (let i = 0; i < rest.length; i += 2) {
      const batch = rest.slice(i, i + 2);
      const processes = await Promise.all(batch.map(boot));
      batch.forEach((p, k) => {
        const process = processes[k];
        if (process) instances.push({ ...p, url: `http://localhost:${String(p.port)}`, process });
      });
    }
    log(`${String(instances.length)} instances up in ${String(Math.round((Date.now() - started) / 1000))} s`);
    const upstreams: Record<string, number[]> = {};
    for (const instance of instances) {
      const upstream = UPSTREAM_OF[instance.app];
      if (upstream) (upstreams[upstream] ??= []).push(instance.port);
    }
    // An upstream without an instance of its own (a partial bed) points at a closed port: 502, as in production.
    const source = readFileSync(join(repoRoot, SHIPPED_NGINX_CONF), 'utf8');
    for (const name of source.matchAll(/^upstream (\w+) \{/gm)) {
      const upstream = name[1] ?? '';
      if (!upstreams[upstream]) upstreams[upstream] = [await freePort()];
    }
    const rendered = renderNginxConf(source, {
      upstreams,
      httpPort,
      httpsPort,
      certFile,
      keyFile,
      logDir: join(work, 'nginx', 'logs'),
      version,
    });
    nginx = await startNginx({ prefix: join(work, 'nginx'), rendered });
    log(`nginx ${version.join('.')} on ${url}`);
  } catch (error) {
    await close();
    throw error;
  }
  const running = nginx;
  const http = new HttpClient(url, tls.caPath);
  return {
    url,
    caPath: tls.caPath,
    databaseUrl: database.url,
    instances,
    nginx: running,
    http,
    of: (app) => instances.filter((i) => i.app === app),
    stop: (instance, signal) => instance.process.stop(signal),
    start: async (instance) => {
      instance.process = await boot(instance);
    },
    close,
  };
}
