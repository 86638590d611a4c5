import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PushType } from '@keyhaven/contracts';
import { type HttpResponse } from '@keyhaven/testing';
import {
  MemberType,
  assertApiError,
  call,
  createOrg,
  join,
  newPeople,
  ok,
  type Method,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { connectHub, type HubClient } from './notifications-clients';
import { startTxtDnsServer, type TxtDnsServer } from './txt-dns-server';

/**
 * Claimed domains (ENTERPRISE.md §5) on each database: the TXT value is the server's own, the
 * record is looked up for real through node:dns (pointed at a DNS server on loopback), a verified
 * domain turns Single Organization on and can be held by one organization only, the operator's
 * list verifies closed-network names without DNS, and the anonymous lookup finds the organization's
 * SSO identifier from an email address. Every change is in the event log.
 */
interface DomainJson {
  id: string;
  organizationId: string;
  txt: string;
  domainName: string;
  creationDate: string;
  nextRunDate: string;
  jobRunCount: number;
  verifiedDate: string | null;
  lastCheckedDate: string | null;
  object: string;
}

describeOnBackends('claimed domains', (backend) => {
  let server: BackedServer;
  let dns: TxtDnsServer;
  let owner: Person;
  let rival: Person;
  let member: Person;
  let org: Org;
  let rivalOrg: Org;
  let hub: HubClient;

  const send = <T>(who: Person | null, method: Method, path: string, json?: unknown): Promise<HttpResponse<T>> =>
    call<T>(server.http, who?.token, method, path, json);
  const domains = (o: Org): string => `/api/organizations/${o.id}/domain`;
  const eventTypes = async (orgId: string, domainName: string): Promise<number[]> =>
    (
      await server.db.rows<{ type: number }>(
        `SELECT type FROM event WHERE organization_id = $1 AND domain_name = $2
         UNION ALL SELECT (payload ->> 'type')::int FROM event_outbox
           WHERE payload ->> 'organizationId' = $1::text AND payload ->> 'domainName' = $2`,
        [orgId, domainName],
      )
    )
      .map((r) => r.type)
      .sort();

  before(async () => {
    dns = await startTxtDnsServer();
    server = await startAllInOne(backend, {
      LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
      CLAIMED_DOMAINS_DNS_SERVERS: dns.address,
      CLAIMED_DOMAINS_VERIFIED_WITHOUT_DNS: '*.corp.internal',
    });
    [owner, rival, member] = (await newPeople(server.http, [
      'owner@acme.test',
      'rival@other.test',
      'member@acme.test',
    ])) as [Person, Person, Person];
    org = await createOrg(server.http, owner, 'Acme');
    rivalOrg = await createOrg(server.http, rival, 'Other');
    await join(server.http, org, owner.token, member, { type: MemberType.User });
    hub = await connectHub({ baseUrl: server.url, caPath: server.caPath, protocol: 'json', token: member.token });
  });

  after(async () => {
    // Each even when the set-up failed half-way: an open DNS socket would keep the file running.
    await Promise.allSettled([(async () => dns.stop())(), (async () => hub.stop())(), (async () => server.stop())()]);
  });

  test('a domain is added with the server’s own TXT value; a duplicate, a bad name or a non-admin is refused', async () => {
    const added = ok(
      await send<DomainJson>(owner, 'POST', domains(org), { domainName: 'Acme.TEST', txt: 'bw=mine' }),
      'add domain',
    );
    assert.equal(added.domainName, 'acme.test');
    assert.match(added.txt, /^bw=[A-Za-z0-9]{44}$/);
    assert.equal(added.verifiedDate, null);
    assert.equal(added.jobRunCount, 0);
    assert.equal(added.object, 'organizationDomain');
    assert.equal(added.organizationId, org.id);

    const listed = ok(await send<{ data: DomainJson[] }>(owner, 'GET', domains(org)), 'list');
    assert.deepEqual(
      listed.data.map((d) => d.id),
      [added.id],
    );
    assert.equal(ok(await send<DomainJson>(owner, 'GET', `${domains(org)}/${added.id}`), 'get').txt, added.txt);

    const duplicate = await send(owner, 'POST', domains(org), { domainName: 'acme.test' });
    assertApiError(duplicate, 409);
    assert.match(duplicate.text, /A domain already exists for this organization vault\./);
    assertApiError(await send(owner, 'POST', domains(org), { domainName: 'not a domain' }), 400);
    // A plain member and another organization's owner see no such organization route.
    assertApiError(await send(member, 'GET', domains(org)), 404);
    assertApiError(await send(rival, 'POST', domains(org), { domainName: 'evil.test' }), 404);
    assertApiError(await send(rival, 'GET', `${domains(rivalOrg)}/${added.id}`), 404);
    assert.deepEqual(await eventTypes(org.id, 'acme.test'), [2000]);
  });

  test('verification looks the TXT record up: missing fails and is logged, present verifies and turns on Single Organization', async () => {
    const domain = ok(await send<{ data: DomainJson[] }>(owner, 'GET', domains(org)), 'list').data[0];
    assert.ok(domain);
    dns.records.set('acme.test', ['v=spf1 -all', 'bw=somebody-elses-value']);
    const failed = ok(await send<DomainJson>(owner, 'POST', `${domains(org)}/${domain.id}/verify`), 'verify');
    assert.equal(failed.verifiedDate, null);
    assert.equal(failed.jobRunCount, 1);
    assert.ok(failed.lastCheckedDate);

    dns.records.set('acme.test', ['v=spf1 -all', domain.txt]);
    const verified = ok(await send<DomainJson>(owner, 'POST', `${domains(org)}/${domain.id}/verify`), 'verify');
    assert.ok(verified.verifiedDate, 'verified once the record is published');
    assert.equal(verified.jobRunCount, 2);
    const again = await send(owner, 'POST', `${domains(org)}/${domain.id}/verify`);
    assertApiError(again, 409);
    assert.match(again.text, /Domain has already been verified\./);
    assert.deepEqual(await eventTypes(org.id, 'acme.test'), [2000, 2002, 2003]);

    const singleOrg = ok(
      await send<{ enabled: boolean }>(owner, 'GET', `/api/organizations/${org.id}/policies/3`),
      'single org policy',
    );
    assert.equal(singleOrg.enabled, true);
    await hub.next((n) => n.Type === PushType.SyncOrganizations);
  });

  test('a domain another organization verified cannot be claimed', async () => {
    const refused = await send(rival, 'POST', domains(rivalOrg), { domainName: 'acme.test' });
    assertApiError(refused, 409);
    assert.match(refused.text, /The domain is not available to be claimed\./);
    assert.deepEqual(await eventTypes(rivalOrg.id, 'acme.test'), []);
  });

  test('the operator’s list verifies closed-network names without DNS; others still need the record', async () => {
    const internal = ok(
      await send<DomainJson>(rival, 'POST', domains(rivalOrg), { domainName: 'eu.corp.internal' }),
      'add',
    );
    const verified = ok(
      await send<DomainJson>(rival, 'POST', `${domains(rivalOrg)}/${internal.id}/verify`),
      'verify internal',
    );
    assert.ok(verified.verifiedDate);
    const outside = ok(
      await send<DomainJson>(rival, 'POST', domains(rivalOrg), { domainName: 'corp.internal.example' }),
      'add',
    );
    const notVerified = ok(
      await send<DomainJson>(rival, 'POST', `${domains(rivalOrg)}/${outside.id}/verify`),
      'verify outside',
    );
    assert.equal(notVerified.verifiedDate, null);
  });

  test('the anonymous lookup finds the organization only once its SSO is enabled', async () => {
    const lookup = (email: string): Promise<HttpResponse<{ data: Record<string, unknown>[]; object: string }>> =>
      send(null, 'POST', '/api/organizations/domain/sso/verified', { email });
    assert.deepEqual(ok(await lookup('someone@acme.test'), 'lookup').data, []);

    await server.db.rows(`UPDATE organization SET identifier = 'acme-sso' WHERE id = $1`, [org.id]);
    await server.db.rows(
      `INSERT INTO sso_config (id, organization_id, enabled, config_type, member_decryption_type, data, creation_date, revision_date)
       VALUES ($1, $2, true, 1, 0, '{}'::jsonb, now(), now())`,
      [randomUUID(), org.id],
    );
    const found = ok(await lookup('Someone@ACME.test'), 'lookup');
    assert.equal(found.object, 'list');
    assert.deepEqual(found.data, [
      {
        organizationIdentifier: 'acme-sso',
        organizationName: 'Acme',
        domainName: 'acme.test',
        object: 'verifiedOrganizationDomainSsoDetails',
      },
    ]);
    assert.deepEqual(ok(await lookup('someone@unclaimed.test'), 'lookup').data, []);
    assertApiError(await lookup('no-at-sign'), 400);
  });

  test('removing a domain is logged; an unknown or foreign one is 404', async () => {
    const domain = ok(await send<{ data: DomainJson[] }>(owner, 'GET', domains(org)), 'list').data[0];
    assert.ok(domain);
    assertApiError(await send(rival, 'DELETE', `${domains(rivalOrg)}/${domain.id}`), 404);
    const removed = await send(owner, 'DELETE', `${domains(org)}/${domain.id}`);
    assert.equal(removed.status, 200, removed.text);
    assertApiError(await send(owner, 'POST', `${domains(org)}/${domain.id}/remove`), 404);
    assert.deepEqual(await eventTypes(org.id, 'acme.test'), [2000, 2001, 2002, 2003]);
    // Freed: the other organization may now claim it.
    ok(await send(rival, 'POST', domains(rivalOrg), { domainName: 'acme.test' }), 'claim freed domain');
  });
});
