import { describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig, serverConfigSchema } from '@keyhaven/config';
import { createLogger } from '@keyhaven/http';
import { bootApp } from '@keyhaven/runtime';
import {
  HttpClient,
  createScratchDatabase,
  freePort,
  skipUnlessService,
  startServer,
  testEnv,
} from '@keyhaven/testing';
import { allServices } from '../src/services';
import { Db } from './org-fixtures';

/**
 * The two databases the all-in-one server runs on, for the suites that must pass on both and read
 * the stored state between requests (to prove a refused request left nothing behind):
 *
 * - `postgres`: the compiled server as its own process on a scratch PostgreSQL database; the suite
 *   reads that database over its own connection.
 * - `pglite`: the embedded default. PGlite lives inside the process that opened it and has one
 *   connection, so nothing outside the server can read it while it runs. The suite therefore boots
 *   the all-in-one in its own process, exactly as `apps/server/src/main.ts` does (same config
 *   schema, same `bootApp`, every service, HTTPS on a real port), and reads through the server's own
 *   DataSource between requests: its statements queue for the one connection like any request's.
 *   Requests still go over HTTPS; only the database handle is shared.
 *
 * `TEST_BACKENDS=pglite` (or `postgres`) runs one of them locally; CI runs both.
 */
export type Backend = 'postgres' | 'pglite';

export const BACKENDS: readonly Backend[] = testEnv.TEST_BACKENDS;

/** A running all-in-one server and the database it writes. */
export interface BackedServer {
  readonly backend: Backend;
  readonly url: string;
  readonly caPath: string | undefined;
  readonly http: HttpClient;
  readonly db: Db;
  /** Its DATA_DIR (local blobs under `blobs/`). */
  readonly dataDir: string;
  /** The server's log so far (LOG_LEVEL warn unless the env says otherwise). */
  output(): string;
  /** Stops the server and removes its database. */
  stop(): Promise<void>;
}

/** Variables every suite server gets; `env` adds to them or overrides them. */
const SUITE_ENV = {
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  // Suites register and log in dozens of accounts from one address; the limits have tests of their own.
  LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
};

/**
 * The errors the server logged (a 500 logs its error id with the cause), written to the suite's
 * stderr when it stops, so a failing request can be read next to the failing test.
 */
function reportServerErrors(backend: Backend, log: string): void {
  const errors = log.split('\n').filter((line) => /"level":"(error|fatal)"/.test(line));
  if (errors.length === 0) return;
  const shown = errors.slice(0, 20).join('\n');
  process.stderr.write(`the server (${backend}) logged ${errors.length} error(s):\n${shown}\n`);
}

export function startAllInOne(backend: Backend, env: Record<string, string> = {}): Promise<BackedServer> {
  return backend === 'postgres' ? onPostgres(env) : onPglite(env);
}

async function onPostgres(env: Record<string, string>): Promise<BackedServer> {
  const database = await createScratchDatabase();
  try {
    const server = await startServer({ env: { ...SUITE_ENV, ...env, DATABASE_URL: database.url } });
    const client = new Client({ connectionString: database.url });
    await client.connect();
    return {
      backend: 'postgres',
      url: server.url,
      caPath: server.caPath,
      http: server.http,
      db: new Db(async (text, params) => (await client.query<Record<string, unknown>>(text, params)).rows),
      dataDir: server.dataDir,
      output: () => server.output(),
      stop: async () => {
        reportServerErrors('postgres', server.output());
        await client.end();
        await server.stop('SIGKILL');
        server.cleanup();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

async function onPglite(env: Record<string, string>): Promise<BackedServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyhaven-pglite-suite-'));
  const port = await freePort();
  const url = `https://localhost:${port}`;
  const config = loadConfig(serverConfigSchema, {
    ...SUITE_ENV,
    ...env,
    PORT: String(port),
    DATA_DIR: dataDir,
    DOMAIN: url,
    TLS: 'on',
  });
  let output = '';
  const log = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  try {
    const { app } = await bootApp({
      name: 'server',
      config,
      services: allServices,
      logger: createLogger(config.LOG_LEVEL, log),
    });
    const dataSource = app.get(DataSource);
    const caPath = join(dataDir, 'tls', 'ca.pem');
    return {
      backend: 'pglite',
      url,
      caPath,
      http: new HttpClient(url, caPath),
      db: new Db(async (text, params) => {
        const result: unknown = await dataSource.query(text, params);
        // TypeORM answers [rows, count] for UPDATE and DELETE; callers of those ignore the rows.
        return Array.isArray(result) ? (result as unknown[]) : [];
      }),
      dataDir,
      output: () => output,
      stop: async () => {
        reportServerErrors('pglite', output);
        await app.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A `describe` per backend (in BACKENDS), named with the backend; the body gets which one it runs on.
 * Locally, the PostgreSQL one is skipped with a reason when PostgreSQL is down; under CI it runs and fails.
 */
export function describeOnBackends(name: string, body: (backend: Backend) => void): void {
  for (const backend of BACKENDS) {
    describe(`${name} (${backend})`, async () => {
      const skip = backend === 'postgres' ? await skipUnlessService('postgres') : false;
      if (skip) test('needs PostgreSQL', { skip }, () => undefined);
      else body(backend);
    });
  }
}
