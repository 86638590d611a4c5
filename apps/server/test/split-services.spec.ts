import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRabbitMq, type BusMessage } from '@keyhaven/bus';
import { PUSH_TOPIC, PushType, type PushMessage } from '@keyhaven/contracts';
import { createAccount, encryptCipher, encryptFolder } from '@keyhaven/vault-crypto';
import {
  HttpClient,
  passwordLogin,
  createScratchDatabase,
  migrationsForTest,
  queryDatabase,
  requireServices,
  serviceUrls,
  startServer,
  type ServerProcess,
} from '@keyhaven/testing';

/** One public URL for every service, as behind a load balancer: tokens name it as their issuer. */
const SHARED_DOMAIN = 'https://vault.keyhaven.test';
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
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: serviceUrls.redis(),
      AMQP_URL: serviceUrls.rabbitmq(),
      DOMAIN: SHARED_DOMAIN,
    };
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
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: serviceUrls.redis(),
      AMQP_URL: serviceUrls.rabbitmq(),
      DOMAIN: SHARED_DOMAIN,
    };
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

  test('vault changes made through the api service are published on RabbitMQ for the notifications service', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq')) || !database) return;
    const api = running.find((s) => s.child.spawnargs.join(' ').includes('/apps/api/'));
    const identity = running.find((s) => s.child.spawnargs.join(' ').includes('/apps/identity/'));
    assert.ok(api && identity, 'api and identity are running');
    const bus = await connectRabbitMq(serviceUrls.rabbitmq());
    const received: PushMessage[] = [];
    const subscription = await bus.subscribe<PushMessage>(PUSH_TOPIC, (message: BusMessage<PushMessage>) => {
      received.push(message.payload);
      return Promise.resolve();
    });
    try {
      const account = await createAccount({ email: `push-${Date.now()}@example.com`, password: 'push test password' });
      const registered = await identity.http.post('/identity/accounts/register', {
        json: account.registerFinishBody('', 'legacy'),
      });
      assert.equal(registered.status, 200, registered.text);
      // The identity app issues the token; the api app accepts it (keys are shared through the database).
      const session = await passwordLogin(new HttpClient(identity.url), account);
      const folder = await api.http.post<{ id: string }>('/api/folders', {
        token: session.accessToken,
        json: encryptFolder(account.userKey, 'Pushed'),
      });
      assert.equal(folder.status, 200, folder.text);
      const cipher = await api.http.post<{ id: string }>('/api/ciphers', {
        token: session.accessToken,
        json: encryptCipher(account.userKey, { type: 2, name: 'pushed note', secureNote: { type: 0 } }),
      });
      assert.equal(cipher.status, 200, cipher.text);
      const userId = JSON.parse(Buffer.from(session.accessToken.split('.')[1] ?? '', 'base64url').toString()) as {
        sub: string;
      };
      const deadline = Date.now() + 10_000;
      const mine = (): PushMessage[] => received.filter((m) => m.userId === userId.sub);
      while (mine().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        mine().map((m) => [m.type, m.payload['Id']]),
        [
          [PushType.SyncFolderCreate, folder.body.id],
          [PushType.SyncCipherCreate, cipher.body.id],
        ],
      );
    } finally {
      await subscription.close();
      await bus.close();
    }
  });
});
