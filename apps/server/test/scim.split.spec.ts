import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { PushType } from '@keyhaven/contracts';
import {
  HttpClient,
  freePort,
  requireServices,
  startPrefixRouter,
  type PrefixRouter,
  type ServerProcess,
} from '@keyhaven/testing';
import { connectHub, type HubClient } from './notifications-clients';
import {
  MemberStatus,
  accept,
  call,
  confirm,
  createCollection,
  createOrg,
  createOrgItem,
  inviteTokenOf,
  newPerson,
  ok,
  type Org,
  type Person,
} from './org-fixtures';
import { GROUP_SCHEMA, ScimClient, USER_SCHEMA, assertScimError, enableScim, type ScimUser } from './scim-fixtures';
import { startSplitApps, type SplitApps } from './split-stack';

const run = promisify(execFile);

/**
 * SCIM in the split deployment: `apps/scim` as its own process (two instances) next to identity, api,
 * notifications and the events processor, on PostgreSQL, Redis and RabbitMQ, behind one HTTPS origin.
 * The web vault's setup goes through api, the directory's calls through the scim instances; access to
 * organization items (served by api) follows them at once, the affected member's hub gets the push,
 * the events arrive with SCIM as the actor, and creates racing on the two instances leave one row.
 * The run has its own event queue (EVENTS_QUEUE): other suites' processors never take its events.
 */
