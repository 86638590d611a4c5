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
import { cipherKeyOf, decryptType2Utf8, encryptCipher, type Account } from '@keyhaven/vault-crypto';
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
    /** Every writer's account (API and CLI users alike), so the database can be read with its keys. */
    const accountOf = new Map<Writer, Account>();
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
      const apiWriters = [
        new ApiWriter('api-1', http, a1, liveToken, 250),
        new ApiWriter('api-2', http, a2, tokens[1] ?? '', 250),
      ];
      accountOf.set(apiWriters[0] as Writer, a1).set(apiWriters[1] as Writer, a2);
      writers.push(...apiWriters);
      writers.push(new LoginClient('login', http, loginAccount, 1000));
      // The three CLI users log in side by side (each login is a KDF and a sync): set-up time, not test time.
      const testBed = bed;
      const users = await Promise.all(
        [1, 2, 3].map(async (i) => {
          const email = `ha-bw-${String(i)}-${stamp}@example.com`;
          const account = await registerAccount(http, email, PASSWORD);
          const bw = new BwCli(testBed.caPath);
          bwClis.push(bw);
          await bw.ok(['config', 'server', testBed.url]);
          bw.session = (await bw.ok(['login', email, PASSWORD, '--raw'])).trim();
          const user = new BwServeWriter(`bw-${String(i)}`, bw, testBed.caPath, 400);
          accountOf.set(user, account);
          await user.serve(await freePort());
          // On its first start the CLI records its user key id on the server, then syncs, in the background.
          // A sync inside a long-lived `bw serve` can leave its in-memory view without items (BwServeWriter.vault),
          // so the writer runs on a second start, which has nothing left to do in the background.
          for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
            const [row] = await queryDatabase<{ user_key_id: string | null }>(
              testBed.databaseUrl,
              'SELECT user_key_id FROM app_user WHERE email = $1',
              [email],
            );
            if (row?.user_key_id) break;
            await sleep(250);
          }
          await sleep(2000);
          await user.close();
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
      // Retries of the whole run, set-up included (the phases above check only their own share).
      for (const w of writers.flatMap((x) => x.writes).filter((x) => x.statuses.length > 1)) {
        t.diagnostic(`retried: ${w.writer} ${w.kind} ${w.itemId ?? ''} ${w.statuses.join('/')}`);
      }
      let checked = 0;
      for (const writer of writers) {
        if (writer instanceof LoginClient) continue;
        const account = accountOf.get(writer);
        assert.ok(account);
        // The database, read with the writer's own keys: the ground truth for "acknowledged means stored".
        type Row = { id: string; name: string; key: string | null; deleted: boolean };
        const rows: Row[] = await queryDatabase<Row>(
          bed.databaseUrl,
          `SELECT c.id, c.data->>'name' AS name, c.data->>'key' AS key, c.deleted_date IS NOT NULL AS deleted
             FROM cipher c JOIN app_user u ON u.id = c.user_id WHERE u.email = $1`,
          [account.email],
        );
        // The CLI may encrypt under per-item keys; cipherKeyOf unwraps one when the row has it.
        const stored: Map<string, string> = new Map<string, string>(
          rows
            .filter((r) => !r.deleted)
            .map((r): [string, string] => [r.id, decryptType2Utf8(cipherKeyOf(account.userKey, r), r.name)]),
        );
        // A CLI user's own view after a forced sync must match it: the server serves what it stored.
        const seen = writer instanceof BwServeWriter ? await writer.vault() : undefined;
        const latest = writer.latest();
        for (const [id, write] of latest) {
          const name = write.names[write.acked ?? 0];
          const history = (): string =>
            JSON.stringify(
              writer.writes
                .filter((w) => w.itemId === id)
                .map((w) => `${w.kind} ${w.names.join('/')} ${w.statuses.join('/')} acked=${String(w.acked)}`),
            );
          if (stored.get(id) !== name) {
            // Say what the database holds for it, so a failure tells a lost write from a stale read.
            const row: unknown[] = await queryDatabase(
              bed.databaseUrl,
              'SELECT user_id, organization_id, creation_date, revision_date, deleted_date FROM cipher WHERE id = $1',
              [id],
            );
            assert.fail(
              `${writer.name}: item ${id} lost or not at its last acknowledged edit: database has ${String(stored.get(id))}, ` +
                `expected ${String(name)}; database row ${JSON.stringify(row)}; writes ${history()}`,
            );
          }
          if (seen !== undefined && seen.get(id) !== name) {
            // What the server's sync answers for it, next to what the CLI made of it.
            const token: string = (await passwordLogin(bed.http, account)).accessToken;
            const sync: { body: { ciphers: Record<string, unknown>[] } } = await bed.http.get<{
              ciphers: Record<string, unknown>[];
            }>('/api/sync', { token });
            const served: Record<string, unknown> | undefined = sync.body.ciphers.find((c) => c['id'] === id);
            const shape = served ? Object.keys(served).filter((k) => served[k] !== null) : 'absent';
            assert.fail(
              `${writer.name}: bw shows ${String(seen.get(id))} for item ${id}, stored as ${String(name)}, after a forced ` +
                `sync; the sync serves ${JSON.stringify(shape)} key=${String(served?.['key'])}; writes ${history()}`,
            );
          }
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
