import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, ok } from './org-fixtures';
import type { RfcContext } from './scim-rfc.suite';
import {
  GROUP_SCHEMA,
  USER_SCHEMA,
  filterQuery as q,
  type ScimClient,
  type ScimGroup,
  type ScimList,
  type ScimUser,
} from './scim-fixtures';

/** A PATCH that must succeed with 204 (SCIM's answer to a PATCH without a body). */
async function patchOk(client: ScimClient, path: string, operations: unknown[]): Promise<void> {
  const res = await client.patch(path, operations);
  assert.equal(res.status, 204, `${JSON.stringify(operations)}: ${res.text}`);
}

/**
 * The resources' write side of the RFC suite: every Group PATCH form of ENTERPRISE.md §4.3 and `meta`
 * (created fixed, lastModified moving forward). Registered from `scimRfcSuite`, between its error and
 * key-rotation tests, on the same server and key.
 */
export function scimRfcResourceSuite(ctx: () => RfcContext): void {
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
    const patch = (operations: unknown[]): Promise<void> => patchOk(client, `/Groups/${id}`, operations);
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
    await patchOk(client, `/Groups/${web.id}`, [{ op: 'add', path: 'externalId', value: 'grp-from-web' }]);
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
    const patchUser = (operations: unknown[]) => () => patchOk(client, userPath, operations);
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
    const patchGroup = (operations: unknown[]) => () => patchOk(client, groupPath, operations);
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
}