describe('SCIM as its own app next to identity and api (PostgreSQL, Redis, RabbitMQ)', () => {
  const queue = `keyhaven.events.scim-split-${randomBytes(4).toString('hex')}`;
  let stack: SplitApps | undefined;
  let router: PrefixRouter;
  let http: HttpClient;
  let scimB: HttpClient;
  let notifications: ServerProcess;
  let pg: Client;
  let owner: Person;
  let org: Org;
  let key = '';
  const hubs: HubClient[] = [];

  before(async () => {
    if (!(await requireServices({ skip: () => undefined }, 'postgres', 'redis', 'rabbitmq'))) return;
    const routerPort = await freePort();
    stack = await startSplitApps(
      ['identity', 'api', 'scim', 'scim', 'notifications', 'events-processor'],
      `https://localhost:${routerPort}`,
      {
        TRUST_PROXY: 'true',
        EVENTS_QUEUE: queue,
        EVENTS_RELAY_INTERVAL_MS: '100',
        EVENTS_FLUSH_INTERVAL_MS: '100',
      },
    );
    const [identity, api, scimA, second, hub] = stack.servers as [
      ServerProcess,
      ServerProcess,
      ServerProcess,
      ServerProcess,
      ServerProcess,
    ];
    notifications = hub;
    router = await startPrefixRouter({ '/identity': identity.url, '/api': api.url, '/scim': scimA.url }, routerPort);
    http = new HttpClient(router.url, router.caPath);
    scimB = new HttpClient(second.url);
    pg = new Client({ connectionString: stack.databaseUrl });
    await pg.connect();
    owner = await newPerson(http, 'owner@scim-split.test');
    org = await createOrg(http, owner, 'Split Directory Co');
    key = await enableScim(http, org, owner.token, owner.account.masterPasswordHash);
  });

  after(async () => {
    await Promise.all(hubs.map((h) => h.stop().catch(() => undefined)));
    await pg.end().catch(() => undefined);
    await router.close();
    await stack?.stop();
    // The run's durable queues go with it.
    for (const name of [queue, `${queue}.dead-letter`])
      await run('rabbitmqctl', ['-q', 'delete_queue', name], { timeout: 60_000 }).catch(() => undefined);
  });

  const memberStatus = async (id: string): Promise<number | undefined> =>
    (await pg.query<{ status: number }>('SELECT status FROM organization_user WHERE id = $1', [id])).rows[0]?.status;

  test('the directory provisions through the scim app; api, the hub and the event log follow', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const entra = new ScimClient(http, org.id, key, { adscimversion: '2.0' });
    const alice = await newPerson(http, 'alice@scim-split.test');
    const created = await entra.request<ScimUser>('POST', '/Users', {
      schemas: [USER_SCHEMA],
      externalId: 'split-alice',
      userName: alice.email,
      emails: [{ value: alice.email, primary: true, type: 'work' }],
      active: true,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers['location'], `${router.url}/scim/v2/${org.id}/Users/${created.body.id}`);
    const aliceId = created.body.id;
    // The member the scim app created is the one api shows and lets the admin bring in.
    const sent = ok(
      await call<{ data: { inviteUrl: string | null }[] }>(
        http,
        owner.token,
        'POST',
        `/api/organizations/${org.id}/users/${aliceId}/reinvite`,
      ),
      'reinvite',
    );
    ok(await accept(http, org.id, alice, aliceId, inviteTokenOf(sent.data[0]?.inviteUrl ?? '')), 'accept');
    ok(await confirm(http, org, owner.token, aliceId, alice.userId), 'confirm');

    const hub = await connectHub({
      baseUrl: notifications.url,
      caPath: undefined,
      protocol: 'json',
      token: alice.token,
    });
    hubs.push(hub);
    const group = await entra.request<{ id: string }>('POST', '/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Split engineering',
      externalId: 'split-eng',
      members: [],
    });
    assert.equal(group.status, 201, group.text);
    const collection = await createCollection(http, org, owner.token, 'Split secrets', [], [{ id: group.body.id }]);
    const item = await createOrgItem(http, org, owner.token, 'split-db', [collection]);
    const canRead = async (): Promise<number> => (await call(http, alice.token, 'GET', `/api/ciphers/${item}`)).status;
    assert.equal(await canRead(), 404);

    // The second scim instance adds her to the group: api grants the item, her hub is told to re-sync.
    const viaB = new ScimClient(scimB, org.id, key, { adscimversion: '2.0' });
    const added = await viaB.patch(`/Groups/${group.body.id}`, [
      { op: 'Add', path: 'members', value: [{ value: aliceId }] },
    ]);
    assert.equal(added.status, 204, added.text);
    await hub.next((n) => n.Type === PushType.SyncOrgKeys, 30_000);
    assert.equal(await canRead(), 200, 'the group grants the item');

    const off = await entra.patch(`/Users/${aliceId}`, [{ op: 'Replace', path: 'active', value: 'False' }]);
    assert.equal(off.status, 204, off.text);
    assert.equal(await memberStatus(aliceId), MemberStatus.Revoked);
    assert.equal(await canRead(), 404, 'revoked through one process, refused by another at once');
    const on = await viaB.patch(`/Users/${aliceId}`, [{ op: 'Replace', path: 'active', value: 'True' }]);
    assert.equal(on.status, 204, on.text);
    assert.equal(await memberStatus(aliceId), MemberStatus.Confirmed);
    assert.equal(await canRead(), 200);

    // Through the outbox, RabbitMQ and the events processor, with SCIM (system user 1) as the actor.
    // Invited, UpdatedGroups, Revoked, Restored.
    const wanted = [1500, 1504, 1511, 1512];
    const deadline = Date.now() + 60_000;
    let events: { type: number; system_user_type: number | null; acting_user_id: string | null }[] = [];
    while (Date.now() < deadline) {
      events = (
        await pg.query<{ type: number; system_user_type: number | null; acting_user_id: string | null }>(
          'SELECT type, system_user_type, acting_user_id FROM event WHERE organization_user_id = $1 AND type = ANY($2::int[])',
          [aliceId, wanted],
        )
      ).rows;
      if (events.length >= wanted.length) break;
      await sleep(250);
    }
    assert.deepEqual(
      events.map((e) => [e.type, e.system_user_type, e.acting_user_id]).sort(),
      wanted.map((type) => [type, 1, null]),
    );

    // A key rotated through api is refused by both scim instances at once.
    const rotated = ok(
      await call<{ apiKey: string }>(http, owner.token, 'POST', `/api/organizations/${org.id}/rotate-api-key`, {
        type: 2,
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'rotate',
    );
    assertScimError(await entra.get('/Users'), 401, undefined, 'old key, first instance');
    assertScimError(await viaB.get('/Users'), 401, undefined, 'old key, second instance');
    assert.equal((await viaB.withKey(rotated.apiKey).get('/Users')).status, 200);
    key = rotated.apiKey;
  });

  test('creates racing on the two scim instances with one externalId: one 201, the others 409', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const viaA = new ScimClient(http, org.id, key);
    const viaB = new ScimClient(scimB, org.id, key);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? viaA : viaB).request('POST', '/Users', {
          schemas: [USER_SCHEMA],
          userName: `racer-${i}@scim-split.test`,
          externalId: 'split-racer',
        }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, statuses.join());
    for (const res of answers) if (res.status !== 201) assertScimError(res, 409, 'uniqueness');
    const { rows } = await pg.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM organization_user WHERE organization_id = $1 AND external_id = $2',
      [org.id, 'split-racer'],
    );
    assert.equal(rows[0]?.n, 1);
  });
});
