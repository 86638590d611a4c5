import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackedServer } from './backends';
import { call, ok, type Org, type Person } from './org-fixtures';
import {
  GROUP_SCHEMA,
  USER_SCHEMA,
  assertScimError,
  type ScimClient,
  type ScimList,
  type ScimUser,
} from './scim-fixtures';

interface ScimGroup {
  schemas: string[];
  id: string;
  displayName: string;
  externalId: string | null;
  meta: { resourceType: string; created: string; lastModified: string; location: string };
}

export interface RfcContext {
  readonly server: BackedServer;
  readonly owner: Person;
  readonly org: Org;
  readonly other: Org;
  readonly client: ScimClient;
  readonly otherKey: string;
}

interface Attribute {
  name: string;
  type: string;
  multiValued: boolean;
  required: boolean;
  caseExact: boolean;
  mutability: string;
  returned: string;
  uniqueness: string;
  subAttributes?: Attribute[];
}

const CHARACTERISTICS = [
  'name',
  'type',
  'multiValued',
  'required',
  'caseExact',
  'mutability',
  'returned',
  'uniqueness',
];

/** RFC 7643 §7: every attribute definition carries every characteristic, with a value from its set. */
function assertAttribute(a: Attribute, where: string): void {
  for (const c of CHARACTERISTICS) assert.ok(c in a, `${where}.${a.name} lacks ${c}`);
  assert.ok(['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary'].includes(a.type));
  assert.ok(['readOnly', 'readWrite', 'immutable', 'writeOnly'].includes(a.mutability));
  assert.ok(['always', 'never', 'default', 'request'].includes(a.returned));
  assert.ok(['none', 'server', 'global'].includes(a.uniqueness));
  if (a.type === 'complex') {
    assert.ok(a.subAttributes && a.subAttributes.length > 0, `${where}.${a.name} is complex without sub-attributes`);
    a.subAttributes.forEach((s) => {
      assertAttribute(s, `${where}.${a.name}`);
    });
  }
}

const q = (filter: string): string => `?filter=${encodeURIComponent(filter)}`;

/**
 * RFC 7644 conformance over every supported operation and error, on the suite's server: each refusal
 * has its status and SCIM error body and leaves the organization's rows exactly as they were.
 */
