/**
 * Dependency outages on the test bed (tools/ha/testbed.ts: api, identity, notifications and events-processor from
 * dist/ behind nginx with deploy/'s configuration), each with the behaviour deploy/README.md documents:
 *
 * - PostgreSQL stopped and started again: every request answers 503 with Retry-After (never 500, never a hang)
 *   while it is down, readiness fails, and the same processes serve again once it is back; nothing acknowledged
 *   before is lost.
 * - Redis down: credential endpoints fail closed (a login answers 503 instead of skipping its rate limit),
 *   everything else carries on (sync, writes, refresh, readiness 200 "degraded"); logins work again once it is back.
 * - RabbitMQ unreachable: writes succeed, their events wait in the outbox and arrive once each when it is back;
 *   their pushes wait in the push outbox and reach the live client then, and pushes flow again.
 *
 * The machine's PostgreSQL, Redis and RabbitMQ are shared by other users, so the faults are made on private
 * copies: a PostgreSQL cluster and a redis-server of this test's own, and a TCP link to RabbitMQ that is cut.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  HttpClient,
  passwordLogin,
  queryDatabase,
  registerAccount,
  serviceUrls,
  skipUnlessService,
  startPrivatePostgres,
  startPrivateRedis,
  startTcpProxy,
  type HttpResponse,
  type PrivatePostgres,
  type PrivateRedis,
  type Session,
  type TcpProxy,
} from '@keyhaven/testing';
import { PushType } from '@keyhaven/contracts';
import { encryptCipher, type Account } from '@keyhaven/vault-crypto';
import { connectLiveClient, type LiveClient } from './hub-client';
import { startTestBed, type TestBed } from './testbed';

const PASSWORD = 'outage test password';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const USER_LOGGED_IN = 1000;

/** Repeats `attempt` (bounded) until `done` holds for its answer; the last answer either way. */
async function until<T>(attempt: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch((error: unknown) => error as T);
    if (done(value) || Date.now() > deadline) return value;
    await sleep(250);
  }
}

const statusOf = (r: unknown): number | string =>
  r instanceof Error ? r.message : ((r as HttpResponse | undefined)?.status ?? 'none');

