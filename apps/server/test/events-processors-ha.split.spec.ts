import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import {
  HttpClient,
  createScratchDatabase,
  freePort,
  requireServices,
  serviceUrls,
  startPrefixRouter,
  startServer,
  type PrefixRouter,
  type ServerProcess,
} from '@keyhaven/testing';
import { call, createOrg, newPerson, ok, type Org, type Person } from './org-fixtures';

/**
 * The events processor's scheduled jobs with two processors on one PostgreSQL (issue 14): each job runs once per
 * period on one of them (counted in `job_run`); the SIEM webhook gets every event accepted exactly once; and when
 * the processor sending a batch is killed with SIGKILL in the middle of it (the receiver holds its request), the
 * other one takes the batch over at once (PostgreSQL advisory locks die with their connection: no lease to wait
 * out) and nothing is lost or accepted twice. The machine's RabbitMQ is used with an events queue of this run's own.
 */

const RETENTION_PERIOD_S = 2;
const BATCH = 5;

interface Delivery {
  readonly ids: string[];
  readonly status: number | 'held';
}

describe('events processor jobs across two processors', () => {
  const queue = `keyhaven.events.processors-${randomBytes(4).toString('hex')}`;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let servers: ServerProcess[] = [];
  let processors: ServerProcess[] = [];
  let router: PrefixRouter | undefined;
  let receiver: Server | undefined;
  let pg: Client;
  let owner: Person;
  let org: Org;
  const deliveries: Delivery[] = [];
  /** While set, the next delivery is held without an answer and this is called with its events. */
  let hold: ((ids: string[]) => void) | undefined;
  const held: ServerResponse[] = [];

  const owners = (): Map<string, ServerProcess> =>
    new Map(processors.map((p) => [`${hostname()}:${String(p.child.pid ?? -1)}`, p]));
  const jobRow = async (name: string): Promise<{ slot: number; runs: number; owner: string; finished: boolean }> => {
    const { rows } = await pg.query<{ slot: string; runs: string; owner: string; finished: boolean }>(
      'SELECT slot::text, runs::text, owner, finished_at IS NOT NULL AS finished FROM job_run WHERE name = $1',
      [name],
    );
    const row = rows[0];
    return row
      ? { slot: Number(row.slot), runs: Number(row.runs), owner: row.owner, finished: row.finished }
      : { slot: -1, runs: 0, owner: '', finished: false };
  };
  const currentSlot = async (periodS: number): Promise<number> => {
    const { rows } = await pg.query<{ ms: string }>(
      'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::text AS ms',
    );
    return Math.floor(Number(rows[0]?.ms) / (periodS * 1000));
  };
  /** Polls (bounded) until `check` answers something. */
  const eventually = async <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };
  const storeEvents = async (count: number): Promise<string[]> => {
    const ids = Array.from({ length: count }, () => randomUUID());
    // One statement: they become visible to the stream together.
    await pg.query(
      `INSERT INTO event (id, type, organization_id, acting_user_id, date)
       SELECT r.id, 1300, $2, $3, now() FROM unnest($1::uuid[]) WITH ORDINALITY AS r(id, n) ORDER BY r.n`,
      [ids, org.id, owner.userId],
    );
    return ids;
  };
  /** Event ids in accepted (2xx) deliveries, with how often each was accepted. */
  const accepted = (): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const d of deliveries) if (d.status === 200) for (const id of d.ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  };

  before(async () => {
    if (!(await requireServices({ skip: () => undefined }, 'postgres', 'redis', 'rabbitmq'))) return;
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: { id: string }[] };
        const ids = batch.events.map((e) => e.id);
        const onHold = hold;
        if (onHold) {
          hold = undefined;
          deliveries.push({ ids, status: 'held' });
          held.push(res);
          onHold(ids);
          return;
        }
        deliveries.push({ ids, status: 200 });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
    database = await createScratchDatabase();
    const routerPort = await freePort();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: serviceUrls.redis(),
      AMQP_URL: serviceUrls.rabbitmq(),
      DOMAIN: `https://localhost:${String(routerPort)}`,
      EVENTS_QUEUE: queue,
      EVENTS_RELAY_INTERVAL_MS: '100',
      EVENTS_FLUSH_INTERVAL_MS: '100',
      EVENTS_DAYS_RETAIN: '30',
      EVENTS_RETENTION_INTERVAL_SECONDS: String(RETENTION_PERIOD_S),
      SIEM_STREAM_INTERVAL_MS: '200',
      SIEM_BATCH_SIZE: String(BATCH),
      SIEM_RETRY_BASE_MS: '200',
      SIEM_RETRY_MAX_MS: '400',
      OUTBOUND_ALLOW_NETWORKS: '127.0.0.1/32',
    };
    // identity first: it applies the migrations the others then find.
    const identity = await startServer({ app: 'identity', env });
    const api = await startServer({ app: 'api', env });
    processors = await Promise.all([
      startServer({ app: 'events-processor', env }),
      startServer({ app: 'events-processor', env }),
    ]);
    servers = [identity, api, ...processors];
    router = await startPrefixRouter({ '/identity': identity.url, '/api': api.url }, routerPort);
    const http = new HttpClient(router.url, router.caPath);
    pg = new Client({ connectionString: database.url });
    await pg.connect();
    owner = await newPerson(http, `processors-${queue.slice(-8)}@example.com`);
    org = await createOrg(http, owner, 'Two Processors');
    // The set-up's own events are stored first: the webhook streams what is stored after it is saved.
    await eventually('the outbox to drain', async () => {
      const { rows } = await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM event_outbox');
      return rows[0]?.n === 0 ? true : undefined;
    });
    const url = `http://127.0.0.1:${String((receiver.address() as AddressInfo).port)}/hook`;
    ok(
      await call(http, owner.token, 'PUT', `/api/organizations/${org.id}/siem-webhook`, {
        url,
        secret: 'x'.repeat(32),
      }),
      'save the webhook',
    );
  });

  after(async () => {
    for (const res of held) res.destroy();
    if (database) await pg.end();
    await router?.close();
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    for (const s of servers) s.cleanup();
    receiver?.closeAllConnections();
    receiver?.close();
    await database?.drop();
  });

  test('each job runs once per period on one of the two; every event is accepted by the webhook exactly once', async (t: TestContext) => {
    if (!database) {
      t.skip('needs PostgreSQL, Redis and RabbitMQ');
      return;
    }
    // events-retention: settled in this period, then again three periods later; runs grow by the periods passed.
    const settled = async (): Promise<{ slot: number; runs: number; owner: string }> =>
      eventually('this period’s retention run', async () => {
        const [row, slot] = [await jobRow('events-retention'), await currentSlot(RETENTION_PERIOD_S)];
        return row.slot === slot && row.finished ? row : undefined;
      });
    const start = await settled();
    while ((await currentSlot(RETENTION_PERIOD_S)) < start.slot + 3) await sleep(200);
    const end = await settled();
    assert.ok(end.slot - start.slot >= 3, `${String(end.slot - start.slot)} periods observed`);
    assert.equal(end.runs - start.runs, end.slot - start.slot, 'events-retention ran more or less than once a period');
    assert.ok(owners().has(end.owner), `run by one of the two processors (${end.owner})`);

    const ids = await storeEvents(23);
    const counts = await eventually('every event accepted', () => {
      const now = accepted();
      return Promise.resolve(ids.every((id) => now.has(id)) ? now : undefined);
    });
    assert.deepEqual(
      ids.filter((id) => counts.get(id) !== 1),
      [],
      'an event was accepted more than once: two processors sent the same batch',
    );
    for (const d of deliveries) assert.ok(d.ids.length <= BATCH, 'a batch over SIEM_BATCH_SIZE');
  });

  test('the processor sending a batch is killed mid-batch: the other takes it over, nothing lost or accepted twice', async (t: TestContext) => {
    if (!database) {
      t.skip('needs PostgreSQL, Redis and RabbitMQ');
      return;
    }
    const heldIds = new Promise<string[]>((resolve) => {
      hold = resolve;
    });
    const ids = await storeEvents(12);
    const inFlight = await heldIds;
    assert.equal(inFlight.length, BATCH, 'the held request is a full batch');
    // Its sender is the owner of the unfinished siem-webhooks run.
    const run = await eventually('the held run', async () => {
      const row = await jobRow('siem-webhooks');
      return row.finished ? undefined : row;
    });
    const sender = owners().get(run.owner);
    assert.ok(sender, `the held batch is sent by one of the two processors (${run.owner})`);
    sender.child.kill('SIGKILL');
    await new Promise((r) => sender.child.once('exit', r));
    const survivor = processors.find((p) => p !== sender);
    assert.ok(survivor);

    const counts = await eventually('every event of the killed round accepted', () => {
      const now = accepted();
      return Promise.resolve(ids.every((id) => now.has(id)) ? now : undefined);
    });
    assert.deepEqual(
      ids.filter((id) => counts.get(id) !== 1),
      [],
      'an event was accepted more than once',
    );
    assert.ok(
      inFlight.every((id) => counts.get(id) === 1),
      'the batch whose answer the killed processor never saw was sent again and accepted once',
    );
    const after = await jobRow('siem-webhooks');
    assert.equal(after.owner, `${hostname()}:${String(survivor.child.pid ?? -1)}`, 'the survivor runs the job now');
    const { rows } = await pg.query<{ n: string }>(
      'SELECT delivered_count::text AS n FROM siem_webhook WHERE organization_id = $1',
      [org.id],
    );
    assert.equal(Number(rows[0]?.n), accepted().size, 'the cursor counts what the receiver accepted');
    assert.equal(survivor.child.exitCode, null);
  });
});
