import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client } from 'pg';
import pino from 'pino';
import { connectRabbitMq, type EventBus } from '@keyhaven/bus';
import {
  HttpClient,
  createScratchDatabase,
  freePort,
  requireServices,
  serviceUrls,
  skipUnlessService,
  startPrefixRouter,
  startServer,
  startTcpProxy,
  type PrefixRouter,
  type ServerProcess,
  type TcpProxy,
} from '@keyhaven/testing';
import { createCollection, createOrg, newPerson, type Org, type Person } from './org-fixtures';

/**
 * Transport without loss on the split stack (identity, api and events-processor as their own
 * processes on PostgreSQL, Redis and RabbitMQ): events wait in the outbox or the queue while the
 * processor is down or the broker unreachable and arrive exactly once afterwards; poison goes to the dead-letter
 * queue and the processor keeps going. Each run has its own event queue (EVENTS_QUEUE), so other
 * suites' processors on the same broker never see these events.
 */

const run = promisify(execFile);

describe('events: nothing lost when the processor or RabbitMQ is down (split stack)', () => {
  const queue = `keyhaven.events.test-${randomBytes(4).toString('hex')}`;
  let missing: string | false = false;
  let database: { url: string; drop(): Promise<void> };
  let env: Record<string, string>;
  let identity: ServerProcess;
  let api: ServerProcess;
  let processor: ServerProcess | undefined;
  let router: PrefixRouter;
  // The services reach RabbitMQ through a link the test can cut: the machine's broker is shared with other
  // users and is never stopped.
  let link: TcpProxy;
  let http: HttpClient;
  let pg: Client;
  let owner: Person;
  let org: Org;

  const startProcessor = async (): Promise<ServerProcess> => startServer({ app: 'events-processor', env });

  /** Collection_Created events stored per collection id. */
  async function createdCounts(ids: readonly string[]): Promise<Map<string, number>> {
    const { rows } = await pg.query<{ id: string; n: number }>(
      `SELECT collection_id AS id, count(*)::int AS n FROM event WHERE type = 1300 AND collection_id = ANY($1::uuid[])
       GROUP BY collection_id`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  /** Waits (bounded) until every collection has its event, then asserts each exactly once. */
  async function assertEachOnce(ids: readonly string[], what: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    let counts = await createdCounts(ids);
    while (counts.size < ids.length && Date.now() < deadline) {
      await sleep(250);
      counts = await createdCounts(ids);
    }
    assert.equal(counts.size, ids.length, `${what}: ${String(counts.size)} of ${String(ids.length)} arrived`);
    // A redelivery or a second relay of the same rows would show up as a second row here.
    await sleep(1000);
    counts = await createdCounts(ids);
    assert.ok(
      [...counts.values()].every((n) => n === 1),
      `${what}: each exactly once`,
    );
  }

  const newCollections = async (count: number, prefix: string): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await createCollection(http, org, owner.token, `${prefix}-${String(i)}`));
    return ids;
  };

  before(async () => {
    missing = await skipUnlessService('postgres', 'redis', 'rabbitmq');
    if (missing !== false) return;
    database = await createScratchDatabase();
    const routerPort = await freePort();
    const broker = new URL(serviceUrls.rabbitmq());
    link = await startTcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
    env = {
      DATABASE_URL: database.url,
      REDIS_URL: serviceUrls.redis(),
      AMQP_URL: link.urlFor(serviceUrls.rabbitmq()),
      DOMAIN: `https://localhost:${String(routerPort)}`,
      EVENTS_QUEUE: queue,
      EVENTS_RELAY_INTERVAL_MS: '100',
      EVENTS_FLUSH_INTERVAL_MS: '100',
      LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
    };
    [identity, api] = await Promise.all([startServer({ app: 'identity', env }), startServer({ app: 'api', env })]);
    processor = await startProcessor();
    router = await startPrefixRouter({ '/identity': identity.url, '/api': api.url }, routerPort);
    http = new HttpClient(router.url, router.caPath);
    pg = new Client({ connectionString: database.url });
    await pg.connect();
    owner = await newPerson(http, 'owner@faults.test');
    org = await createOrg(http, owner, 'Faulty Co');
  });

  after(async () => {
    if (missing !== false) return;
    await pg.end();
    await router.close();
    await Promise.all([identity, api, processor].map((s) => (s ? s.stop() : Promise.resolve(null))));
    for (const s of [identity, api, processor]) s?.cleanup();
    await link.close();
    // The run's queues go with it; they are durable and would otherwise stay on the broker.
    await run('rabbitmqctl', ['-q', 'delete_queue', queue]).catch(() => undefined);
    await run('rabbitmqctl', ['-q', 'delete_queue', `${queue}.dead-letter`]).catch(() => undefined);
    await database.drop();
  });

  test('the processor killed while events are produced: every event stored exactly once after it restarts', async (t: TestContext) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const before = await newCollections(5, 'before');
    await processor?.stop('SIGKILL');
    processor?.cleanup();
    processor = undefined;
    const during = await newCollections(10, 'while-down');
    // Nothing moves them while no processor runs: they wait in the outbox (or the queue).
    assert.equal((await createdCounts(during)).size, 0, 'the events of writes made while the processor is down wait');
    processor = await startProcessor();
    await assertEachOnce([...before, ...during], 'after the processor restarted');
    const { rows } = await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM event_outbox');
    assert.equal(rows[0]?.n, 0, 'the outbox is drained');
  });

  test('RabbitMQ unreachable while the API takes writes: the writes succeed, their events arrive once it is back', async (t: TestContext) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    let during: string[] = [];
    try {
      await link.cut();
      during = await newCollections(5, 'broker-down');
      assert.equal(during.length, 5, 'every write succeeded');
      await sleep(500);
      assert.equal((await createdCounts(during)).size, 0, 'no event can travel while the broker is unreachable');
    } finally {
      await link.restore();
    }
    await assertEachOnce(during, 'after RabbitMQ came back');
  });

  test("the database refuses the processor's writes: events wait, are not dead-lettered, and arrive once it accepts them", async (t: TestContext) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    // A trigger that fails every insert into `event` (SQLSTATE P0001: not a data error, so "try again later").
    await pg.query(`CREATE FUNCTION refuse_event_writes() RETURNS trigger LANGUAGE plpgsql
                    AS $$ BEGIN RAISE EXCEPTION 'event writes refused by the test'; END $$`);
    await pg.query(`CREATE TRIGGER refuse_event_writes BEFORE INSERT ON event
                    FOR EACH ROW EXECUTE FUNCTION refuse_event_writes()`);
    let during: string[] = [];
    try {
      during = await newCollections(3, 'db-refuses');
      assert.equal(during.length, 3, 'the API writes succeed: only the event table refuses');
      await sleep(1500);
      assert.equal((await createdCounts(during)).size, 0, 'nothing stored while the database refuses');
    } finally {
      await pg.query('DROP TRIGGER IF EXISTS refuse_event_writes ON event');
      await pg.query('DROP FUNCTION IF EXISTS refuse_event_writes()');
    }
    // Dead-lettered events would never arrive: arriving once proves they were retried, not dropped.
    await assertEachOnce(during, 'after the database accepted writes again');
    assert.ok(processor, 'the processor kept running');
    assert.equal(processor.child.exitCode, null);
  });

  test('the same events delivered twice (in one batch and again later) are stored once each', async (t: TestContext) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const records = Array.from({ length: 3 }, () => ({
      id: randomUUID(),
      type: 1600,
      userId: null,
      organizationId: org.id,
      cipherId: null,
      collectionId: null,
      groupId: null,
      organizationUserId: null,
      policyId: null,
      sendId: null,
      providerId: null,
      installationId: null,
      domainName: null,
      actingUserId: owner.userId,
      deviceType: 25,
      ipAddress: '192.0.2.7',
      systemUser: null,
      date: new Date().toISOString(),
    }));
    const ids = records.map((r) => r.id);
    const rowsPerId = async (): Promise<Map<string, number>> => {
      const { rows } = await pg.query<{ id: string; n: number }>(
        'SELECT id, count(*)::int AS n FROM event WHERE id = ANY($1::uuid[]) GROUP BY id',
        [ids],
      );
      return new Map(rows.map((r) => [r.id, r.n]));
    };
    const bus: EventBus = await connectRabbitMq(serviceUrls.rabbitmq(), { logger: pino({ level: 'silent' }) });
    try {
      // Back to back: both copies land in the processor's same batch (one INSERT with each id twice).
      await bus.enqueue(queue, records);
      await bus.enqueue(queue, records);
      const deadline = Date.now() + 30_000;
      while ((await rowsPerId()).size < ids.length && Date.now() < deadline) await sleep(100);
      assert.equal((await rowsPerId()).size, ids.length, 'every event arrived');
      // A redelivery after they are stored: a batch of its own that meets the stored rows.
      await bus.enqueue(queue, records);
    } finally {
      await bus.close();
    }
    // Events written after the redelivery arrive, so the duplicates neither stalled nor poisoned the processor.
    await assertEachOnce(await newCollections(1, 'after-duplicates'), 'an event after the redelivery');
    const counts = await rowsPerId();
    assert.deepEqual(
      ids.map((id) => counts.get(id)),
      [1, 1, 1],
      'exactly one row per event id',
    );
    const { rows } = await pg.query<{ ip: string }>('SELECT ip_address AS ip FROM event WHERE id = ANY($1::uuid[])', [
      ids,
    ]);
    assert.ok(
      rows.every((r) => r.ip === '192.0.2.7'),
      'the rows are the events as sent',
    );
  });

  test('a poison message goes to the dead-letter queue and the processor keeps going', async (t: TestContext) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const bus: EventBus = await connectRabbitMq(serviceUrls.rabbitmq(), { logger: pino({ level: 'silent' }) });
    const dead: unknown[] = [];
    try {
      await bus.enqueue(queue, { not: 'a list of events' });
      await bus.enqueue(queue, [{ id: 'not-a-uuid', type: 'nope' }]);
      const afterPoison = await newCollections(2, 'after-poison');
      await assertEachOnce(afterPoison, 'events after the poison');
      const subscription = await bus.consume<{ reason: string; payload: unknown }>(`${queue}.dead-letter`, (m) => {
        dead.push(m.payload);
        return Promise.resolve();
      });
      const deadline = Date.now() + 20_000;
      while (dead.length < 2 && Date.now() < deadline) await sleep(100);
      await subscription.close();
    } finally {
      await bus.close();
    }
    assert.equal(dead.length, 2, 'both poison messages were dead-lettered');
    assert.ok(
      dead.every((d) => typeof (d as { reason?: unknown }).reason === 'string'),
      'each with the reason it could not be stored',
    );
    assert.ok(processor, 'the processor is still running');
    assert.equal(processor.child.exitCode, null);
  });
});