export function scimRfcSuite(ctx: () => RfcContext): void {
  const untouched = async (request: () => Promise<void>, what: string): Promise<void> => {
    const { server, org } = ctx();
    const before = await server.db.orgFingerprint(org.id);
    await request();
    assert.equal(await server.db.orgFingerprint(org.id), before, `${what} changed the organization`);
  };

  test('RFC: filters (eq, co, sw, ew, pr, and/or/not), paging and case-insensitive paths', async () => {
    const { client } = ctx();
    for (const n of [1, 2, 3]) {
      const res = await client.request('POST', '/Users', {
        schemas: [USER_SCHEMA],
        userName: `rfc-${n}@rfc.example`,
        externalId: `rfc-ext-${n}`,
        emails: [{ value: `rfc-${n}@rfc.example`, primary: true }],
      });
      assert.equal(res.status, 201, res.text);
    }
    const names = async (path: string): Promise<string[]> => {
      const res = await client.get<ScimList<ScimUser>>(path);
      assert.equal(res.status, 200, `${path} ${res.text}`);
      return res.body.Resources.map((u) => u.userName);
    };
    assert.deepEqual(await names(`/Users${q('userName sw "RFC-" and not (externalId eq "rfc-ext-2")')}`), [
      'rfc-1@rfc.example',
      'rfc-3@rfc.example',
    ]);
    assert.deepEqual(await names(`/Users${q('userName co "-2@" or externalId eq "rfc-ext-3"')}`), [
      'rfc-2@rfc.example',
      'rfc-3@rfc.example',
    ]);
    assert.deepEqual(await names(`/users${q('externalId eq "RFC-EXT-1"')}`), [], 'externalId is caseExact');
    assert.equal(
      (await names(`/USERS${q('userName ew "@rfc.example" and externalId pr and active eq true')}`)).length,
      3,
    );
    const page = await client.get<ScimList<ScimUser>>(`/Users${q('userName ew "@rfc.example"')}&startIndex=2&count=1`);
    assert.deepEqual(
      [page.body.totalResults, page.body.startIndex, page.body.itemsPerPage, page.body.Resources[0]?.userName],
      [3, 2, 1, 'rfc-2@rfc.example'],
    );
    const clamped = await client.get<ScimList<ScimUser>>(
      `/Users${q('userName ew "@rfc.example"')}&startIndex=0&count=-5`,
    );
    assert.deepEqual([clamped.body.totalResults, clamped.body.startIndex, clamped.body.Resources.length], [3, 1, 0]);
  });

  test('RFC: errors have their status and SCIM body, and write nothing', async () => {
    const { client, other, otherKey, server } = ctx();
    const existing = (await client.get<ScimList<ScimUser>>(`/Users${q('userName eq "rfc-1@rfc.example"')}`)).body
      .Resources[0];
    assert.ok(existing);
    await untouched(async () => {
      assertScimError(await client.get(`/Users${q('title eq "x"')}`), 400, 'invalidFilter', 'unknown attribute');
      assertScimError(await client.get(`/Users${q('userName eq')}`), 400, 'invalidFilter', 'malformed filter');
      assertScimError(await client.get(`/Users${q('active gt true')}`), 400, 'invalidFilter', 'gt on a boolean');
      assertScimError(await client.get(`/Groups${q('members pr')}`), 400, 'invalidFilter', 'members not filterable');
      assertScimError(await client.get('/Users?startIndex=abc'), 400, 'invalidValue', 'startIndex');
      assertScimError(await client.get('/Users?count=1.5'), 400, 'invalidValue', 'count');
      assertScimError(await client.get('/Users/00000000-0000-4000-8000-000000000000'), 404, undefined, 'unknown id');
      assertScimError(await client.get('/Users/nope'), 404, undefined, 'non-GUID id');
      assertScimError(await client.get('/Groups/00000000-0000-4000-8000-000000000000'), 404);
      assertScimError(
        await client.request('POST', '/Users', { userName: 'RFC-1@rfc.example', externalId: 'new-ext' }),
        409,
        'uniqueness',
        'duplicate userName',
      );
      assertScimError(
        await client.request('POST', '/Users', { userName: 'fresh@rfc.example', externalId: 'rfc-ext-2' }),
        409,
        'uniqueness',
        'duplicate externalId',
      );
      assertScimError(
        await client.patch(`/Users/${existing.id}`, [{ op: 'replace', path: 'externalId', value: 'rfc-ext-3' }]),
        409,
        'uniqueness',
        'externalId taken by another member',
      );
      assertScimError(
        await client.request('POST', '/Users', { userName: 'inactive@rfc.example', active: false }),
        400,
        undefined,
        'created inactive',
      );
      assertScimError(await client.request('POST', '/Users', { userName: 'no-address' }), 400, undefined, 'no email');
      assertScimError(await client.request('POST', '/Groups', { displayName: '' }), 400, undefined, 'empty group name');
      assertScimError(
        await client.patch(`/Users/${existing.id}`, [{ op: 'move', path: 'active', value: false }]),
        400,
        'invalidSyntax',
        'unknown op',
      );
      assertScimError(
        await client.request('POST', '/Users', 'userName=x', { 'content-type': 'text/plain' }),
        415,
        undefined,
        'wrong content type',
      );
      assertScimError(await client.request('POST', '/Users', '{"userName": '), 400, undefined, 'malformed JSON');
      const huge = JSON.stringify({ userName: 'big@rfc.example', displayName: 'x'.repeat(3 * 1024 * 1024) });
      assertScimError(await client.request('POST', '/Users', huge), 413, undefined, 'oversized body');
      assertScimError(await client.request('POST', '/Bulk', { Operations: [] }), 404, undefined, 'no bulk');
      // Authentication: none, another organization's key, a key for another organization's URL.
      assertScimError(await client.withKey('').get('/Users'), 401);
      assertScimError(await client.withKey(otherKey).get('/Users'), 401, undefined, "another organization's key");
      assertScimError(
        await server.http.get(`/scim/v2/${other.id}/Users`, { headers: { authorization: `Bearer ${'x'.repeat(30)}` } }),
        401,
      );
    }, 'a refused request');
  });

  test('RFC: every Group PATCH operation of §4.3, a Group read by id and by externalId filter', async () => {
    const { client, server, owner, org } = ctx();
    const users: string[] = [];
    for (const n of [0, 1, 2, 3]) {
      const res = await client.request<ScimUser>('POST', '/Users', {
        schemas: [USER_SCHEMA],
        userName: `grp-${n}@groups.example`,
        emails: [{ value: `grp-${n}@groups.example`, primary: true }],
      });
      assert.equal(res.status, 201, res.text);
      users.push(res.body.id);
    }
    const [u0, u1, u2, u3] = users as [string, string, string, string];
    const created = await client.request<ScimGroup>('POST', '/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Patchers',
      externalId: 'grp-ext-1',
      members: [{ value: u0 }],
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    const got = await client.get<ScimGroup & Record<string, unknown>>(`/Groups/${id}`);
    assert.equal(got.status, 200, got.text);
    assert.match(String(got.headers['content-type']), /^application\/scim\+json/);
    assert.deepEqual(
      [got.body.schemas, got.body.id, got.body.displayName, got.body.externalId, got.body.meta.resourceType],
      [[GROUP_SCHEMA], id, 'Patchers', 'grp-ext-1', 'Group'],
    );
    assert.match(got.body.meta.location, new RegExp(`/scim/v2/${org.id}/Groups/${id}$`));
    assert.equal('members' in got.body, false, 'members are never returned');

    const members = async (): Promise<string[]> =>
      (
        await server.db.rows<{ id: string }>(
          'SELECT organization_user_id AS id FROM group_user WHERE group_id = $1 ORDER BY 1',
          [id],
        )
      ).map((r) => r.id);
    const read = async (): Promise<[string, string | null]> => {
      const res = await client.get<ScimGroup>(`/Groups/${id}`);
      assert.equal(res.status, 200, res.text);
      return [res.body.displayName, res.body.externalId];
    };
    const patch = async (operations: unknown[]): Promise<void> => {
      const res = await client.patch(`/Groups/${id}`, operations);
      assert.equal(res.status, 204, `${JSON.stringify(operations)}: ${res.text}`);
    };
    const sorted = (ids: string[]): string[] => [...ids].sort();

    await patch([{ op: 'replace', path: 'members', value: [{ value: u1 }, { value: u2 }] }]);
    assert.deepEqual(await members(), sorted([u1, u2]), 'replace members: the whole set');
    await patch([{ op: 'add', path: `members[value eq "${u3}"]` }]);
    assert.deepEqual(await members(), sorted([u1, u2, u3]), 'add members[value eq]');
    await patch([{ op: 'remove', path: 'members', value: [{ value: u1 }, { value: u3 }] }]);
    assert.deepEqual(await members(), [u2], 'remove members with a value array');

    await patch([{ op: 'replace', path: 'externalId', value: 'grp-ext-2' }]);
    assert.deepEqual(await read(), ['Patchers', 'grp-ext-2'], 'replace externalId');
    const byExternal = async (externalId: string): Promise<string[]> => {
      const res = await client.get<ScimList<ScimGroup>>(`/Groups${q(`externalId eq "${externalId}"`)}`);
      assert.equal(res.status, 200, res.text);
      return res.body.Resources.map((g) => g.id);
    };
    assert.deepEqual(await byExternal('grp-ext-2'), [id]);
    assert.deepEqual(await byExternal('grp-ext-1'), [], 'the old externalId finds nothing');
    assert.deepEqual(await byExternal('GRP-EXT-2'), [], 'externalId is caseExact');

    await patch([{ op: 'replace', value: { displayName: 'Patchers (renamed)' } }]);
    assert.deepEqual(await read(), ['Patchers (renamed)', 'grp-ext-2'], 'replace without a path: {displayName}');
    await patch([{ op: 'replace', value: { externalId: 'grp-ext-3' } }]);
    assert.deepEqual(await read(), ['Patchers (renamed)', 'grp-ext-3'], 'replace without a path: {externalId}');
    await patch([{ op: 'add', path: 'externalId', value: 'grp-ext-4' }]);
    assert.deepEqual(await read(), ['Patchers (renamed)', 'grp-ext-4'], 'add externalId');
    assert.deepEqual(await members(), [u2], 'name and externalId changes leave the members');

    // A group made in the web vault has no externalId: the directory's add gives it one.
    const web = ok(
      await call<{ id: string; externalId: string | null }>(
        server.http,
        owner.token,
        'POST',
        `/api/organizations/${org.id}/groups`,
        { name: 'Made in the vault', collections: [], users: [] },
      ),
      'web vault group',
    );
    assert.equal(web.externalId, null);
    const added = await client.patch(`/Groups/${web.id}`, [{ op: 'add', path: 'externalId', value: 'grp-from-web' }]);
    assert.equal(added.status, 204, added.text);
    assert.deepEqual(await byExternal('grp-from-web'), [web.id]);
  });

  test('RFC: meta.created and meta.lastModified are ISO dates; lastModified moves forward on a change', async () => {
    const { client } = ctx();
    const isoDate = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
    const meta = async (path: string): Promise<{ created: number; lastModified: number }> => {
      const res = await client.get<{ meta: { created: string; lastModified: string } }>(path);
      assert.equal(res.status, 200, res.text);
      const { created, lastModified } = res.body.meta;
      assert.match(created, isoDate, `${path} meta.created`);
      assert.match(lastModified, isoDate, `${path} meta.lastModified`);
      assert.ok(Date.parse(lastModified) >= Date.parse(created), `${path}: modified before it was created`);
      return { created: Date.parse(created), lastModified: Date.parse(lastModified) };
    };
    const expectMoved = async (
      path: string,
      before: { created: number; lastModified: number },
      change: () => Promise<void>,
      what: string,
    ) => {
      // Timestamps have millisecond resolution: let the clock tick past the last write.
      await new Promise((r) => setTimeout(r, 20));
      await change();
      const after = await meta(path);
      assert.equal(after.created, before.created, `${what}: created stays`);
      assert.ok(after.lastModified > before.lastModified, `${what}: lastModified moves forward`);
      return after;
    };
    const user = await client.request<ScimUser>('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'meta@meta.example',
      emails: [{ value: 'meta@meta.example', primary: true }],
    });
    assert.equal(user.status, 201, user.text);
    const userPath = `/Users/${user.body.id}`;
    let userMeta = await meta(userPath);
    assert.ok(Math.abs(userMeta.created - Date.now()) < 60_000, 'created is now');
    const listed = (await client.get<ScimList<ScimUser>>(`/Users${q('userName eq "meta@meta.example"')}`)).body
      .Resources[0];
    assert.deepEqual(
      [listed?.meta.created, listed?.meta.lastModified].map((d) => Date.parse(d ?? '')),
      [userMeta.created, userMeta.lastModified],
      'the list shows the same meta',
    );
    const patchUser = (operations: unknown[]) => async () => {
      const res = await client.patch(userPath, operations);
      assert.equal(res.status, 204, res.text);
    };
    userMeta = await expectMoved(
      userPath,
      userMeta,
      patchUser([{ op: 'replace', path: 'externalId', value: 'meta-ext-2' }]),
      'User externalId',
    );
    userMeta = await expectMoved(
      userPath,
      userMeta,
      patchUser([{ op: 'replace', path: 'active', value: false }]),
      'User revoked',
    );
    await expectMoved(userPath, userMeta, patchUser([{ op: 'replace', path: 'active', value: true }]), 'User restored');

    const group = await client.request<ScimGroup>('POST', '/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Meta group',
      members: [],
    });
    assert.equal(group.status, 201, group.text);
    const groupPath = `/Groups/${group.body.id}`;
    let groupMeta = await meta(groupPath);
    const patchGroup = (operations: unknown[]) => async () => {
      const res = await client.patch(groupPath, operations);
      assert.equal(res.status, 204, res.text);
    };
    groupMeta = await expectMoved(
      groupPath,
      groupMeta,
      patchGroup([{ op: 'replace', path: 'displayName', value: 'Meta group 2' }]),
      'Group renamed',
    );
    groupMeta = await expectMoved(
      groupPath,
      groupMeta,
      patchGroup([{ op: 'add', path: 'members', value: [{ value: user.body.id }] }]),
      'Group member added',
    );
    await expectMoved(
      groupPath,
      groupMeta,
      async () => {
        const res = await client.request('PUT', groupPath, { schemas: [GROUP_SCHEMA], displayName: 'Meta group 3' });
        assert.equal(res.status, 200, res.text);
      },
      'Group replaced',
    );
  });

  test('RFC: a rotated key stops working at once; a disabled connection refuses the key', async () => {
    const { client, server, owner, org } = ctx();
    const rotated = ok(
      await call<{ apiKey: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/rotate-api-key`, {
        type: 2,
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'rotate',
    ).apiKey;
    assertScimError(await client.get('/Users'), 401, undefined, 'the old key');
    const fresh = client.withKey(rotated);
    assert.equal((await fresh.get('/Users')).status, 200);
    const connection = ok(
      await call<{ id: string }>(server.http, owner.token, 'GET', `/api/organizations/connections/${org.id}/2`),
      'connection',
    );
    const set = async (enabled: boolean): Promise<void> => {
      ok(
        await call(server.http, owner.token, 'PUT', `/api/organizations/connections/${connection.id}`, {
          type: 2,
          organizationId: org.id,
          enabled,
          config: { enabled },
        }),
        'update connection',
      );
    };
    await set(false);
    assertScimError(await fresh.get('/Users'), 401, undefined, 'connection off');
    await set(true);
    assert.equal((await fresh.get('/Users')).status, 200);
  });

  test('RFC: discovery documents are SCIM resources and describe what the endpoints do', async () => {
    const { server, org, owner } = ctx();
    const key = ok(
      await call<{ apiKey: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/api-key`, {
        type: 2,
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'key',
    ).apiKey;
    const client = ctx().client.withKey(key);
    const spc = await client.get<Record<string, { supported?: boolean; maxResults?: number }> & { schemas: string[] }>(
      '/ServiceProviderConfig',
    );
    assert.equal(spc.status, 200, spc.text);
    assert.match(String(spc.headers['content-type']), /^application\/scim\+json/);
    assert.deepEqual(spc.body.schemas, ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig']);
    for (const feature of ['patch', 'bulk', 'filter', 'changePassword', 'sort', 'etag'])
      assert.equal(typeof spc.body[feature]?.supported, 'boolean', feature);
    assert.equal(spc.body['patch']?.supported, true);
    assert.equal(spc.body['bulk']?.supported, false);
    assert.equal(spc.body['sort']?.supported, false);
    const max = spc.body['filter']?.maxResults ?? 0;
    const capped = await client.get<ScimList<ScimUser>>(`/Users?count=${max + 50}`);
    assert.ok(capped.body.itemsPerPage <= max, 'filter.maxResults is honoured');

    const types =
      await client.get<ScimList<{ id: string; endpoint: string; schema: string; schemas: string[] }>>('/ResourceTypes');
    assert.equal(types.status, 200, types.text);
    assert.deepEqual(types.body.Resources.map((t) => [t.id, t.endpoint, t.schema]).sort(), [
      ['Group', '/Groups', GROUP_SCHEMA],
      ['User', '/Users', USER_SCHEMA],
    ]);
    for (const type of types.body.Resources) {
      assert.deepEqual(type.schemas, ['urn:ietf:params:scim:schemas:core:2.0:ResourceType']);
      assert.equal((await client.get(type.endpoint)).status, 200, `${type.endpoint} is served`);
      assert.equal((await client.get(`/ResourceTypes/${type.id}`)).status, 200);
    }

    const schemas = await client.get<ScimList<{ id: string; schemas: string[]; attributes: Attribute[] }>>('/Schemas');
    assert.equal(schemas.status, 200, schemas.text);
    assert.deepEqual(schemas.body.Resources.map((s) => s.id).sort(), [GROUP_SCHEMA, USER_SCHEMA]);
    for (const schema of schemas.body.Resources) {
      assert.deepEqual(schema.schemas, ['urn:ietf:params:scim:schemas:core:2.0:Schema']);
      schema.attributes.forEach((a) => {
        assertAttribute(a, schema.id);
      });
      assert.equal((await client.get(`/Schemas/${schema.id}`)).status, 200);
    }
    // Every attribute the User schema returns by default is in a User resource; "never" ones are not filled.
    const user = (await client.get<ScimList<Record<string, unknown>>>('/Users?count=1')).body.Resources[0];
    assert.ok(user);
    const userSchema = schemas.body.Resources.find((s) => s.id === USER_SCHEMA);
    for (const a of userSchema?.attributes ?? []) {
      if (a.returned === 'default' || a.returned === 'always') assert.ok(a.name in user, `User has ${a.name}`);
      // Every string attribute the schema declares can be filtered on.
      if (a.type === 'string') assert.equal((await client.get(`/Users${q(`${a.name} pr`)}`)).status, 200, a.name);
    }
    assertScimError(await client.get('/Schemas/urn:example:nothing'), 404);
  });
}
