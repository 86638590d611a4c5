import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createScratchDatabase,
  migrationsForTest,
  queryDatabase,
  requireServices,
  serviceUrls,
  startServer,
  type ServerProcess,
} from '@keyhaven/testing';

const SPLIT_APPS = [
  'api',
  'identity',
  'admin',
  'notifications',
  'events',
  'events-processor',
  'sso',
  'scim',
  'billing',
  'icons',
];

interface Health {
  status: string;
  checks: Record<string, { status: string; kind: string }>;
}

describe('split services on PostgreSQL, Redis and RabbitMQ', () => {
  let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  const running: ServerProcess[] = [];

  before(async () => {
    if (await requireServices({ skip: () => undefined }, 'postgres', 'redis', 'rabbitmq'))
      database = await createScratchDatabase();
  });

  after(async () => {
    await Promise.all(running.map((s) => s.stop('SIGKILL')));
    running.forEach((s) => {
      s.cleanup();
    });
    await database?.drop();
  });

  test('two apps started together on an empty database migrate it exactly once', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq')) || !database) return;
    const env = { DATABASE_URL: database.url, REDIS_URL: serviceUrls.redis(), AMQP_URL: serviceUrls.rabbitmq() };
    const pair = await Promise.all([startServer({ app: 'api', env }), startServer({ app: 'identity', env })]);
    running.push(...pair);
    const applied = await queryDatabase<{ name: string }>(
      database.url,
      'SELECT name FROM schema_migrations ORDER BY id',
    );
    assert.deepEqual(
      applied.map((r) => r.name),
      migrationsForTest(),
    );
  });

  test('each of the ten split apps boots on its own port and answers /alive and /healthz', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq')) || !database) return;
    const env = { DATABASE_URL: database.url, REDIS_URL: serviceUrls.redis(), AMQP_URL: serviceUrls.rabbitmq() };
    const remaining = SPLIT_APPS.filter(
      (app) => !running.some((s) => s.child.spawnargs.join(' ').includes(`/apps/${app}/`)),
    );
    // Two at a time: the machine has two cores and each boot compiles TypeScript.
    for (let i = 0; i < remaining.length; i += 2) {
      running.push(...(await Promise.all(remaining.slice(i, i + 2).map((app) => startServer({ app, env })))));
    }
    const ports = new Set(running.map((s) => s.port));
    assert.equal(ports.size, SPLIT_APPS.length);
    for (const server of running) {
      const alive = await server.http.get('/alive');
      assert.equal(alive.status, 200);
      const health = await server.http.get<Health>('/healthz');
      assert.equal(health.status, 200, health.text);
      assert.deepEqual(
        Object.fromEntries(Object.entries(health.body.checks).map(([name, c]) => [name, `${c.kind}:${c.status}`])),
        { database: 'postgres:ok', bus: 'rabbitmq:ok', cache: 'redis:ok', blobs: 'local:ok' },
      );
    }
  });
});
