import { after, before } from 'node:test';
import {
  HttpClient,
  createScratchDatabase,
  freePort,
  serviceUrls,
  startPrefixRouter,
  startServer,
  type PrefixRouter,
  type ServerProcess,
} from '@keyhaven/testing';
import type { CliTarget } from './bw-cli.suite';

/** Split apps sharing one scratch PostgreSQL database, the machine's Redis and RabbitMQ, and one DOMAIN. */
export interface SplitApps {
  readonly servers: ServerProcess[];
  readonly databaseUrl: string;
  /** Stops every app (with the given signal), removes their data dirs and drops the database. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the named apps, two at a time (the machine has two cores), in the order given. */
export async function startSplitApps(
  apps: readonly string[],
  domain: string,
  extraEnv: Record<string, string> = {},
): Promise<SplitApps> {
  const database = await createScratchDatabase();
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: serviceUrls.redis(),
    AMQP_URL: serviceUrls.rabbitmq(),
    DOMAIN: domain,
    ...extraEnv,
  };
  const servers: ServerProcess[] = [];
  for (let i = 0; i < apps.length; i += 2) {
    servers.push(...(await Promise.all(apps.slice(i, i + 2).map((app) => startServer({ app, env })))));
  }
  return {
    servers,
    databaseUrl: database.url,
    stop: async (signal) => {
      await Promise.all(servers.map((s) => s.stop(signal)));
      servers.forEach((s) => {
        s.cleanup();
      });
      await database.drop();
    },
  };
}

/**
 * identity and api as separate processes on PostgreSQL, Redis and RabbitMQ, behind an HTTPS prefix
 * router: registers the file's before/after hooks that start and stop it, and answers the target.
 */
export function splitStack(): () => CliTarget {
  let stack: SplitApps;
  let router: PrefixRouter;
  let target: CliTarget;

  before(async () => {
    const routerPort = await freePort();
    stack = await startSplitApps(['identity', 'api'], `https://localhost:${routerPort}`, { TRUST_PROXY: 'true' });
    const [identity, api] = stack.servers as [ServerProcess, ServerProcess];
    // startServer's DOMAIN default is the app's own URL; DOMAIN above is the router's.
    router = await startPrefixRouter({ '/identity': identity.url, '/api': api.url }, routerPort);
    target = { url: router.url, caPath: router.caPath, http: new HttpClient(router.url, router.caPath) };
  });

  after(async () => {
    await router.close();
    await stack.stop();
  });

  return () => target;
}
