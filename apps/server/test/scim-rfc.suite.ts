import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackedServer } from './backends';
import { call, ok, type Org, type Person } from './org-fixtures';
import { scimRfcResourceSuite } from './scim-rfc-resources.suite';
import {
  GROUP_SCHEMA,
  USER_SCHEMA,
  assertScimError,
  filterQuery as q,
  type ScimClient,
  type ScimList,
  type ScimUser,
} from './scim-fixtures';

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

  scimRfcResourceSuite(ctx);

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
