import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inheritedEnvironment } from '@keyhaven/config';
import { HttpClient } from './https-client';

export const repoRoot = resolve(__dirname, '../../..');

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        done(port);
      });
    });
  });
}

export interface StartOptions {
  /** `server` (all-in-one, default) or one of the split apps. */
  readonly app?: string;
  readonly env?: Record<string, string>;
  /** Reuse a data directory (restart tests); a fresh temp dir otherwise. */
  readonly dataDir?: string;
  readonly port?: number;
  readonly tls?: boolean;
  readonly waitForAlive?: boolean;
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly caPath: string | undefined;
  readonly http: HttpClient;
  readonly child: ChildProcess;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Removes the data dir if this harness created it. */
  cleanup(): void;
}

/**
 * The compiled entry of an app, as production runs it (`npm run build`; the test runner builds when dist/ is stale).
 * `server` is the all-in-one.
 */
export function compiledEntry(app: string): string {
  const entry = join(repoRoot, 'dist', 'apps', app, 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run \`npm run build\` (npm test builds it)`);
  return entry;
}

/** Variables of the developer's shell that would silently switch adapters under a test. */
const ADAPTER_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'AMQP_URL',
  'S3_ENDPOINT',
  'S3_BUCKET',
  'SMTP_HOST',
  'PORT',
  'DATA_DIR',
  'DOMAIN',
];

/** Boots an app as a real process, as an operator would, and waits until it answers /alive. */
export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const app = options.app ?? 'server';
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), `keyhaven-${app}-`));
  const port = options.port ?? (await freePort());
  const tls = options.tls ?? app === 'server';
  const url = `${tls ? 'https' : 'http'}://localhost:${port}`;
  const env = inheritedEnvironment(ADAPTER_VARIABLES);
  Object.assign(
    env,
    {
      PORT: String(port),
      DATA_DIR: dataDir,
      DOMAIN: url,
      LOG_LEVEL: 'warn',
      TLS: tls ? 'on' : 'off',
      HOST: '127.0.0.1',
      // Suites register and log in dozens of accounts from one address; the limits have tests of their own.
      LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
      // Suites sync and import in bursts; the per-user limits on expensive calls have a test of their own.
      SYNC_CONCURRENT_PER_USER: '100000',
      SYNC_PER_MINUTE_PER_USER: '100000',
      EXPENSIVE_CALLS_CONCURRENT_PER_USER: '100000',
      EXPENSIVE_CALLS_PER_MINUTE_PER_USER: '100000',
      WRITES_PER_MINUTE_PER_USER: '100000',
      // The harness's own client keeps connections alive for 5 s: a stop would wait for them. The drain has its
      // own test (tools/ha), which sets it.
      SHUTDOWN_DRAIN_MS: '0',
    },
    options.env,
  );
  const child = spawn(process.execPath, [compiledEntry(app)], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      done(code);
    }),
  );
  const caPath = tls ? join(dataDir, 'tls', 'ca.pem') : undefined;
  const handle: ServerProcess = {
    url,
    port,
    dataDir,
    caPath,
    get http(): HttpClient {
      return new HttpClient(url, caPath);
    },
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
    cleanup: () => {
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (options.waitForAlive === false) return handle;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${app} exited with ${child.exitCode} before it was up:\n${output}`);
    try {
      const res = await handle.http.get('/alive');
      if (res.status === 200) return handle;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${app} did not come up within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs an app to completion (for boot failures): resolves with exit code and output. */
export async function runToExit(
  options: StartOptions & { timeoutMs?: number },
): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const server = await startServer({ ...options, waitForAlive: false });
  const timer = setTimeout(() => server.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const code = await new Promise<number | null>((done) => {
    if (server.child.exitCode !== null) done(server.child.exitCode);
    else
      server.child.once('exit', (c) => {
        done(c);
      });
  });
  clearTimeout(timer);
  server.cleanup();
  return { code, output: server.output(), ms: Date.now() - started };
}
