import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MAX_UNKNOWN_FIELD_CHARS, MAX_UNKNOWN_FIELD_DEPTH } from '@keyhaven/contracts';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import {
  MemberType,
  call,
  createCollection,
  createOrg,
  join,
  newPeople,
  newPerson,
  ok,
  type Member,
  type Org,
  type Person,
} from './org-fixtures';

/**
 * No stored item can break a read: items carrying the largest values the API accepts (personal, in
 * an organization, imported), and one holding a value nested far deeper than the API accepts today
 * (stored before the limit existed, written straight into its row), are served by sync, the item
 * list, the organization's item list and its export to every member who can see them.
 */

/** A well-formed type-2 EncString of about `chars` characters (the server checks shape, never decrypts). */
function encString(chars: number): string {
  const fixed = 2 + 24 + 1 + 1 + 44;
  const ctBytes = Math.max(16, Math.floor((((chars - fixed) / 4) * 3) / 16) * 16);
  return `2.${randomBytes(16).toString('base64')}|${randomBytes(ctBytes).toString('base64')}|${randomBytes(32).toString('base64')}`;
}

/** An object nested `depth` levels (itself included) around a scalar `leaf`. */
function nest(depth: number, leaf: unknown): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = { n: value };
  return value;
}

/** The largest item the API accepts: every EncString at its cap, the list caps, unknown fields at their budget and depth. */
function largestItem(organizationId: string | null): Record<string, unknown> {
  const small = encString(120);
  const unknownLeaf = 'u'.repeat(MAX_UNKNOWN_FIELD_CHARS - 2_000);
  return {
    type: 1,
    organizationId,
    name: encString(199_900),
    notes: encString(199_900),
    key: null,
    favorite: true,
    reprompt: 1,
    archivedDate: '9999-12-31T23:59:59.999Z',
    login: {
      username: encString(100_000),
      password: small,
      totp: small,
      uris: Array.from({ length: 50 }, () => ({ uri: small, uriChecksum: small, match: 255 })),
      passwordRevisionDate: '9999-12-31T23:59:59.999Z',
    },
    fields: Array.from({ length: 500 }, (_, i) => ({ type: i % 4, name: small, value: small, linkedId: 32_767 })),
    passwordHistory: Array.from({ length: 500 }, () => ({ password: small, lastUsedDate: '0001-01-01T00:00:00Z' })),
    future: nest(MAX_UNKNOWN_FIELD_DEPTH, unknownLeaf),
  };
}

