import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JobScheduler } from '@keyhaven/db';
import { GuardedFetcher } from '@keyhaven/outbound';
import { createDomainHarness, createOrganization, type DomainHarness } from '@keyhaven/testing';
import {
  EventStream,
  SiemWebhookRepository,
  SiemWebhooksService,
  WebhookDeliveryJob,
  frame,
  retryDelayMs,
  signBody,
  syslogMessage,
  type StreamEvent,
} from '../index';

/**
 * Webhook delivery without a server process: two delivery jobs (two "instances") on one store and
 * one lock service race for the same webhook, and every event reaches the receiver exactly once,
 * in order; plus the backoff schedule and the syslog wire format.
 */
let h: DomainHarness;
let receiver: Server;
let fetcher: GuardedFetcher;
const received: { body: string; signature: string }[] = [];
const SECRET = 'unit-test-signing-secret';

before(async () => {
  h = await createDomainHarness();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['x-keyhaven-signature']),
      });
      // Slow enough that the two jobs overlap.
      setTimeout(() => res.writeHead(204).end(), 30);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  fetcher = new GuardedFetcher({ allowNetworks: ['127.0.0.1/32'] });
});
after(async () => {
  await fetcher.close();
  receiver.close();
  await h.close();
});

/** The streaming providers on the harness's store (the harness mounts no events module). */
const repository = (): SiemWebhookRepository => new SiemWebhookRepository(h.db);
const stream = (): EventStream => new EventStream(h.db);

function job(): WebhookDeliveryJob {
  return new WebhookDeliveryJob(
    repository(),
    stream(),
    fetcher,
    { ...h.config, SIEM_BATCH_SIZE: 7, OUTBOUND_TIMEOUT_MS: 5000, SIEM_RETRY_BASE_MS: 10, SIEM_RETRY_MAX_MS: 20 },
    h.get(JobScheduler),
  );
}

describe('webhook delivery', () => {
  test('two instances racing deliver every event once, in order, each batch signed', async () => {
    const { org } = await createOrganization(h);
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/siem`;
    await new SiemWebhooksService(repository(), stream()).save(org.id, { url, secret: SECRET, enabled: true });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = randomUUID();
      ids.push(id);
      await h.db.execute('INSERT INTO event (id, type, organization_id, date) VALUES ($1, 1300, $2, now())', [
        id,
        org.id,
      ]);
    }
    const [a, b] = [job(), job()];
    for (let round = 0; round < 10; round++) await Promise.all([a.tick(), b.tick()]);
    const delivered = received.flatMap((r) => {
      assert.equal(r.signature, `sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`);
      assert.equal(r.signature, signBody(SECRET, r.body));
      const batch = JSON.parse(r.body) as { events: { id: string }[] };
      assert.ok(batch.events.length <= 7, 'batches hold at most SIEM_BATCH_SIZE events');
      return batch.events.map((e) => e.id);
    });
    assert.deepEqual(delivered, ids);
    const state = await repository().find(org.id);
    assert.equal(state?.deliveredCount, 30);
  });
});

describe('retries', () => {
  test('the delay doubles from the base and stops at the maximum', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 40].map((n) => retryDelayMs(n, 1000, 10_000)),
      [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000],
    );
  });
});

describe('syslog format', () => {
  const event: StreamEvent = {
    id: '0b7e1c3a-1111-4222-8333-944455556666',
    type: 1101,
    date: '2026-12-02T01:02:03.004Z',
    organizationId: null,
    userId: 'c3c2f3f0-0000-4000-8000-000000000001',
    actingUserId: 'c3c2f3f0-0000-4000-8000-000000000001',
    cipherId: null,
    collectionId: null,
    groupId: null,
    policyId: null,
    organizationUserId: null,
    sendId: null,
    installationId: null,
    providerId: null,
    domainName: 'a "quoted" ] name',
    deviceType: 9,
    ipAddress: '2001:db8::1',
  };

  test('RFC 5424 header, structured data with escaping, the event as JSON', () => {
    const message = syslogMessage(event, 'vault.example.com');
    assert.equal(
      message.slice(0, message.indexOf(' {')),
      '<110>1 2026-12-02T01:02:03.004Z vault.example.com keyhaven - 1101 [keyhaven@32473 type="1101" ' +
        'id="0b7e1c3a-1111-4222-8333-944455556666" actingUserId="c3c2f3f0-0000-4000-8000-000000000001" ' +
        'userId="c3c2f3f0-0000-4000-8000-000000000001" deviceType="9" ipAddress="2001:db8::1" ' +
        'domainName="a \\"quoted\\" \\] name"]',
    );
    assert.deepEqual(JSON.parse(message.slice(message.indexOf(' {') + 1)), event);
  });

  test('octet counting counts bytes, not characters', () => {
    assert.equal(frame('é').toString('utf8'), '2 é');
  });
});