void describe('HA: dependency outages on the test bed', { timeout: 900_000 }, () => {
  let missing: false | string = false;
  let pg: PrivatePostgres | undefined;
  let redis: PrivateRedis | undefined;
  let amqp: TcpProxy | undefined;
  let bed: TestBed | undefined;
  let account: Account;
  let session: Session;

  const http = (): HttpClient => {
    assert.ok(bed);
    return bed.http;
  };
  const createItem = (name: string): Promise<HttpResponse<{ id: string }>> =>
    http().post<{ id: string }>('/api/ciphers', {
      json: encryptCipher(account.userKey, { type: 2, name, secureNote: { type: 0 } }),
      token: session.accessToken,
    });
  const login = (): Promise<HttpResponse> =>
    http().post('/identity/connect/token', {
      form: {
        scope: 'api offline_access',
        client_id: 'cli',
        deviceType: '25',
        // passwordLogin's device: a known one, so no new-device verification.
        deviceIdentifier: '6d9a8f8e-1f8c-4b0e-9a51-6f1f3c7d1a20',
        deviceName: 'linux',
        grant_type: 'password',
        username: account.email,
        password: account.masterPasswordHash,
      },
    });
  const refresh = (): Promise<HttpResponse> =>
    http().post('/identity/connect/token', {
      form: { grant_type: 'refresh_token', client_id: 'cli', refresh_token: session.refreshToken },
    });
  const alive = (): string[] =>
    (bed?.instances ?? []).filter((i) => i.process.child.exitCode !== null).map((i) => i.name);
  const readiness = async (app: string): Promise<{ status: number; body: unknown }> => {
    const instance = bed?.of(app)[0];
    assert.ok(instance);
    const res = await new HttpClient(instance.url).get('/healthz');
    return { status: res.status, body: res.body };
  };

  before(async () => {
    missing = await skipUnlessService('rabbitmq');
    if (missing !== false) return;
    pg = await startPrivatePostgres();
    redis = await startPrivateRedis();
    const broker = new URL(serviceUrls.rabbitmq());
    amqp = await startTcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
    bed = await startTestBed({
      replicas: 1,
      apps: ['api', 'identity', 'notifications', 'events-processor'],
      env: {
        DATABASE_URL: pg.url,
        REDIS_URL: redis.url,
        AMQP_URL: amqp.urlFor(serviceUrls.rabbitmq()),
        EVENTS_RELAY_INTERVAL_MS: '100',
        EVENTS_FLUSH_INTERVAL_MS: '100',
      },
      log: (line) => process.stdout.write(`# ${line}\n`),
    });
    account = await registerAccount(bed.http, `outages-${Date.now().toString(36)}@example.com`, PASSWORD);
    session = await passwordLogin(bed.http, account);
  });

  after(async () => {
    await bed?.close();
    await amqp?.close();
    await redis?.stop();
    await pg?.destroy();
  });

  void test('PostgreSQL stopped and started: 503 while it is down, the same processes serve again afterwards', async (t: TestContext) => {
    if (missing !== false) {
      t.skip(missing);
      return;
    }
    assert.ok(pg && bed);
    const before = await createItem('before the database restart');
    assert.equal(before.status, 200, before.text);
    await pg.stop();
    try {
      const answers = {
        write: await createItem('while the database is down').catch((e: unknown) => e),
        sync: await http()
          .get('/api/sync', { token: session.accessToken })
          .catch((e: unknown) => e),
        login: await login().catch((e: unknown) => e),
        prelogin: await http()
          .post('/identity/accounts/prelogin', { json: { email: account.email } })
          .catch((e: unknown) => e),
      };
      for (const [what, answer] of Object.entries(answers)) {
        assert.equal(statusOf(answer), 503, `${what} while PostgreSQL is down: ${(answer as HttpResponse).text}`);
        assert.ok((answer as HttpResponse).headers['retry-after'], `${what}: 503 without Retry-After`);
      }
      assert.equal((await readiness('api')).status, 503, 'api still ready without its database');
    } finally {
      await pg.start();
    }
    // The pools reconnect by themselves: no instance restarted or exited.
    const after = await until(
      () => createItem('after the database restart'),
      (r) => statusOf(r) === 200,
    );
    assert.equal(statusOf(after), 200, `writes did not recover: ${String(statusOf(after))}`);
    assert.equal(statusOf(await until(login, (r) => statusOf(r) === 200)), 200, 'logins did not recover');
    assert.deepEqual(alive(), [], 'an instance exited during the database outage');
    const sync = await http().get<{ ciphers: { id: string }[] }>('/api/sync', { token: session.accessToken });
    assert.equal(sync.status, 200);
    const ids = new Set(sync.body.ciphers.map((c) => c.id));
    assert.ok(ids.has(before.body.id), 'the write acknowledged before the outage is gone');
    assert.ok(ids.has((after as HttpResponse<{ id: string }>).body.id));
  });

  void test('Redis down: logins fail closed with 503, everything else carries on; logins return with Redis', async (t: TestContext) => {
    if (missing !== false) {
      t.skip(missing);
      return;
    }
    assert.ok(redis && bed);
    await redis.stop();
    try {
      // The credential endpoints' limits live in Redis: without them the answer is a clear 503, not an unlimited try.
      const refused = await login();
      assert.equal(refused.status, 503, `login without its rate limit: ${refused.text}`);
      assert.ok(refused.headers['retry-after'], 'login 503 without Retry-After');
      assert.equal((refused.body as { error?: string }).error, 'server_error', refused.text);
      const prelogin = await http().post('/identity/accounts/prelogin', { json: { email: account.email } });
      assert.equal(prelogin.status, 503, `prelogin without its rate limit: ${prelogin.text}`);
      // Everything else: the per-user budgets of syncs and writes fail open, tokens and the vault are in PostgreSQL.
      const write = await createItem('while Redis is down');
      assert.equal(write.status, 200, `write: ${write.text}`);
      const sync = await http().get('/api/sync', { token: session.accessToken });
      assert.equal(sync.status, 200, `sync: ${sync.text}`);
      const refreshed = await refresh();
      assert.equal(refreshed.status, 200, `refresh: ${refreshed.text}`);
      session = { ...session, refreshToken: String((refreshed.body as Record<string, unknown>)['refresh_token']) };
      const ready = await readiness('identity');
      assert.equal(ready.status, 200, 'identity taken out of the load balancer for a Redis outage');
      assert.equal((ready.body as { status?: string }).status, 'degraded');
    } finally {
      await redis.start();
    }
    const back = await until(login, (r) => statusOf(r) === 200);
    assert.equal(statusOf(back), 200, 'logins did not return with Redis');
    assert.equal((await readiness('identity')).status, 200);
    assert.deepEqual(alive(), [], 'an instance exited during the Redis outage');
  });

  void test('RabbitMQ unreachable: writes succeed, events and pushes wait in their outboxes and arrive once it is back', async (t: TestContext) => {
    if (missing !== false) {
      t.skip(missing);
      return;
    }
    assert.ok(amqp && bed && pg);
    const databaseUrl = pg.url;
    const [user] = await queryDatabase<{ id: string }>(databaseUrl, 'SELECT id FROM app_user WHERE email = $1', [
      account.email,
    ]);
    assert.ok(user);
    const loginEvents = async (): Promise<number> =>
      (
        await queryDatabase<{ n: number }>(
          databaseUrl,
          'SELECT count(*)::int AS n FROM event WHERE type = $1 AND user_id = $2',
          [USER_LOGGED_IN, user.id],
        )
      )[0]?.n ?? 0;
    // Events of earlier tests' logins settle first.
    let settled = await loginEvents();
    for (let i = 0; i < 40; i++) {
      await sleep(250);
      const now = await loginEvents();
      if (now === settled) break;
      settled = now;
    }
    const pushesWaiting = async (): Promise<number> =>
      (await queryDatabase<{ n: number }>(databaseUrl, 'SELECT count(*)::int AS n FROM push_outbox'))[0]?.n ?? -1;
    let writtenDuringCut = '';
    const live: LiveClient = await connectLiveClient(bed.url, bed.caPath, session.accessToken);
    try {
      const first = await createItem('pushed before the cut');
      await live.pushFor(first.body.id, 15_000);
      await amqp.cut();
      let during = 0;
      try {
        for (let i = 0; i < 3; i++) {
          const res = await login();
          assert.equal(res.status, 200, `login while RabbitMQ is unreachable: ${res.text}`);
          during++;
        }
        const write = await createItem('written while RabbitMQ is unreachable');
        assert.equal(write.status, 200, `write: ${write.text}`);
        writtenDuringCut = write.body.id;
        // Its push waits out the publish timeout (10 s), then waits in the push outbox.
        const parked = await until(pushesWaiting, (n) => n >= 1, 30_000);
        assert.ok(parked >= 1, 'the push of a write made while RabbitMQ was unreachable is not in the outbox');
        assert.equal(await loginEvents(), settled, 'an event travelled although the broker was unreachable');
        const waiting = await queryDatabase<{ n: number }>(databaseUrl, 'SELECT count(*)::int AS n FROM event_outbox');
        assert.ok((waiting[0]?.n ?? 0) >= during, `events not waiting in the outbox: ${JSON.stringify(waiting)}`);
        assert.equal((await readiness('api')).status, 200, 'api taken out of the load balancer for a bus outage');
      } finally {
        await amqp.restore();
      }
      // The push made during the outage arrives through the outbox once the bus is back and settled.
      const late = await live.pushFor(writtenDuringCut, 60_000);
      assert.equal(late.Type, PushType.SyncCipherCreate);
      assert.equal(await until(pushesWaiting, (n) => n === 0), 0, 'the push outbox did not drain');
      const arrived = await until(loginEvents, (n) => n >= settled + during);
      assert.equal(arrived, settled + during, 'the events of the outage did not arrive');
      await sleep(1000);
      assert.equal(await loginEvents(), settled + during, 'an event of the outage arrived twice');
      // Pushes resume without anyone reconnecting by hand.
      const pushed = await until(
        async () => {
          const res = await createItem('pushed after the cut');
          await live.pushFor(res.body.id, 5000);
          return true;
        },
        (ok) => ok,
      );
      assert.equal(pushed, true, `pushes did not resume: ${String(pushed)}`);
      assert.deepEqual(alive(), [], 'an instance exited during the RabbitMQ outage');
    } finally {
      await live.stop().catch(() => undefined);
    }
  });
});
