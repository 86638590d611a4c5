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

/**
 * identity and api as separate processes on PostgreSQL, Redis and RabbitMQ, behind an HTTPS prefix
 * router: registers the file's before/after hooks that start and stop it, and answers the target.
 */
export function splitStack(): () => CliTarget {
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let router: PrefixRouter;
  const services: ServerProcess[] = [];
  let target: CliTarget;

  before(async () => {
    database = await createScratchDatabase();
    const routerPort = await freePort();
    const domain = `https://localhost:${routerPort}`;
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: serviceUrls.redis(),
      AMQP_URL: serviceUrls.rabbitmq(),
      DOMAIN: domain,
      TRUST_PROXY: 'true',
    };
    const [identity, api] = await Promise.all([
      startServer({ app: 'identity', env }),
      startServer({ app: 'api', env }),
    ]);
    services.push(identity, api);
    // startServer's DOMAIN default is the app's own URL; the env above replaced it with the router's.
    router = await startPrefixRouter({ '/identity': identity.url, '/api': api.url }, routerPort);
    target = { url: router.url, caPath: router.caPath, http: new HttpClient(router.url, router.caPath) };
  });

  after(async () => {
    await router.close();
    await Promise.all(services.map((s) => s.stop()));
    services.forEach((s) => {
      s.cleanup();
    });
    await database.drop();
  });

  return () => target;
}
