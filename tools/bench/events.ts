/**
 * Event ingest benchmark, next to the floor of inserting the same rows straight into a copy of the
 * `event` table in batches, on the same database in the same run:
 *
 * - collect: events per second from `POST /events/collect` to rows in PostgreSQL's `event` table
 *   (validation, the visibility check, the insert). Target: at least 0.5x the floor.
 * - outbox: the path of the events the server observes itself, from rows in `event_outbox` (as
 *   EventRecorder writes them with the change they record) through the relay, the queue
 *   (`--rabbitmq` for RabbitMQ) and the processor's batched inserts to rows in `event`.
 *
 *   npm run bench:events                                # 20,000 events, all-in-one on PostgreSQL
 *   npm run bench:events -- --events 50000 --upload 500
 *   npm run bench:events -- --rabbitmq                  # through RabbitMQ (AMQP_URL) instead of in-process
 *
 * Loopback only; bounded loops; the scratch database is dropped at the end.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import {
  createScratchDatabase,
  passwordLogin,
  registerAccount,
  serviceUrls,
  startServer,
  type ServerProcess,
} from '@keyhaven/testing';
import { encryptCipher } from '@keyhaven/vault-crypto';
import type { EventRecord } from '@keyhaven/db';

interface Options {
  readonly events: number;
  readonly upload: number;
  readonly concurrency: number;
  readonly batch: number;
  readonly rabbitmq: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number, max: number): number => {
    const at = argv.indexOf(name);
    const parsed = at >= 0 ? Number(argv[at + 1]) : fallback;
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${name} needs a positive integer`);
    return Math.min(parsed, max);
  };
  return {
    events: value('--events', 20_000, 1_000_000),
    // The clients upload at most 1000 events per call (the route's limit).
    upload: value('--upload', 500, 1000),
    concurrency: value('--concurrency', 4, 64),
    batch: value('--batch', 200, 1000),
    rabbitmq: argv.includes('--rabbitmq'),
  };
}

async function count(pg: Client, table: string): Promise<number> {
  const { rows } = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? 0;
}

/** Uploads every event through the route, `concurrency` calls at a time. */
async function upload(server: ServerProcess, token: string, cipherId: string, options: Options): Promise<void> {
  const calls = Math.ceil(options.events / options.upload);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const call = next++;
      if (call >= calls) return;
      const size = Math.min(options.upload, options.events - call * options.upload);
      const date = new Date().toISOString();
      const body = Array.from({ length: size }, () => ({ type: 1107, cipherId, organizationId: null, date }));
      const res = await server.http.post('/events/collect', { token, json: body });
      if (res.status !== 200) throw new Error(`collect: ${String(res.status)} ${res.text}`);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}

/** Waits until `event` holds `expected` rows more than `baseline`; bounded. */
async function arrived(pg: Client, baseline: number, expected: number): Promise<void> {
  const deadline = Date.now() + 600_000;
  while ((await count(pg, 'event')) - baseline < expected) {
    if (Date.now() > deadline) throw new Error('events did not all arrive within 10 minutes');
    await sleep(20);
  }
}

/** Writes the events into `event_outbox` as EventRecorder does, a batch per statement; returns when all arrived. */
async function throughOutbox(pg: Client, userId: string, cipherId: string, options: Options): Promise<number> {
  const baseline = await count(pg, 'event');
  const started = performance.now();
  for (let done = 0; done < options.events; done += options.batch) {
    const size = Math.min(options.batch, options.events - done);
    const date = new Date().toISOString();
    // Every field, as the processor checks each message: one it could not store would be dead-lettered.
    const records: EventRecord[] = Array.from({ length: size }, () => ({
      id: randomUUID(),
      type: 1107,
      userId,
      organizationId: null,
      cipherId,
      collectionId: null,
      groupId: null,
      organizationUserId: null,
      policyId: null,
      sendId: null,
      providerId: null,
      installationId: null,
      domainName: null,
      actingUserId: userId,
      deviceType: 9,
      ipAddress: '127.0.0.1',
      systemUser: null,
      date,
    }));
    await pg.query(
      `INSERT INTO event_outbox (id, payload)
       SELECT (r ->> 'id')::uuid, r FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(r, n) ORDER BY n`,
      [JSON.stringify(records)],
    );
  }
  await arrived(pg, baseline, options.events);
  return performance.now() - started;
}

