/**
 * High availability, proven on the test bed (tools/ha/testbed.ts): two instances of every public service and of
 * the events processor from dist/, behind nginx with the configuration deploy/ ships, on PostgreSQL, Redis and
 * RabbitMQ. Under a steady load of real `bw` CLI users (through `bw serve`), API clients and logins:
 *
 * - kill -9 one api, one identity and one notifications instance (the one the live client is on): every write
 *   acknowledged, at most one retry each, the @microsoft/signalr client reconnects and keeps getting pushes for
 *   changes made through any api instance;
 * - tokens from either identity instance are honoured by every api instance;
 * - every instance restarted with SIGTERM, one instance of each service at a time: not one failed request, and
 *   the draining instance's readiness fails while it still answers;
 * - afterwards the database holds every acknowledged write, with the content of its last acknowledged edit.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  BwCli,
  HttpClient,
  freePort,
  passwordLogin,
  queryDatabase,
  registerAccount,
  skipUnlessService,
} from '@keyhaven/testing';
import { decryptType2Utf8, encryptCipher, type Account } from '@keyhaven/vault-crypto';
import { connectLiveClient, type LiveClient } from './hub-client';
import { startTestBed, waitReady, type Instance, type TestBed } from './testbed';
import { ApiWriter, BwServeWriter, LoginClient, settled, statsOf, type Write, type Writer } from './writers';

const PASSWORD = 'high availability password';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** nginx's fail_timeout in deploy/nginx/keyhaven.conf: after it, a restarted instance gets requests again. */
const NGINX_FAIL_TIMEOUT_MS = 3000;

