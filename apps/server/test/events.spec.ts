import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpResponse } from '@keyhaven/testing';
import {
  type Db,
  MemberType,
  assertApiError,
  call,
  createCollection,
  createOrg,
  createOrgItem,
  createPersonalItem,
  join,
  newPeople,
  ok,
  type Member,
  type Method,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { allEventPages, eventually, type EventJson, type EventList } from './event-fixtures';

/**
 * The audit log end to end on the all-in-one: actions through the API produce Bitwarden's events
 * (outbox → in-process queue → events consumer → `event`), the query routes page through them with
 * continuation tokens, and `events/collect` keeps only what the caller may report.
 */

describeOnBackends('the event log', (backend) => {
  let server: BackedServer;
  let db: Db;
  let owner: Person;
  let member: Member;
  let stranger: Person;
  let org: Org;
  let orgItem: string;
  let strangerItem: string;

  const send = <T = unknown>(who: Person, method: Method, path: string, json?: unknown): Promise<HttpResponse<T>> =>
    call<T>(server.http, who.token, method, path, json);

  const storedTypes = async (sql: string, params: unknown[]): Promise<number[]> =>
    (await db.rows<{ type: number }>(`SELECT type FROM event WHERE ${sql} ORDER BY date, type`, params)).map(
      (r) => r.type,
    );

  const allPages = (who: Person, path: string): Promise<{ events: EventJson[]; pages: number }> =>
    allEventPages((url) => send<EventList>(who, 'GET', url), path, 50);

  before(async () => {
    server = await startAllInOne(backend);
    db = server.db;
    [owner, stranger] = (await newPeople(server.http, ['owner@events.test', 'stranger@events.test'])) as [
      Person,
      Person,
    ];
    const [memberPerson] = await newPeople(server.http, ['member@events.test']);
    if (!memberPerson) throw new Error('no member');
    org = await createOrg(server.http, owner, 'Audited Co');
    member = await join(server.http, org, owner.token, memberPerson, {
      type: MemberType.User,
      collections: [{ id: org.defaultCollection }],
    });
    orgItem = await createOrgItem(server.http, org, owner.token, 'router', [org.defaultCollection]);
    strangerItem = await createPersonalItem(server.http, stranger, 'diary');
  });

  after(async () => {
    await server.stop();
  });

  test('organization changes are recorded with the acting user and address, and queryable', async () => {
    const collectionId = await createCollection(server.http, org, owner.token, 'Finance');
    ok(await send(owner, 'PUT', `/api/ciphers/${orgItem}/delete`), 'soft delete');
    ok(await send(owner, 'PUT', `/api/ciphers/${orgItem}/restore`), 'restore');
    ok(await send(owner, 'PUT', `/api/organizations/${org.id}/policies/1`, { enabled: true }), 'policy');
    ok(await send(owner, 'PUT', `/api/organizations/${org.id}/users/${member.memberId}/revoke`), 'revoke');
    ok(await send(owner, 'PUT', `/api/organizations/${org.id}/users/${member.memberId}/restore`), 'restore member');

    const expected = [1300, 1115, 1116, 1700, 1511, 1512];
    await eventually(
      () => storedTypes('organization_id = $1', [org.id]),
      (types) => expected.every((t) => types.includes(t)),
      'organization events',
    );
    const { events } = await allPages(owner, `/api/organizations/${org.id}/events`);
    const types = events.map((e) => e.type);
    // Invited, confirmed, the item created, then the changes above.
    for (const type of [1500, 1501, 1100, ...expected])
      assert.ok(types.includes(type), `event ${String(type)} in ${types.join(',')}`);
    const created = events.find((e) => e.type === 1300);
    assert.ok(created, 'Collection_Created');
    assert.equal(created.object, 'event');
    assert.equal(created.collectionId, collectionId);
    assert.equal(created.organizationId, org.id);
    assert.equal(created.actingUserId, owner.userId);
    assert.ok(created.ipAddress, 'the client address is recorded');
    assert.ok(!Number.isNaN(Date.parse(created.date)));
    assert.equal(events.find((e) => e.type === 1511)?.organizationUserId, member.memberId);
    assert.equal(events.find((e) => e.type === 1115)?.cipherId, orgItem);
    const dates = events.map((e) => Date.parse(e.date));
    assert.deepEqual(
      dates,
      [...dates].sort((a, b) => b - a),
      'newest first',
    );
  });

  test('paging: continuation tokens walk every event exactly once', async () => {
    const emails = Array.from({ length: 70 }, (_, i) => `invitee${String(i)}@events.test`);
    ok(
      await send(owner, 'POST', `/api/organizations/${org.id}/users/invite`, {
        emails,
        type: MemberType.User,
        collections: [],
        groups: [],
      }),
      'invite 70',
    );
    await eventually(
      () => storedTypes('organization_id = $1 AND type = 1500', [org.id]),
      (types) => types.length === 71,
      'the invitations',
    );
    const [count] = await db.rows<{ n: number }>('SELECT count(*)::int AS n FROM event WHERE organization_id = $1', [
      org.id,
    ]);
    const stored = count?.n ?? 0;
    const { events, pages } = await allPages(owner, `/api/organizations/${org.id}/events`);
    assert.equal(events.length, stored);
    assert.ok(pages >= 2, `${String(pages)} pages`);
    const first = ok(await send<EventList>(owner, 'GET', `/api/organizations/${org.id}/events`), 'first page');
    assert.equal(first.data.length, 50, 'Bitwarden pages 50 events');
    // Each event once: ids are not on the wire, so (type, date, subject) stands in for them.
    const keys = events.map((e) => `${String(e.type)}|${e.date}|${String(e.organizationUserId)}|${String(e.cipherId)}`);
    assert.equal(new Set(keys).size, keys.length, 'no event on two pages');
    assert.equal(events.filter((e) => e.type === 1500).length, 71);
  });

  test('date ranges: 30 days by default, reversed dates swapped, more than 367 days refused', async () => {
    const base = `/api/organizations/${org.id}/events`;
    const now = Date.now();
    const iso = (ms: number): string => new Date(ms).toISOString();
    const swapped = ok(
      await send<EventList>(owner, 'GET', `${base}?start=${iso(now + 60_000)}&end=${iso(now - 3_600_000)}`),
      'swapped',
    );
    assert.ok(swapped.data.length > 0);
    const past = ok(
      await send<EventList>(
        owner,
        'GET',
        `${base}?start=${iso(now - 90 * 86_400_000)}&end=${iso(now - 40 * 86_400_000)}`,
      ),
      'before anything happened',
    );
    assert.deepEqual(past.data, []);
    assertApiError(
      await send(owner, 'GET', `${base}?start=${iso(now - 400 * 86_400_000)}&end=${iso(now)}`),
      400,
      'range too large',
    );
    assertApiError(await send(owner, 'GET', `${base}?start=yesterday`), 400, 'bad date');
    assertApiError(await send(owner, 'GET', `${base}?continuationToken=not-a-token`), 400, 'bad token');
  });

  test('who may read: the event-log permission, the item owner, and nobody else', async () => {
    // A plain member has no event-log permission; a stranger is no member at all.
    assertApiError(await send(member, 'GET', `/api/organizations/${org.id}/events`), 404, 'member');
    assertApiError(await send(stranger, 'GET', `/api/organizations/${org.id}/events`), 404, 'stranger');
    assertApiError(
      await send(stranger, 'GET', `/api/organizations/${org.id}/users/${member.memberId}/events`),
      404,
      'stranger on a member',
    );
    assertApiError(await send(member, 'GET', `/api/ciphers/${orgItem}/events`), 404, 'member on an org item');
    assertApiError(await send(owner, 'GET', `/api/ciphers/${strangerItem}/events`), 404, 'someone else’s item');

    const itemEvents = ok(await send<EventList>(owner, 'GET', `/api/ciphers/${orgItem}/events`), 'item events');
    assert.ok(itemEvents.data.every((e) => e.cipherId === orgItem));
    assert.ok(itemEvents.data.some((e) => e.type === 1100));

    const mine = await eventually(
      async () => ok(await send<EventList>(stranger, 'GET', `/api/ciphers/${strangerItem}/events`), 'own item'),
      (page) => page.data.some((e) => e.type === 1100),
      'the personal item event',
    );
    const first = mine.data[0];
    assert.ok(first);
    assert.equal(first.userId, stranger.userId);
    assert.equal(first.organizationId, null);
    // The user's own events: logins and personal items, never an organization's.
    const own = ok(await send<EventList>(stranger, 'GET', '/api/events'), 'own events');
    assert.ok(
      own.data.some((e) => e.type === 1000),
      'the login',
    );
    assert.ok(own.data.every((e) => e.organizationId === null && e.actingUserId === stranger.userId));
  });

  test('events/collect keeps client events for what the caller can see and drops the rest', async () => {
    const collect = (who: Person, body: unknown): Promise<HttpResponse> =>
      call(server.http, who.token, 'POST', '/events/collect', body);
    const date = new Date().toISOString();
    assert.equal((await collect(member, { type: 1107 })).status, 400, 'not a list');
    assert.equal((await collect(member, [{ type: 'viewed' }])).status, 400, 'type not a number');
    assert.equal((await collect(member, [{ type: 1107, cipherId: 'nope' }])).status, 400, 'bad id');
    assert.equal(
      (
        await collect(
          member,
          Array.from({ length: 1001 }, () => ({ type: 1007 })),
        )
      ).status,
      400,
      'too many',
    );
    const accepted = await collect(member, [
      { type: 1107, cipherId: orgItem, organizationId: null, date },
      { type: 1111, cipherId: orgItem, date },
      { type: 1107, cipherId: strangerItem, date },
      { type: 1100, cipherId: orgItem, date },
      { type: 9999, date },
      { type: 1602, organizationId: '11111111-2222-4333-8444-555555555555', date },
      { type: 1602, organizationId: org.id, date },
      { type: 1007, date },
    ]);
    assert.equal(accepted.status, 200, accepted.text);

    const memberEvents = await eventually(
      () => storedTypes('acting_user_id = $1 AND type IN (1007, 1100, 1107, 1111, 1602, 9999)', [member.userId]),
      (types) => types.length >= 4,
      'the collected events',
    );
    // Give anything wrongly accepted the same time to arrive before asserting it did not.
    await sleep(1500);
    assert.deepEqual(
      (
        await storedTypes('acting_user_id = $1 AND type IN (1007, 1100, 1107, 1111, 1602, 9999)', [member.userId])
      ).sort(),
      [1007, 1107, 1111, 1602],
      `stored: ${String(memberEvents)}`,
    );
    assert.deepEqual(await storedTypes('cipher_id = $1 AND type = 1107', [strangerItem]), [], 'foreign item');
    const [viewed] = await db.rows<{ organization_id: string }>(
      'SELECT organization_id FROM event WHERE type = 1107 AND acting_user_id = $1',
      [member.userId],
    );
    assert.equal(viewed?.organization_id, org.id, 'the item decides the organization');

    // The member's events as an organization admin sees them.
    const byMember = ok(
      await send<EventList>(owner, 'GET', `/api/organizations/${org.id}/users/${member.memberId}/events`),
      'member events',
    );
    assert.ok(byMember.data.length > 0);
    assert.ok(byMember.data.every((e) => e.actingUserId === member.userId && e.organizationId === org.id));
  });
  test('public/events answers an organization API key, filtered by item or acting member', async () => {
    const key = ok(
      await send<{ apiKey: string }>(owner, 'POST', `/api/organizations/${org.id}/api-key`, {
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'api key',
    );
    const granted = await server.http.post<{ access_token: string }>('/identity/connect/token', {
      form: {
        grant_type: 'client_credentials',
        scope: 'api.organization',
        client_id: `organization.${org.id}`,
        client_secret: key.apiKey,
      },
    });
    assert.equal(granted.status, 200, granted.text);
    const orgToken = granted.body.access_token;
    const read = async (query: string): Promise<{ object: string; data: Record<string, unknown>[] }> => {
      const res = await server.http.get<{ object: string; data: Record<string, unknown>[] }>(
        `/api/public/events${query}`,
        { token: orgToken },
      );
      assert.equal(res.status, 200, res.text);
      return res.body;
    };
    const byItem = await read(`?itemId=${orgItem}`);
    assert.equal(byItem.object, 'list');
    assert.ok(byItem.data.length > 0);
    assert.ok(byItem.data.every((e) => e['itemId'] === orgItem && e['object'] === 'event'));
    const byMember = await read(`?actingUserId=${member.userId}`);
    assert.ok(byMember.data.length > 0);
    assert.ok(byMember.data.every((e) => e['actingUserId'] === member.userId));
    // Another organization's item is not this key's to read; a person's token does not open the public API.
    const foreign = await server.http.get(`/api/public/events?itemId=${strangerItem}`, { token: orgToken });
    assert.equal(foreign.status, 404);
    assert.equal((await server.http.get('/api/public/events', { token: owner.token })).status, 401);
  });
});
