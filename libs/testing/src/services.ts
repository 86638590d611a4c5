import { connect } from 'node:net';
import { loadTestEnv } from '@keyhaven/config';

export type RealService = 'postgres' | 'redis' | 'rabbitmq' | 'mysql';

export const testEnv = loadTestEnv();

function urlFor(service: RealService): string {
  switch (service) {
    case 'postgres':
      return testEnv.TEST_DATABASE_URL;
    case 'redis':
      return testEnv.TEST_REDIS_URL;
    case 'rabbitmq':
      return testEnv.TEST_AMQP_URL;
    case 'mysql':
      return testEnv.TEST_MYSQL_URL;
  }
}

function defaultPort(service: RealService): number {
  switch (service) {
    case 'postgres':
      return 5432;
    case 'redis':
      return 6379;
    case 'rabbitmq':
      return 5672;
    case 'mysql':
      return 3306;
  }
}

function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => {
      done(false);
    });
    socket.once('connect', () => {
      done(true);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

/**
 * The value for node:test's `skip` option of a test that needs a real service.
 * Under CI it is always `false`: the test runs and fails loudly if the service is down.
 * Locally, an unreachable service skips the test with a reason.
 */
export async function skipUnlessService(...services: RealService[]): Promise<false | string> {
  if (testEnv.CI) return false;
  for (const service of services) {
    const url = new URL(urlFor(service));
    const port = url.port ? Number(url.port) : defaultPort(service);
    if (!(await reachable(url.hostname, port))) return `${service} is not reachable at ${url.host}`;
  }
  return false;
}

export const serviceUrls = {
  postgres: (): string => urlFor('postgres'),
  redis: (): string => urlFor('redis'),
  rabbitmq: (): string => urlFor('rabbitmq'),
  mysql: (): string => urlFor('mysql'),
};

/** Minimal view of node:test's TestContext, so suites can pass `t` in. */
interface SkippableContext {
  skip(message?: string): void;
}

/**
 * In a test body: `if (!(await requireServices(t, 'redis'))) return;`
 * Skips (locally) when a service is down; under CI never skips, so the test fails on its first call.
 */
export async function requireServices(t: SkippableContext, ...services: RealService[]): Promise<boolean> {
  const reason = await skipUnlessService(...services);
  if (reason === false) return true;
  t.skip(reason);
  return false;
}
