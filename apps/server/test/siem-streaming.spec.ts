import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, loadTls } from '@keyhaven/http';
import type { HttpResponse } from '@keyhaven/testing';
import { MemberType, call, createOrg, join, newPeople, ok, type Org, type Person } from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';

/**
 * Streaming the stored events to a SIEM: an organization's webhook (signed batches to a local HTTP
 * receiver, a failure visible to the admins and retried, nothing lost or repeated once accepted,
 * private addresses refused) and the operator's syslog (RFC 5424 frames to a local server: over TCP
 * on the PostgreSQL run, over TLS with a private CA on the PGlite run).
 */

interface Delivery {
  readonly status: number;
  readonly body: string;
  readonly signature: string | undefined;
}
interface SyslogMessage {
  readonly pri: string;
  readonly msgid: string;
  readonly sd: string;
  readonly event: { id: string; type: number; organizationId: string | null };
}

const SECRET = 'a-signing-secret-of-some-length';
const RFC5424 = /^<(\d+)>1 (\S+) (\S+) keyhaven - (\d+) (\[keyhaven@32473 [^\]]*\]) (.*)$/s;

/** Waits (bounded) until `check` answers a value. */
async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeOnBackends('SIEM streaming', (backend) => {
  let server: BackedServer;
  let receiver: HttpServer;
  let syslog: TcpServer;
  const certDir = mkdtempSync(joinPath(tmpdir(), 'keyhaven-syslog-tls-'));
  const overTls = backend === 'pglite';
  let owner: Person;
  let admin: Person;
  let org: Org;
  let blockedOrg: Org;
  let failures = 1;
  const deliveries: Delivery[] = [];
  const syslogMessages: SyslogMessage[] = [];
  const syslogErrors: string[] = [];

  const send = (who: Person, method: 'GET' | 'PUT' | 'DELETE', orgId: string, json?: unknown): Promise<HttpResponse> =>
    call(server.http, who.token, method, `/api/organizations/${orgId}/siem-webhook`, json);
  const storeEvent = async (orgId: string, type: number): Promise<string> => {
    const id = randomUUID();
    await server.db.rows(
      `INSERT INTO event (id, type, organization_id, acting_user_id, device_type, ip_address, date)
       VALUES ($1, $2, $3, $4, 9, '192.0.2.8', now())`,
      [id, type, orgId, owner.userId],
    );
    return id;
  };

  const storeEvents = async (orgId: string, types: number[]): Promise<string[]> => {
    const ids = types.map(() => randomUUID());
    await server.db.rows(
      `INSERT INTO event (id, type, organization_id, acting_user_id, date)
       SELECT r.id, r.type, $2, $3, now() FROM unnest($1::uuid[], $4::int[]) WITH ORDINALITY AS r(id, type, n)
       ORDER BY r.n`,
      [ids, orgId, owner.userId, types],
    );
    return ids;
  };

  before(async () => {
    receiver = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = failures > 0 ? 500 : 200;
        if (failures > 0) failures--;
        const signature = req.headers['x-keyhaven-signature'];
        deliveries.push({
          status,
          body: Buffer.concat(chunks).toString('utf8'),
          signature: typeof signature === 'string' ? signature : undefined,
        });
        res.writeHead(status).end();
      });
    });
    const onSyslog = (socket: Socket): void => {
      let buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        // Octet counting: "<length> <message>", the length in bytes.
        for (;;) {
          const space = buffer.indexOf(0x20);
          if (space < 0) break;
          const length = Number(buffer.subarray(0, space).toString('ascii'));
          if (!Number.isInteger(length) || length <= 0) {
            syslogErrors.push(`bad frame length ${buffer.subarray(0, space).toString('ascii')}`);
            buffer = Buffer.alloc(0);
            break;
          }
          if (buffer.length < space + 1 + length) break;
          const text = buffer.subarray(space + 1, space + 1 + length).toString('utf8');
          buffer = buffer.subarray(space + 1 + length);
          const match = RFC5424.exec(text);
          if (!match) syslogErrors.push(`not RFC 5424: ${text}`);
          else
            syslogMessages.push({
              pri: match[1] ?? '',
              msgid: match[4] ?? '',
              sd: match[5] ?? '',
              event: JSON.parse(match[6] ?? '') as SyslogMessage['event'],
            });
        }
      });
    };
    // A certificate for localhost from a local CA the server is told to trust (SYSLOG_TLS_CA_FILE).
    const tls = overTls
      ? loadTls({ tls: 'on', dataDir: certDir, domain: 'https://localhost' }, createLogger('silent'))
      : undefined;
    syslog = tls ? createTlsServer({ cert: tls.cert, key: tls.key }, onSyslog) : createTcpServer(onSyslog);
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => syslog.listen(0, '127.0.0.1', resolve));
    server = await startAllInOne(backend, {
      SIEM_STREAM_INTERVAL_MS: '100',
      SIEM_RETRY_BASE_MS: '400',
      SIEM_RETRY_MAX_MS: '800',
      OUTBOUND_ALLOW_NETWORKS: '127.0.0.1/32',
      ...(overTls
        ? {
            SYSLOG_URL: `tls://localhost:${(syslog.address() as AddressInfo).port}`,
            SYSLOG_TLS_CA_FILE: joinPath(certDir, 'tls', 'ca.pem'),
          }
        : { SYSLOG_URL: `tcp://127.0.0.1:${(syslog.address() as AddressInfo).port}` }),
    });
    const people = await newPeople(server.http, [`owner-${backend}@example.com`, `admin-${backend}@example.com`]);
    [owner, admin] = [people[0] as Person, people[1] as Person];
    org = await createOrg(server.http, owner, 'Streamed');
    blockedOrg = await createOrg(server.http, owner, 'Blocked');
    await join(server.http, org, owner.token, admin, { type: MemberType.Admin });
  });

  after(async () => {
    await server.stop();
    receiver.close();
    syslog.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  test('only Owners set or remove the webhook; Admins see it; the body is validated; the secret is never shown', async () => {
    assert.equal((await send(owner, 'GET', org.id)).status, 404);
    const body = { url: `http://127.0.0.1:1/none`, secret: SECRET };
    assert.equal((await send(admin, 'PUT', org.id, body)).status, 404);
    assert.equal((await send(owner, 'PUT', org.id, { ...body, secret: 'short' })).status, 400);
    assert.equal((await send(owner, 'PUT', org.id, { ...body, url: 'ftp://127.0.0.1/x' })).status, 400);
    assert.equal((await send(owner, 'PUT', org.id, { ...body, url: 'http://user:pw@127.0.0.1/x' })).status, 400);
    const saved = ok(await send(owner, 'PUT', org.id, body), 'save') as Record<string, unknown>;
    assert.equal(saved['url'], body.url);
    assert.equal(saved['secretSet'], true);
    assert.ok(!JSON.stringify(saved).includes(SECRET));
    const seen = ok(await send(admin, 'GET', org.id), 'admin reads') as Record<string, unknown>;
    assert.ok(!JSON.stringify(seen).includes(SECRET));
    assert.equal(seen['enabled'], true);
    assert.equal((await send(admin, 'DELETE', org.id)).status, 404);
    assert.equal((await send(owner, 'DELETE', org.id)).status, 200);
    assert.equal((await send(owner, 'GET', org.id)).status, 404);
  });

  test('signed batches reach the receiver; a failed delivery is visible, retried with the same events, then delivered once', async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    // The setup's own events (members, collections) reach the event table through the relay in the
    // background; a webhook streams what is stored after it, so those are let through first.
    await eventually('the outbox to drain', async () => {
      const [row] = await server.db.rows<{ n: string }>('SELECT count(*) AS n FROM event_outbox');
      return Number(row?.n) === 0 ? true : undefined;
    });
    ok(await send(owner, 'PUT', org.id, { url, secret: SECRET }), 'save');
    // One statement: the three become visible together, so the first attempt carries all of them.
    const ids = await storeEvents(org.id, [1300, 1500, 1700]);
    await storeEvent(blockedOrg.id, 1600); // another organization's: never sent to this webhook

    const failed = await eventually('the failure to show', async () => {
      const state = ok(await send(admin, 'GET', org.id), 'state') as Record<string, unknown>;
      return state['lastFailure'] ? state : undefined;
    });
    assert.equal(failed['lastFailure'], 'the receiver answered HTTP 500');
    assert.equal(typeof failed['lastFailureDate'], 'string');

    const accepted = await eventually('a delivery', () => deliveries.find((d) => d.status === 200));
    const state = await eventually('the cursor to move', async () => {
      const s = ok(await send(admin, 'GET', org.id), 'state') as Record<string, unknown>;
      return s['deliveredCount'] === 3 ? s : undefined;
    });
    assert.equal(state['failedAttempts'], 0);
    assert.equal(state['lastFailure'], 'the receiver answered HTTP 500', 'the last failure stays visible');
    assert.equal(typeof state['lastDeliveryDate'], 'string');

    assert.equal(accepted.signature, `sha256=${createHmac('sha256', SECRET).update(accepted.body).digest('hex')}`);
    const batch = JSON.parse(accepted.body) as { organizationId: string; events: { id: string; type: number }[] };
    assert.equal(batch.organizationId, org.id);
    assert.deepEqual(
      batch.events.map((e) => [e.id, e.type]),
      [
        [ids[0], 1300],
        [ids[1], 1500],
        [ids[2], 1700],
      ],
    );
    const first = deliveries[0];
    assert.ok(first && first.status === 500, 'the first attempt failed');
    assert.deepEqual(
      (JSON.parse(first.body) as typeof batch).events.map((e) => e.id),
      ids,
      'the retry sent the same events',
    );
    // Nothing more arrives: the accepted events are not sent again.
    await sleep(600);
    assert.equal(deliveries.filter((d) => d.status === 200).length, 1);

    const later = await storeEvent(org.id, 1400);
    const next = await eventually('the next batch', () => (deliveries.length >= 3 ? deliveries[2] : undefined));
    assert.deepEqual(
      (JSON.parse(next.body) as typeof batch).events.map((e) => e.id),
      [later],
    );
  });

  test('a webhook on a private or metadata address is refused and the failure shown', async () => {
    ok(await send(owner, 'PUT', blockedOrg.id, { url: 'http://169.254.169.254/latest', secret: SECRET }), 'save');
    await storeEvent(blockedOrg.id, 1601);
    const state = await eventually('the refusal to show', async () => {
      const s = ok(await send(owner, 'GET', blockedOrg.id), 'state') as Record<string, unknown>;
      return s['lastFailure'] ? s : undefined;
    });
    assert.ok(Number(state['failedAttempts']) >= 1);
    assert.equal(state['deliveredCount'], 0);
  });

  test(`syslog over ${overTls ? 'TLS' : 'TCP'}: every stored event as an RFC 5424 frame (octet counting), once`, async () => {
    const ids = [await storeEvent(org.id, 1100), await storeEvent(blockedOrg.id, 1602)];
    const got = await eventually('the syslog frames', () => {
      const found = ids.map((id) => syslogMessages.filter((m) => m.event.id === id));
      return found.every((f) => f.length > 0) ? found : undefined;
    });
    assert.deepEqual(syslogErrors, []);
    for (const [index, frames] of got.entries()) {
      assert.equal(frames.length, 1, 'each event once');
      const message = frames[0];
      assert.ok(message);
      assert.equal(message.pri, '110');
      assert.equal(message.msgid, index === 0 ? '1100' : '1602');
      assert.match(message.sd, new RegExp(`id="${ids[index]}"`));
      assert.match(message.sd, /ipAddress="192\.0\.2\.8"/);
      assert.equal(message.event.organizationId, index === 0 ? org.id : blockedOrg.id);
    }
  });
});