describeOnBackends('no stored item can break a read', (backend) => {
  let server: BackedServer;
  let org: Org;
  let owner: Person;
  let admin: Member;
  let user: Member;
  let collectionOnly: Member;
  const orgItems: string[] = [];
  let personalItem = '';

  before(async () => {
    server = await startAllInOne(backend);
    owner = await newPerson(server.http, `owner-${backend}@example.com`);
    org = await createOrg(server.http, owner, 'Big items');
    const [a, u, c] = await newPeople(server.http, [
      `admin-${backend}@example.com`,
      `user-${backend}@example.com`,
      `collection-${backend}@example.com`,
    ]);
    if (!a || !u || !c) throw new Error('people');
    const other = await createCollection(server.http, org, owner.token, 'other');
    admin = await join(server.http, org, owner.token, a, { type: MemberType.Admin });
    user = await join(server.http, org, owner.token, u, {
      type: MemberType.User,
      collections: [{ id: org.defaultCollection }],
    });
    collectionOnly = await join(server.http, org, owner.token, c, {
      type: MemberType.User,
      collections: [{ id: other, readOnly: true, hidePasswords: true }],
    });

    const mine = await call<{ id: string }>(server.http, user.token, 'POST', '/api/ciphers', largestItem(null));
    personalItem = ok(mine, 'largest personal item').id;
    const shared = await call<{ id: string }>(server.http, user.token, 'POST', '/api/ciphers/create', {
      cipher: largestItem(org.id),
      collectionIds: [org.defaultCollection],
    });
    orgItems.push(ok(shared, 'largest org item').id);
    const imported = await call(
      server.http,
      owner.token,
      'POST',
      `/api/ciphers/import-organization?organizationId=${org.id}`,
      {
        ciphers: [largestItem(org.id), largestItem(org.id)],
        collections: [{ name: encString(100), id: other }],
        collectionRelationships: [
          { key: 0, value: 0 },
          { key: 1, value: 0 },
        ],
      },
    );
    ok(imported, 'import of the largest items');
  });

  after(async () => {
    await server.stop();
  });

  /** Every read that serialises items, for one member; each must answer 200 with every item it should. */
  async function readsSucceed(who: Person, expectOrgItems: number, canManage: boolean): Promise<void> {
    const sync = await call<{ ciphers: { id: string }[] }>(server.http, who.token, 'GET', '/api/sync');
    assert.equal(sync.status, 200, `${who.email} sync: ${sync.text.slice(0, 200)}`);
    const list = await call<{ data: { id: string; organizationId: string | null }[] }>(
      server.http,
      who.token,
      'GET',
      '/api/ciphers',
    );
    assert.equal(list.status, 200, `${who.email} list: ${list.text.slice(0, 200)}`);
    assert.equal(list.body.data.filter((c) => c.organizationId === org.id).length, expectOrgItems, who.email);
    for (const item of list.body.data) {
      const one = await call(server.http, who.token, 'GET', `/api/ciphers/${item.id}/details`);
      assert.equal(one.status, 200, `${who.email} details`);
    }
    if (!canManage) return;
    const exported = await call<{ ciphers: unknown[] }>(
      server.http,
      who.token,
      'GET',
      `/api/organizations/${org.id}/export`,
    );
    assert.equal(exported.status, 200, `${who.email} export: ${exported.text.slice(0, 200)}`);
    assert.equal(exported.body.ciphers.length, orgItems.length + 2);
    const details = await call(
      server.http,
      who.token,
      'GET',
      `/api/ciphers/organization-details?organizationId=${org.id}`,
    );
    assert.equal(details.status, 200, `${who.email} organization details`);
  }

  test('the largest items the API accepts are served to every member (sync, list, details, export)', async () => {
    const created = await call<Record<string, unknown>>(server.http, user.token, 'GET', `/api/ciphers/${personalItem}`);
    assert.equal(created.status, 200);
    assert.deepEqual(
      created.body['future'],
      nest(MAX_UNKNOWN_FIELD_DEPTH, 'u'.repeat(MAX_UNKNOWN_FIELD_CHARS - 2_000)),
    );
    await readsSucceed(owner, 3, true);
    await readsSucceed(admin, 3, true);
    await readsSucceed(user, 1, false);
    await readsSucceed(collectionOnly, 2, false);
  });

  test('a value nested far deeper than the API accepts, stored before the limit, breaks no read', async () => {
    const depth = 5_000;
    const deep = JSON.stringify({ ancient: 'x' }).replace('"x"', '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    for (const id of [personalItem, ...orgItems]) {
      await server.db.rows(`UPDATE cipher SET data = data || $2::jsonb WHERE id = $1`, [id, deep]);
    }
    await readsSucceed(owner, 3, true);
    await readsSucceed(admin, 3, true);
    await readsSucceed(user, 1, false);
    await readsSucceed(collectionOnly, 2, false);
    const served = await call<{ ancient: unknown }>(server.http, user.token, 'GET', `/api/ciphers/${personalItem}`);
    assert.equal(served.status, 200);
    let level = served.body.ancient;
    let levels = 0;
    while (typeof level === 'object' && level !== null) {
      level = (level as { a: unknown }).a;
      levels++;
    }
    assert.equal(levels, depth, 'served as stored');
    assert.doesNotMatch(server.output(), /unhandled error/);
  });
});
