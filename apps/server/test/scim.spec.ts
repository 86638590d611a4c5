import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import {
  MemberStatus,
  MemberType,
  call,
  confirm,
  createCollection,
  createOrg,
  createOrgItem,
  inviteTokenOf,
  join,
  newPerson,
  ok,
  accept,
  assertApiError,
  type Org,
  type Person,
} from './org-fixtures';
import {
  GROUP_SCHEMA,
  ScimClient,
  USER_SCHEMA,
  assertScimError,
  enableScim,
  type ScimList,
  type ScimUser,
} from './scim-fixtures';
import { scimRfcSuite, type RfcContext } from './scim-rfc.suite';

/**
 * SCIM provisioning as Entra ID and Okta drive it (request shapes from ENTERPRISE.md §4), on both
 * databases: the resulting members, statuses and group memberships, and access to organization items
 * ending and returning with `active`; then the RFC conformance suite and discovery (scim-rfc.suite.ts)
 * on the same server.
 */
describeOnBackends('SCIM provisioning from Entra ID and Okta', (backend) => {
  let server: BackedServer;
  let owner: Person;
  let org: Org;
  let key = '';
  let entra: ScimClient;
  let okta: ScimClient;
  let rfc: RfcContext;

  before(async () => {
    server = await startAllInOne(backend);
    owner = await newPerson(server.http, `owner-${backend}@example.com`);
    org = await createOrg(server.http, owner, 'Directory Co');
    key = await enableScim(server.http, org, owner.token, owner.account.masterPasswordHash);
    entra = new ScimClient(server.http, org.id, key, { adscimversion: '2.0', 'user-agent': 'Azure AD SCIM' });
    okta = new ScimClient(server.http, org.id, key, { 'user-agent': 'Okta SCIM Client 1.0.0' }, 'raw');
    const other = await createOrg(server.http, owner, 'Other Co');
    const otherKey = await enableScim(server.http, other, owner.token, owner.account.masterPasswordHash);
    rfc = { server, owner, org, other, otherKey, client: new ScimClient(server.http, org.id, key) };
  });

  after(() => server.stop());

  /** Brings a SCIM-invited member to Confirmed the way the person and the admin would. */
  async function acceptAndConfirm(person: Person, memberId: string): Promise<void> {
    const sent = ok(
      await call<{ data: { inviteUrl: string | null }[] }>(
        server.http,
        owner.token,
        'POST',
        `/api/organizations/${org.id}/users/${memberId}/reinvite`,
      ),
      'reinvite',
    );
    const url = sent.data[0]?.inviteUrl;
    assert.ok(url, 'an invitation link');
    ok(await accept(server.http, org.id, person, memberId, inviteTokenOf(url)), 'accept');
    ok(await confirm(server.http, org, owner.token, memberId, person.userId), 'confirm');
  }

  const groupMembers = async (groupId: string): Promise<string[]> =>
    (
      await server.db.rows<{ id: string }>(
        'SELECT organization_user_id AS id FROM group_user WHERE group_id = $1 ORDER BY 1',
        [groupId],
      )
    ).map((r) => r.id);

  test('the web vault setup: connection read as nulls before, the key shown twice is the same', async () => {
    const other = await createOrg(server.http, owner, 'Not yet');
    const none = ok(
      await call<{ id: string | null; enabled: boolean }>(
        server.http,
        owner.token,
        'GET',
        `/api/organizations/connections/${other.id}/2`,
      ),
      'connection',
    );
    assert.deepEqual([none.id, none.enabled], [null, false]);
    const mine = ok(
      await call<{ id: string; type: number; enabled: boolean; config: { enabled: boolean } }>(
        server.http,
        owner.token,
        'GET',
        `/api/organizations/connections/${org.id}/2`,
      ),
      'connection',
    );
    assert.deepEqual([mine.type, mine.enabled, mine.config.enabled], [2, true, true]);
    const again = await call<{ apiKey: string }>(
      server.http,
      owner.token,
      'POST',
      `/api/organizations/${org.id}/api-key`,
      {
        type: 2,
        masterPasswordHash: owner.account.masterPasswordHash,
      },
    );
    assert.equal(again.body.apiKey, key);
    assert.equal(key.length, 30);
    const wrong = await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/api-key`, {
      type: 2,
      masterPasswordHash: 'bm90IHRoZSBoYXNo',
    });
    assert.equal(wrong.status, 400);
  });

  test('manageScim: a Custom member with only that flag sets SCIM up; the public-API key stays the owners', async () => {
    const scimAdmin = await newPerson(server.http, `scim-admin-${backend}@example.com`);
    const userAdmin = await newPerson(server.http, `user-admin-${backend}@example.com`);
    const own = await createOrg(server.http, owner, 'Delegated SCIM');
    await join(server.http, own, owner.token, scimAdmin, {
      type: MemberType.Custom,
      permissions: { manageScim: true },
    });
    await join(server.http, own, owner.token, userAdmin, {
      type: MemberType.Custom,
      permissions: { manageUsers: true },
    });
    const setup = <T = unknown>(who: Person, method: 'GET' | 'POST' | 'PUT', path: string, json?: unknown) =>
      call<T>(server.http, who.token, method, path, json);
    const connection = { type: 2, organizationId: own.id, enabled: true, config: { enabled: true } };
    const secret = (who: Person, type?: number) => ({
      ...(type === undefined ? {} : { type }),
      masterPasswordHash: who.account.masterPasswordHash,
    });

    // Without the flag: every SCIM setup route answers like an organization that does not exist.
    const before = await server.db.orgFingerprint(own.id);
    assertApiError(await setup(userAdmin, 'GET', `/api/organizations/connections/${own.id}/2`), 404, 'read');
    assertApiError(await setup(userAdmin, 'POST', '/api/organizations/connections', connection), 404, 'create');
    assertApiError(await setup(userAdmin, 'POST', `/api/organizations/${own.id}/api-key`, secret(userAdmin, 2)), 404);
    assertApiError(
      await setup(userAdmin, 'POST', `/api/organizations/${own.id}/rotate-api-key`, secret(userAdmin, 2)),
      404,
    );
    assert.equal(await server.db.orgFingerprint(own.id), before, 'refusals wrote nothing');

    // With it: the whole web vault SCIM page, and the key works against /scim/v2.
    const created = ok(
      await setup<{ id: string }>(scimAdmin, 'POST', '/api/organizations/connections', connection),
      'create connection',
    );
    ok(await setup(scimAdmin, 'PUT', `/api/organizations/connections/${created.id}`, connection), 'update connection');
    const read = ok(
      await setup<{ enabled: boolean }>(scimAdmin, 'GET', `/api/organizations/connections/${own.id}/2`),
      'read connection',
    );
    assert.equal(read.enabled, true);
    const shown = ok(
      await setup<{ apiKey: string }>(scimAdmin, 'POST', `/api/organizations/${own.id}/api-key`, secret(scimAdmin, 2)),
      'show key',
    );
    const rotated = ok(
      await setup<{ apiKey: string }>(
        scimAdmin,
        'POST',
        `/api/organizations/${own.id}/rotate-api-key`,
        secret(scimAdmin, 2),
      ),
      'rotate key',
    );
    assert.notEqual(rotated.apiKey, shown.apiKey);
    const client = new ScimClient(server.http, own.id, rotated.apiKey);
    assert.equal((await client.get('/Users')).status, 200);
    assertScimError(await client.withKey(shown.apiKey).get('/Users'), 401, undefined, 'the rotated-away key');

    // The public-API key (type 0, or no type) is the owner's alone, as in Bitwarden.
    for (const path of ['api-key', 'rotate-api-key']) {
      assertApiError(await setup(scimAdmin, 'POST', `/api/organizations/${own.id}/${path}`, secret(scimAdmin)), 404);
      assertApiError(await setup(scimAdmin, 'POST', `/api/organizations/${own.id}/${path}`, secret(scimAdmin, 0)), 404);
    }
    ok(await setup(owner, 'POST', `/api/organizations/${own.id}/api-key`, secret(owner)), 'owner public-API key');
  });

  test('creates racing with one externalId or userName: one 201, the others 409 uniqueness, one row', async () => {
    const tag = `race-${backend}`;
    const users = (n: number, same: 'externalId' | 'userName') =>
      Array.from({ length: n }, (_, i) => {
        const email = same === 'userName' ? `${tag}-mail@race.example` : `${tag}-x${i}@race.example`;
        return entra.request<ScimUser>('POST', '/Users', {
          schemas: [USER_SCHEMA],
          userName: email,
          externalId: same === 'externalId' ? `${tag}-ext` : `${tag}-ext-${i}`,
          emails: [{ value: email, primary: true }],
        });
      });
    const groups = Array.from({ length: 6 }, (_, i) =>
      entra.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: `${tag} ${i}`, externalId: `${tag}-g` }),
    );
    for (const [what, racing] of [
      ['externalId', users(6, 'externalId')],
      ['userName', users(6, 'userName')],
      ['group externalId', groups],
    ] as const) {
      const answers = await Promise.all(racing);
      assert.equal(answers.filter((r) => r.status === 201).length, 1, `${what}: ${answers.map((r) => r.text).join()}`);
      for (const res of answers.filter((r) => r.status !== 201)) assertScimError(res, 409, 'uniqueness', what);
    }
    // Paths without SCIM's own check meet the unique index: a 409 in Bitwarden's shape, not a 500.
    assertApiError(
      await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/groups`, {
        name: 'Web duplicate',
        externalId: `${tag}-g`,
        collections: [],
        users: [],
      }),
      409,
      'web vault group with a taken externalId',
    );
    // A confirmed member is found by their account's address (in any case), by SCIM and by the web invite.
    assertScimError(
      await entra.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: owner.email.toUpperCase() }),
      409,
      'uniqueness',
      'the owner',
    );
    assertApiError(
      await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/users/invite`, {
        emails: [owner.email],
        type: MemberType.User,
        collections: [],
        groups: [],
      }),
      400,
      'inviting the owner',
    );
    const rows = await server.db.rows<{ n: number }>(
      `SELECT count(*)::int AS n FROM organization_user WHERE organization_id = $1 AND (external_id = $2 OR email = $3)
       UNION ALL SELECT count(*)::int FROM org_group WHERE organization_id = $1 AND external_id = $4`,
      [org.id, `${tag}-ext`, `${tag}-mail@race.example`, `${tag}-g`],
    );
    assert.deepEqual(
      rows.map((r) => r.n),
      [2, 1],
      'one member per externalId and per address, one group',
    );
  });

  test('Entra ID: create, filter, Replace "False"/"True", group adds re-sent, removal, delete', async () => {
    const alice = await newPerson(server.http, `alice-${backend}@example.com`);
    const bob = await newPerson(server.http, `bob-${backend}@example.com`);
    // Entra first looks the user up by userName, then creates it (no primary email: userName is the address).
    const lookup = await entra.get<ScimList<ScimUser>>(
      `/Users?filter=${encodeURIComponent(`userName eq "${alice.email}"`)}`,
    );
    assert.equal(lookup.status, 200, lookup.text);
    assert.equal(lookup.body.totalResults, 0);
    const created = await entra.request<ScimUser>('POST', '/Users', {
      schemas: [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
      externalId: 'entra-alice',
      userName: alice.email.toUpperCase(),
      active: true,
      displayName: 'Alice',
      emails: [{ type: 'work', value: 'alias@elsewhere.example', primary: false }],
      name: { givenName: 'Alice', familyName: 'A' },
    });
    assert.equal(created.status, 201, created.text);
    assert.match(String(created.headers['content-type']), /^application\/scim\+json/);
    assert.equal(created.body.userName, alice.email);
    assert.equal(created.body.externalId, 'entra-alice');
    assert.equal(created.headers['location'], created.body.meta.location);
    assert.match(created.body.meta.location, new RegExp(`/scim/v2/${org.id}/Users/${created.body.id}$`));
    const aliceId = created.body.id;
    assert.equal(await server.db.memberStatus(aliceId), MemberStatus.Invited);
    const bobCreated = await entra.request<ScimUser>('POST', '/Users', {
      schemas: [USER_SCHEMA],
      externalId: 'entra-bob',
      userName: bob.email,
      active: true,
      emails: [{ type: 'work', value: bob.email, primary: true }],
    });
    assert.equal(bobCreated.status, 201, bobCreated.text);
    const bobId = bobCreated.body.id;
    const found = await entra.get<ScimList<ScimUser>>(
      `/Users?filter=${encodeURIComponent(`userName eq "${alice.email}"`)}`,
    );
    assert.deepEqual(
      found.body.Resources.map((u) => u.id),
      [aliceId],
    );
    await acceptAndConfirm(alice, aliceId);

    // The group grants a collection holding an item: membership in it is access to the item.
    const group = await entra.request<{ id: string; displayName: string }>('POST', '/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Engineering',
      externalId: 'entra-eng',
      members: [],
    });
    assert.equal(group.status, 201, group.text);
    const groupId = group.body.id;
    const collection = await createCollection(server.http, org, owner.token, 'Eng secrets', [], [{ id: groupId }]);
    const item = await createOrgItem(server.http, org, owner.token, 'eng-db', [collection]);
    const canRead = async (): Promise<number> =>
      (await call(server.http, alice.token, 'GET', `/api/ciphers/${item}`)).status;
    assert.equal(await canRead(), 404, 'not in the group yet');

    const add = (ids: string[]) =>
      entra.patch(`/Groups/${groupId}`, [{ op: 'Add', path: 'members', value: ids.map((value) => ({ value })) }]);
    assert.equal((await add([aliceId])).status, 204);
    assert.equal(await canRead(), 200, 'the group grants the item');
    assert.equal((await add([bobId])).status, 204);
    // Entra re-sends the adds of every existing member: nothing changes, nothing fails.
    const revisionBefore = await server.db.rows('SELECT revision_date FROM org_group WHERE id = $1', [groupId]);
    assert.equal((await add([aliceId, bobId])).status, 204);
    assert.deepEqual(
      await server.db.rows('SELECT revision_date FROM org_group WHERE id = $1', [groupId]),
      revisionBefore,
    );
    assert.deepEqual(await groupMembers(groupId), [aliceId, bobId].sort());
    const removed = await entra.patch(`/Groups/${groupId}`, [
      { op: 'Remove', path: `members[value eq "${bobId}"]` },
      { op: 'Replace', path: 'displayName', value: 'Engineering (all)' },
    ]);
    assert.equal(removed.status, 204, removed.text);
    assert.deepEqual(await groupMembers(groupId), [aliceId]);
    const byName = await entra.get<ScimList<{ id: string; displayName: string }>>(
      `/Groups?filter=${encodeURIComponent('displayName eq "Engineering (all)"')}`,
    );
    assert.deepEqual(
      byName.body.Resources.map((g) => [g.id, g.displayName]),
      [[groupId, 'Engineering (all)']],
    );

    // Deactivation as Entra sends it: Replace with the string "False". Access ends at once.
    const off = await entra.patch(`/Users/${aliceId}`, [{ op: 'Replace', path: 'active', value: 'False' }]);
    assert.equal(off.status, 204, off.text);
    assert.equal(await server.db.memberStatus(aliceId), MemberStatus.Revoked);
    assert.equal(await canRead(), 404, 'a revoked member reads nothing of the organization');
    assert.equal((await entra.get<ScimUser>(`/Users/${aliceId}`)).body.active, false);
    const on = await entra.patch(`/Users/${aliceId}`, [{ op: 'Replace', path: 'active', value: 'True' }]);
    assert.equal(on.status, 204, on.text);
    assert.equal(await server.db.memberStatus(aliceId), MemberStatus.Confirmed, 'back to where she was');
    assert.equal(await canRead(), 200);

    // The revocation and restoration are in the event log with SCIM (system user 1) as the actor.
    const deadline = Date.now() + 10_000;
    let events: { type: number; system_user_type: number | null; acting_user_id: string | null }[] = [];
    while (Date.now() < deadline) {
      events = await server.db.rows(
        'SELECT type, system_user_type, acting_user_id FROM event WHERE organization_user_id = $1 AND type IN (1511, 1512)',
        [aliceId],
      );
      if (events.length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(events.map((e) => [e.type, e.system_user_type, e.acting_user_id]).sort(), [
      [1511, 1, null],
      [1512, 1, null],
    ]);

    // Removal from the directory: the membership goes, the account stays.
    assert.equal((await entra.request('DELETE', `/Users/${bobId}`)).status, 204);
    assertScimError(await entra.get(`/Users/${bobId}`), 404);
    assert.equal((await server.db.rows('SELECT 1 FROM app_user WHERE id = $1', [bob.userId])).length, 1);
  });

  test('Okta: raw key, PUT active:false and true, PATCH without a path, group replace and delete', async () => {
    const carol = await newPerson(server.http, `carol-${backend}@example.com`);
    const created = await okta.request<ScimUser>('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: `okta-carol-${backend}`,
      name: { givenName: 'Carol', familyName: 'C' },
      emails: [{ primary: true, value: carol.email, type: 'work' }],
      active: true,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.userName, carol.email, 'the primary email is the address');
    assert.equal(created.body.externalId, `okta-carol-${backend}`, 'externalId falls back to userName');
    const carolId = created.body.id;
    await acceptAndConfirm(carol, carolId);
    const byExternal = await okta.get<ScimList<ScimUser>>(
      `/Users?filter=${encodeURIComponent(`externalId eq "okta-carol-${backend}"`)}`,
    );
    assert.deepEqual(
      byExternal.body.Resources.map((u) => u.id),
      [carolId],
    );

    const put = await okta.request<ScimUser>('PUT', `/Users/${carolId}`, {
      schemas: [USER_SCHEMA],
      id: carolId,
      userName: 'ignored@example.com',
      active: false,
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.active, false);
    assert.equal(put.body.userName, carol.email, 'PUT changes active only');
    assert.equal(await server.db.memberStatus(carolId), MemberStatus.Revoked);
    const back = await okta.patch(`/Users/${carolId}`, [
      { op: 'replace', value: { active: true, externalId: 'okta-00u1' } },
    ]);
    assert.equal(back.status, 204, back.text);
    const row = (
      await server.db.rows<{ status: number; external_id: string }>(
        'SELECT status, external_id FROM organization_user WHERE id = $1',
        [carolId],
      )
    )[0];
    assert.deepEqual([row?.status, row?.external_id], [MemberStatus.Confirmed, 'okta-00u1']);

    const group = await okta.request<{ id: string }>('POST', '/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Sales',
      members: [{ value: carolId, display: carol.email }, { value: 'not-a-guid' }],
    });
    assert.equal(group.status, 201, group.text);
    assert.deepEqual(await groupMembers(group.body.id), [carolId]);
    const renamed = await okta.request<{ displayName: string }>('PUT', `/Groups/${group.body.id}`, {
      schemas: [GROUP_SCHEMA],
      displayName: 'Sales EMEA',
      members: [],
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.displayName, 'Sales EMEA');
    assert.deepEqual(await groupMembers(group.body.id), [], 'PUT with members replaces them');
    assert.equal((await okta.request('DELETE', `/Groups/${group.body.id}`)).status, 204);
    assertScimError(await okta.get(`/Groups/${group.body.id}`), 404);
  });

  scimRfcSuite(() => rfc);
});
