import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type Db,
  MemberType,
  assertApiError,
  call,
  createCollection,
  createOrg,
  createOrgItem,
  invite,
  join,
  newPeople,
  type Member,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';

/**
 * Handing out access is an access decision too: Custom managers of users or groups must not grant
 * themselves (or anyone) collections they cannot manage, nor touch members above their rank.
 */
describeOnBackends('who may grant access', (backend) => {
  let server: BackedServer;
  let db: Db;
  let org: Org;
  let secretCollection = '';
  let secretItem = '';
  let groupManager: Member;
  let userManager: Member;
  let otherCustom: Member;

  before(async () => {
    server = await startAllInOne(backend);
    db = server.db;
    const [owner, groups, users, other] = (await newPeople(server.http, [
      'grant-owner@example.com',
      'grant-groups@example.com',
      'grant-users@example.com',
      'grant-other@example.com',
    ])) as [Person, Person, Person, Person];
    org = await createOrg(server.http, owner, 'Grants');
    secretCollection = await createCollection(server.http, org, org.owner.token, 'Secrets', []);
    secretItem = await createOrgItem(server.http, org, org.owner.token, 'secret', [secretCollection]);
    groupManager = await join(server.http, org, org.owner.token, groups, {
      type: MemberType.Custom,
      permissions: { manageGroups: true },
    });
    userManager = await join(server.http, org, org.owner.token, users, {
      type: MemberType.Custom,
      permissions: { manageUsers: true },
    });
    otherCustom = await join(server.http, org, org.owner.token, other, {
      type: MemberType.Custom,
      permissions: { accessReports: true },
    });
  });

  after(async () => {
    await server.stop();
  });

  test('a group manager cannot create a group that hands them a collection they do not manage', async () => {
    const res = await db.unchanged(() =>
      call(server.http, groupManager.token, 'POST', `/api/organizations/${org.id}/groups`, {
        name: 'escalate',
        collections: [{ id: secretCollection, readOnly: false, hidePasswords: false, manage: true }],
        users: [groupManager.memberId],
      }),
    );
    assertApiError(res, 404);
    assertApiError(await call(server.http, groupManager.token, 'GET', `/api/ciphers/${secretItem}`), 404);
  });

  test('a group manager cannot add themself to a group', async () => {
    const group = await call<{ id: string }>(
      server.http,
      org.owner.token,
      'POST',
      `/api/organizations/${org.id}/groups`,
      {
        name: 'owners group',
        collections: [{ id: secretCollection, readOnly: false, hidePasswords: false, manage: false }],
        users: [],
      },
    );
    assert.equal(group.status, 200, group.text);
    const res = await db.unchanged(() =>
      call(server.http, groupManager.token, 'PUT', `/api/organizations/${org.id}/groups/${group.body.id}/users`, [
        groupManager.memberId,
      ]),
    );
    assertApiError(res, 404);
  });

  test('a user manager cannot give themself or others collections, or assign groups', async () => {
    const self = await db.unchanged(() =>
      call(server.http, userManager.token, 'PUT', `/api/organizations/${org.id}/users/${userManager.memberId}`, {
        type: MemberType.Custom,
        permissions: { manageUsers: true },
        collections: [{ id: secretCollection, readOnly: false, hidePasswords: false, manage: true }],
      }),
    );
    assertApiError(self, 404);
    const invited = await db.unchanged(() =>
      call(server.http, userManager.token, 'POST', `/api/organizations/${org.id}/users/invite`, {
        emails: ['sneaky@example.com'],
        type: MemberType.User,
        collections: [{ id: secretCollection, readOnly: false, hidePasswords: false, manage: false }],
      }),
    );
    assertApiError(invited, 404);
    assertApiError(await call(server.http, userManager.token, 'GET', `/api/ciphers/${secretItem}`), 404);
  });

  test('a user manager cannot demote another Custom member or resend an admin invitation', async () => {
    const demote = await db.unchanged(() =>
      call(server.http, userManager.token, 'PUT', `/api/organizations/${org.id}/users/${otherCustom.memberId}`, {
        type: MemberType.User,
      }),
    );
    assertApiError(demote, 404);
    const pendingAdmin = await invite(server.http, org, org.owner.token, 'future-admin@example.com', {
      type: MemberType.Admin,
    });
    const resend = await call(
      server.http,
      userManager.token,
      'POST',
      `/api/organizations/${org.id}/users/${pendingAdmin.memberId}/reinvite`,
    );
    assertApiError(resend, 404);
  });

  test('the owner can still do all of it', async () => {
    const res = await call(
      server.http,
      org.owner.token,
      'PUT',
      `/api/organizations/${org.id}/users/${userManager.memberId}`,
      {
        type: MemberType.Custom,
        permissions: { manageUsers: true },
        collections: [{ id: secretCollection, readOnly: true, hidePasswords: false, manage: false }],
      },
    );
    assert.equal(res.status, 200, res.text);
    assert.equal((await call(server.http, userManager.token, 'GET', `/api/ciphers/${secretItem}`)).status, 200);
  });

  test("deleting an org item for good moves every member's revision date, so their clients drop it", async () => {
    const before = await call<number>(server.http, userManager.token, 'GET', '/api/accounts/revision-date');
    await new Promise((r) => setTimeout(r, 5));
    const res = await call(server.http, org.owner.token, 'DELETE', `/api/ciphers/${secretItem}`);
    assert.equal(res.status, 200, res.text);
    const after = await call<number>(server.http, userManager.token, 'GET', '/api/accounts/revision-date');
    assert.ok(after.body > before.body, 'the member who could see the item must resync');
  });
});