/** The floor: the same number of rows, batch by batch, straight into a copy of `event`. */
async function floor(pg: Client, userId: string, cipherId: string, options: Options): Promise<number> {
  await pg.query('CREATE TABLE bench_event_floor (LIKE event INCLUDING ALL)');
  const started = performance.now();
  for (let done = 0; done < options.events; done += options.batch) {
    const size = Math.min(options.batch, options.events - done);
    const date = new Date().toISOString();
    const rows = Array.from({ length: size }, () => ({
      id: randomUUID(),
      type: 1107,
      userId,
      cipherId,
      actingUserId: userId,
      deviceType: 9,
      ipAddress: '127.0.0.1',
      date,
    }));
    await pg.query(
      `INSERT INTO bench_event_floor (id, type, user_id, cipher_id, acting_user_id, device_type, ip_address, date)
       SELECT r."id", r."type", r."userId", r."cipherId", r."actingUserId", r."deviceType", r."ipAddress", r."date"
       FROM jsonb_to_recordset($1::jsonb) AS r("id" uuid, "type" integer, "userId" uuid, "cipherId" uuid,
         "actingUserId" uuid, "deviceType" smallint, "ipAddress" text, "date" timestamptz)`,
      [JSON.stringify(rows)],
    );
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const database = await createScratchDatabase();
  const pg = new Client({ connectionString: database.url });
  let server: ServerProcess | undefined;
  try {
    server = await startServer({
      env: {
        DATABASE_URL: database.url,
        ...(options.rabbitmq
          ? { AMQP_URL: serviceUrls.rabbitmq(), EVENTS_QUEUE: `keyhaven.events.bench-${randomUUID()}` }
          : {}),
        EVENTS_BATCH_SIZE: String(options.batch),
        LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
      },
    });
    await pg.connect();
    const account = await registerAccount(server.http, 'bench@events.test', 'correct horse battery staple');
    const session = await passwordLogin(server.http, account);
    const created = await server.http.post<{ id: string }>('/api/ciphers', {
      token: session.accessToken,
      json: encryptCipher(account.userKey, { type: 2, name: 'viewed', secureNote: { type: 0 } }),
    });
    if (created.status !== 200) throw new Error(`create item: ${String(created.status)}`);
    const cipherId = created.body.id;
    const { rows } = await pg.query<{ id: string }>('SELECT id FROM app_user LIMIT 1');
    const userId = rows[0]?.id ?? randomUUID();
    // Wait for the set-up's own events (the login, the item) so that they are not counted.
    await sleep(2000);
    const baseline = await count(pg, 'event');

    const started = performance.now();
    await upload(server, session.accessToken, cipherId, options);
    const uploadedMs = performance.now() - started;
    await arrived(pg, baseline, options.events);
    const ingestMs = performance.now() - started;
    const outboxMs = await throughOutbox(pg, userId, cipherId, options);
    const floorMs = await floor(pg, userId, cipherId, options);

    const rate = (ms: number): number => Math.round((options.events / ms) * 1000);
    console.log(
      `events: ${String(options.events)} in calls of ${String(options.upload)} (${String(options.concurrency)} at a time), ` +
        `batches of ${String(options.batch)}, bus ${options.rabbitmq ? 'RabbitMQ' : 'in-process'}, PostgreSQL`,
    );
    console.log(`  uploads accepted      ${uploadedMs.toFixed(0)} ms  (${String(rate(uploadedMs))} events/s)`);
    console.log(`  collect -> rows       ${ingestMs.toFixed(0)} ms  (${String(rate(ingestMs))} events/s)`);
    console.log(`  outbox -> rows        ${outboxMs.toFixed(0)} ms  (${String(rate(outboxMs))} events/s)`);
    console.log(`  floor (batched insert) ${floorMs.toFixed(0)} ms  (${String(rate(floorMs))} events/s)`);
    console.log(`  collect: ratio to the floor ${(floorMs / ingestMs).toFixed(2)}x  (target >= 0.5x)`);
    console.log(`  outbox:  ratio to the floor ${(floorMs / outboxMs).toFixed(2)}x`);
  } finally {
    await pg.end().catch(() => undefined);
    if (server) {
      await server.stop();
      server.cleanup();
    }
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