void describe(
  'HA: split services behind nginx, instances killed and restarted under load',
  { timeout: 1_100_000 },
  () => {
    let bed: TestBed | undefined;
    let apiAccounts: Account[] = [];
    let live: LiveClient | undefined;
    let liveToken = '';
    // Checked once: under CI=true never a skip; locally a missing service skips the whole file.
    let missing: false | string = false;
    const writers: Writer[] = [];
    const bwUsers: BwServeWriter[] = [];
    const bwClis: BwCli[] = [];

    const writesOf = (from: Map<Writer, number>): Write[] => writers.flatMap((w) => w.since(from.get(w) ?? 0));
    const mark = (): Map<Writer, number> => new Map(writers.map((w) => [w, w.writes.length]));
    const waitForWrites = async (count: number): Promise<void> => {
      const start = mark();
      const deadline = Date.now() + 60_000;
      while (writesOf(start).filter((w) => w.acked !== undefined).length < count && Date.now() < deadline) {
        await sleep(100);
      }
    };

    /** A change made directly through one api instance (not nginx) reaches the live client. */
    const pushThrough = async (api: Instance): Promise<number> => {
      assert.ok(live);
      const account = apiAccounts[0];
      assert.ok(account);
      const started = Date.now();
      const json = encryptCipher(account.userKey, { type: 2, name: `via ${api.name}`, secureNote: { type: 0 } });
      const res = await new HttpClient(api.url).post<{ id: string }>('/api/ciphers', { json, token: liveToken });
      assert.equal(res.status, 200, `${api.name}: ${res.text}`);
      await live.pushFor(res.body.id, 15_000);
      return Date.now() - started;
    };

    const hubConnectionsOn = async (instance: Instance): Promise<number> => {
      const metrics = await new HttpClient(instance.url).get('/metrics', { parse: false });
      const line = /^keyhaven_hub_connections\{hub="user"\} (\d+)/m.exec(metrics.text);
      return Number(line?.[1] ?? 0);
    };

    before(async () => {
      missing = await skipUnlessService('postgres', 'redis', 'rabbitmq');
      if (missing !== false) return;
      bed = await startTestBed({
        replicas: 2,
        // Readiness fails a second before the listener closes, so the test sees the order.
        env: { SHUTDOWN_DELAY_MS: '1000' },
        log: (line) => process.stdout.write(`# ${line}\n`),
      });
      const http = bed.http;
      const stamp = Date.now().toString(36);
      apiAccounts = await Promise.all(
        [1, 2, 3].map((i) => registerAccount(http, `ha-api-${String(i)}-${stamp}@example.com`, PASSWORD)),
      );
      const [a1, a2, loginAccount] = apiAccounts as [Account, Account, Account];
      const tokens = await Promise.all([a1, a2].map(async (a) => (await passwordLogin(http, a)).accessToken));
      liveToken = tokens[0] ?? '';
      writers.push(
        new ApiWriter('api-1', http, a1, liveToken, 250),
        new ApiWriter('api-2', http, a2, tokens[1] ?? '', 250),
      );
      writers.push(new LoginClient('login', http, loginAccount, 1000));
      // The three CLI users log in side by side (each login is a KDF and a sync): set-up time, not test time.
      const testBed = bed;
      const users = await Promise.all(
        [1, 2, 3].map(async (i) => {
          const email = `ha-bw-${String(i)}-${stamp}@example.com`;
          await registerAccount(http, email, PASSWORD);
          const bw = new BwCli(testBed.caPath);
          bwClis.push(bw);
          await bw.ok(['config', 'server', testBed.url]);
          bw.session = (await bw.ok(['login', email, PASSWORD, '--raw'])).trim();
          const user = new BwServeWriter(`bw-${String(i)}`, bw, testBed.caPath, 400);
          await user.serve(await freePort());
          return user;
        }),
      );
      bwUsers.push(...users);
      writers.push(...users);
      live = await connectLiveClient(bed.url, bed.caPath, liveToken);
      for (const writer of writers) writer.start();
      await waitForWrites(10);
    });

    after(async () => {
      await Promise.all(writers.map((w) => w.stop()));
      await Promise.all(bwUsers.map((u) => u.close()));
      for (const bw of bwClis) bw.cleanup();
      await live?.stop().catch(() => undefined);
      await bed?.close();
    });

    void test('tokens issued by either identity instance are honoured by every api instance', async (t: TestContext) => {
      if (missing !== false) {
        t.skip(missing);
        return;
      }
      assert.ok(bed);
      const account = apiAccounts[2];
      assert.ok(account);
      for (const identity of bed.of('identity')) {
        const { accessToken } = await passwordLogin(new HttpClient(identity.url), account);
        for (const api of bed.of('api')) {
          const res = await new HttpClient(api.url).get('/api/accounts/profile', { token: accessToken });
          assert.equal(res.status, 200, `token from ${identity.name} refused by ${api.name}: ${res.text}`);
        }
      }
    });

    void test('kill -9 of an api, an identity and a notifications instance: nothing acknowledged is lost, one retry at most, live sync reconnects', async (t: TestContext) => {
      if (missing !== false) {
        t.skip(missing);
        return;
      }
      assert.ok(bed && live);
      const from = mark();
      const notifications = bed.of('notifications');
      const counts = await Promise.all(notifications.map(hubConnectionsOn));
      // The instance the live client is connected to: its connection must drop.
      const hubVictim = notifications[counts.findIndex((c) => c > 0)];
      assert.ok(hubVictim, `live client on no instance: ${counts.join(',')}`);
      const victims = [bed.of('api')[0], bed.of('identity')[0], hubVictim];
      const reconnectsBefore = live.reconnects;
      for (const victim of victims) {
        assert.ok(victim);
        const code = await bed.stop(victim, 'SIGKILL');
        assert.equal(code, null, `${victim.name} was not killed`);
        await waitForWrites(8);
      }
      // Every surviving api instance's changes reach the client, which found the other hub by itself.
      for (const api of bed.of('api').filter((i) => i.process.child.exitCode === null && !i.process.child.killed)) {
        await pushThrough(api);
      }
      assert.ok(live.reconnects > reconnectsBefore, 'the live client did not reconnect');
      // Restarted side by side: their boots overlap instead of adding up.
      const testBed = bed;
      await Promise.all(victims.map((victim) => (victim ? testBed.start(victim) : Promise.resolve())));
      await sleep(NGINX_FAIL_TIMEOUT_MS);
      for (const api of bed.of('api')) await pushThrough(api);
      const writes = writesOf(from);
      const stats = statsOf(writes);
      t.diagnostic(
        `kill phase: ${JSON.stringify(stats)}, live reconnects ${String(live.reconnects - reconnectsBefore)}`,
      );
      const failed = writes.filter((w) => settled(w) && w.acked === undefined);
      assert.deepEqual(
        failed.map((w) => `${w.writer} ${w.kind} ${w.statuses.join('/')}`),
        [],
        'operations failed twice',
      );
      assert.ok(stats.ops >= 30, `too little load: ${JSON.stringify(stats)}`);
    });

    void test('rolling restart with SIGTERM, one instance of each service at a time: zero failed requests', async (t: TestContext) => {
      if (missing !== false) {
        t.skip(missing);
        return;
      }
      assert.ok(bed && live);
      const testBed: TestBed = bed;
      const from = mark();
      const reconnectsBefore = live.reconnects;
      for (const round of [1, 2]) {
        const batch: Instance[] = testBed.instances.filter((i) => i.name.endsWith(`-${String(round)}`));
        const exits = batch.map((i) => testBed.stop(i, 'SIGTERM'));
        // Readiness fails first, while the process still answers (liveness stays up).
        const probe = batch.find((i) => i.app === 'api');
        assert.ok(probe);
        const probeHttp = new HttpClient(probe.url);
        let readiness = 0;
        for (const deadline = Date.now() + 5000; readiness !== 503 && Date.now() < deadline;) {
          readiness = (await probeHttp.get('/healthz')).status;
          if (readiness !== 503) await sleep(50);
        }
        assert.equal(readiness, 503, `${probe.name} still ready after SIGTERM`);
        assert.equal((await probeHttp.get('/alive')).status, 200, `${probe.name} not alive while draining`);
        const codes = await Promise.all(exits);
        assert.deepEqual(
          codes.map((c, k) => `${batch[k]?.name ?? ''}:${String(c)}`),
          batch.map((i) => `${i.name}:0`),
          'an instance did not exit cleanly after draining',
        );
        await Promise.all(batch.map((i) => testBed.start(i)));
        await Promise.all(batch.map((i) => waitReady(i)));
        await sleep(NGINX_FAIL_TIMEOUT_MS);
        await waitForWrites(5);
      }
      for (const api of bed.of('api')) await pushThrough(api);
      const writes = writesOf(from);
      const stats = statsOf(writes);
      t.diagnostic(
        `rolling phase: ${JSON.stringify(stats)}, live reconnects ${String(live.reconnects - reconnectsBefore)}`,
      );
      assert.deepEqual(
        writes.filter((w) => w.statuses.length > 1).map((w) => `${w.writer} ${w.kind} ${w.statuses.join('/')}`),
        [],
        'requests failed during the rolling restart',
      );
      assert.ok(stats.ops >= 30, `too little load: ${JSON.stringify(stats)}`);
      assert.ok(live.reconnects > reconnectsBefore, 'hub clients were not moved off the draining instances');
    });

    void test('every acknowledged write is in the database, with its last acknowledged content', async (t: TestContext) => {
      if (missing !== false) {
        t.skip(missing);
        return;
      }
      assert.ok(bed);
      await Promise.all(writers.map((w) => w.stop()));
      const failedNames = (w: Writer): Set<string> =>
        new Set(w.writes.flatMap((x) => x.names.filter((_n, i) => i !== x.acked)));
      let checked = 0;
      for (const [k, writer] of writers.entries()) {
        if (writer instanceof LoginClient) continue;
        let stored: Map<string, string>;
        if (writer instanceof BwServeWriter) {
          stored = await writer.vault();
        } else {
          const account = apiAccounts[k];
          assert.ok(account);
          const [user] = await queryDatabase<{ id: string }>(
            bed.databaseUrl,
            'SELECT id FROM app_user WHERE email = $1',
            [account.email],
          );
          const rows = await queryDatabase<{ id: string; name: string }>(
            bed.databaseUrl,
            "SELECT id, data->>'name' AS name FROM cipher WHERE user_id = $1",
            [user?.id],
          );
          stored = new Map(rows.map((r) => [r.id, decryptType2Utf8(account.userKey, r.name)]));
        }
        const latest = writer.latest();
        for (const [id, write] of latest) {
          const name = write.names[write.acked ?? 0];
          assert.equal(stored.get(id), name, `${writer.name}: item ${id} lost or not at its last acknowledged edit`);
          checked++;
        }
        // Anything else stored is an attempt that landed although its answer was lost (then retried).
        const extra = [...stored].filter(([id, name]) => !latest.has(id) && !name.startsWith('via '));
        const unexplained = extra.filter(([, name]) => !failedNames(writer).has(name));
        assert.deepEqual(unexplained, [], `${writer.name}: items stored that no acknowledged or failed write explains`);
        t.diagnostic(
          `${writer.name}: ${String(latest.size)} items acknowledged, all stored; ${String(extra.length)} extra`,
        );
      }
      assert.ok(checked > 50, `only ${String(checked)} items checked`);
    });
  },
);
