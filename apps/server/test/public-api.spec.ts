import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  createOrganizationAs,
  passwordLogin,
  registerAccount,
  startServer,
  type HttpClient,
  type ServerProcess,
  type Session,
} from '@keyhaven/testing';
import type { Account } from '@keyhaven/vault-crypto';

const PASSWORD = 'correct horse battery staple';

async function orgToken(http: HttpClient, orgId: string, secret: string): Promise<{ status: number; token: string }> {
  const res = await http.post<{ access_token: string; scope: string }>('/identity/connect/token', {
    form: {
      grant_type: 'client_credentials',
      scope: 'api.organization',
      client_id: `organization.${orgId}`,
      client_secret: secret,
    },
  });
  return { status: res.status, token: res.status === 200 ? res.body.access_token : '' };
}

describe('the public API with an organization API key', () => {
  let server: ServerProcess;
  let owner: Account;
  let ownerSession: Session;
  let orgId = '';
  let otherOrgId = '';
  let apiKey = '';
  let token = '';

  before(async () => {
    server = await startServer();
    owner = await registerAccount(server.http, 'owner@example.com', PASSWORD);
    ownerSession = await passwordLogin(server.http, owner);
    orgId = await createOrganizationAs(server.http, owner, ownerSession.accessToken, 'Directory Co');
    otherOrgId = await createOrganizationAs(server.http, owner, ownerSession.accessToken, 'Other Co');
    const key = await server.http.post<{ apiKey: string }>(`/api/organizations/${orgId}/api-key`, {
      token: ownerSession.accessToken,
      json: { masterPasswordHash: owner.masterPasswordHash },
    });
    assert.equal(key.status, 200, key.text);
    apiKey = key.body.apiKey;
    const granted = await orgToken(server.http, orgId, apiKey);
    assert.equal(granted.status, 200);
    token = granted.token;
  });

  after(async () => {
    await server.stop('SIGKILL');
    server.cleanup();
  });

  test('a wrong secret is refused as invalid_client', async () => {
    const res = await server.http.post<{ error: string }>('/identity/connect/token', {
      form: {
        grant_type: 'client_credentials',
        scope: 'api.organization',
        client_id: `organization.${orgId}`,
        client_secret: 'wrong',
      },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_client');
  });

  test('organization tokens reach only the public API, and user tokens never do', async () => {
    assert.equal((await server.http.get('/api/sync', { token })).status, 401);
    assert.equal((await server.http.get(`/api/organizations/${orgId}/users`, { token })).status, 401);
    assert.equal((await server.http.get('/api/public/members', { token: ownerSession.accessToken })).status, 401);
  });

  test('members: list, invite, read, update, group ids, remove', async () => {
    const listed = await server.http.get<{ data: { email: string; type: number; status: number }[] }>(
      '/api/public/members',
      { token },
    );
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.data.map((m) => [m.email, m.type, m.status]),
      [['owner@example.com', 0, 2]],
    );
    const created = await server.http.post<{ id: string; email: string; status: number; externalId: string }>(
      '/api/public/members',
      {
        token,
        json: { email: 'New.Hire@Example.com', type: 2, externalId: 'ext-1', collections: [] },
      },
    );
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.email, 'new.hire@example.com');
    assert.equal(created.body.status, 0);
    assert.equal(created.body.externalId, 'ext-1');

    const group = await server.http.post<{ id: string }>('/api/public/groups', {
      token,
      json: { name: 'Engineering', externalId: 'g-eng', collections: [] },
    });
    assert.equal(group.status, 200, group.text);
    assert.equal(
      (
        await server.http.put(`/api/public/members/${created.body.id}/group-ids`, {
          token,
          json: { groupIds: [group.body.id] },
        })
      ).status,
      200,
    );
    const groupIds = await server.http.get<string[]>(`/api/public/members/${created.body.id}/group-ids`, { token });
    assert.deepEqual(groupIds.body, [group.body.id]);
    const memberIds = await server.http.get<string[]>(`/api/public/groups/${group.body.id}/member-ids`, { token });
    assert.deepEqual(memberIds.body, [created.body.id]);

    const updated = await server.http.put<{ type: number }>(`/api/public/members/${created.body.id}`, {
      token,
      json: { type: 1, collections: [] },
    });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.type, 1);
    assert.equal((await server.http.delete(`/api/public/members/${created.body.id}`, { token })).status, 200);
    assert.equal((await server.http.get(`/api/public/members/${created.body.id}`, { token })).status, 404);
  });

  test("another organization's members, groups and collections answer 404", async () => {
    const otherMembers = await server.http.get<{ data: { id: string }[] }>(`/api/organizations/${otherOrgId}/users`, {
      token: ownerSession.accessToken,
    });
    const otherOwner = otherMembers.body.data[0]?.id ?? randomUUID();
    assert.equal((await server.http.get(`/api/public/members/${otherOwner}`, { token })).status, 404);
    assert.equal((await server.http.delete(`/api/public/members/${otherOwner}`, { token })).status, 404);
    const otherCollections = await server.http.get<{ data: { id: string }[] }>(
      `/api/organizations/${otherOrgId}/collections`,
      {
        token: ownerSession.accessToken,
      },
    );
    const otherCollection = otherCollections.body.data[0]?.id ?? randomUUID();
    assert.equal((await server.http.get(`/api/public/collections/${otherCollection}`, { token })).status, 404);
    assert.equal((await server.http.delete(`/api/public/collections/${otherCollection}`, { token })).status, 404);
  });

  test('collections and policies', async () => {
    const collections = await server.http.get<{ data: { id: string; object: string }[] }>('/api/public/collections', {
      token,
    });
    assert.equal(collections.body.data.length, 1);
    const collectionId = collections.body.data[0]?.id ?? '';
    const updated = await server.http.put<{ externalId: string }>(`/api/public/collections/${collectionId}`, {
      token,
      json: { externalId: 'c-1', groups: [] },
    });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.externalId, 'c-1');
    const policy = await server.http.put<{ enabled: boolean; type: number }>('/api/public/policies/1', {
      token,
      json: { enabled: true, data: { minLength: 14, requireUpper: true } },
    });
    assert.equal(policy.status, 200, policy.text);
    assert.deepEqual([policy.body.type, policy.body.enabled], [1, true]);
    const policies = await server.http.get<{ data: { type: number }[] }>('/api/public/policies', { token });
    assert.deepEqual(
      policies.body.data.map((p) => p.type),
      [1],
    );
    assert.equal((await server.http.put('/api/public/policies/99', { token, json: { enabled: true } })).status, 400);
    assert.equal((await server.http.get('/api/public/policies/40000', { token })).status, 400);
  });

  test('organization/import syncs a directory: invites, groups, removals', async () => {
    const first = await server.http.post<{ invited: number }>('/api/public/organization/import', {
      token,
      json: {
        members: [
          { email: 'ada@example.com', externalId: 'ada', deleted: false },
          { email: 'bob@example.com', externalId: 'bob', deleted: false },
        ],
        groups: [{ name: 'Staff', externalId: 'staff', memberExternalIds: ['ada', 'bob'] }],
        overwriteExisting: false,
      },
    });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.invited, 2);
    const second = await server.http.post('/api/public/organization/import', {
      token,
      json: {
        members: [{ email: 'ada@example.com', externalId: 'ada', deleted: false }],
        groups: [],
        overwriteExisting: true,
      },
    });
    assert.equal(second.status, 200, second.text);
    const members = await server.http.get<{ data: { email: string }[] }>('/api/public/members', { token });
    assert.deepEqual(members.body.data.map((m) => m.email).sort(), ['ada@example.com', 'owner@example.com']);
  });

  test('a directory import that fails midway changes nothing', async () => {
    const res = await server.http.post('/api/public/organization/import', {
      token,
      json: {
        members: [
          { email: 'ada@example.com', externalId: 'ada', deleted: true },
          { email: 'twice@example.com', externalId: 'twice-1', deleted: false },
          { email: 'twice@example.com', externalId: 'twice-2', deleted: false },
        ],
        groups: [{ name: 'Never', externalId: 'never', memberExternalIds: ['twice-1'] }],
        overwriteExisting: false,
      },
    });
    assert.equal(res.status, 400, res.text);
    const members = await server.http.get<{ data: { email: string }[] }>('/api/public/members', { token });
    assert.deepEqual(
      members.body.data.map((m) => m.email).sort(),
      ['ada@example.com', 'owner@example.com'],
      'ada was not removed',
    );
    const groups = await server.http.get<{ data: { name: string }[] }>('/api/public/groups', { token });
    assert.ok(!groups.body.data.some((g) => g.name === 'Never'));
  });

  test('rotating the API key ends the tokens issued with the old one', async () => {
    const rotated = await server.http.post<{ apiKey: string }>(`/api/organizations/${orgId}/rotate-api-key`, {
      token: ownerSession.accessToken,
      json: { masterPasswordHash: owner.masterPasswordHash },
    });
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.apiKey, apiKey);
    assert.equal((await server.http.get('/api/public/members', { token })).status, 401);
    assert.equal((await orgToken(server.http, orgId, apiKey)).status, 400);
    const fresh = await orgToken(server.http, orgId, rotated.body.apiKey);
    assert.equal((await server.http.get('/api/public/members', { token: fresh.token })).status, 200);
  });
});
