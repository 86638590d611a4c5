import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addConfirmedMember,
  createCollection,
  createDomainHarness,
  createOrganization,
  encString,
  invite,
  registerUser,
  reloadUser,
  rejectsWithCode,
  rsaEncString,
  uniqueEmail,
  type DomainHarness,
  type TestOrganization,
} from '@keyhaven/testing';
import { NestedConnectionError } from '@keyhaven/db';
import {
  GroupRepository,
  GroupsService,
  MemberRepository,
  MembersService,
  MemberStatus,
  MemberType,
  OrganizationRepository,
  OrganizationsService,
  createOrganizationSchema,
  groupRequestSchema,
  inviteSchema,
} from './index';

let h: DomainHarness;
let members: MembersService;
let memberRepo: MemberRepository;
before(async () => {
  h = await createDomainHarness();
  members = h.get(MembersService);
  memberRepo = h.get(MemberRepository);
});
after(async () => {
  await h.close();
});

function inviteBody(email: string, type: 0 | 1 | 2 | 4, extra: Record<string, unknown> = {}) {
  return inviteSchema.parse({ emails: [email], type, ...extra });
}

async function memberByEmail(organizationId: string, email: string) {
  return (await memberRepo.listDetails(organizationId)).find((m) => (m.userEmail ?? m.email) === email);
}

/** A member's direct collection assignments as stored (read straight from the table: the outcome, not a call). */
async function assignedCollections(memberId: string) {
  const rows = await h.db.rows<{ collection_id: string; read_only: boolean; hide_passwords: boolean; manage: boolean }>(
    'SELECT collection_id, read_only, hide_passwords, manage FROM collection_user WHERE organization_user_id = $1 ORDER BY collection_id',
    [memberId],
  );
  return rows.map((r) => ({
    id: r.collection_id,
    readOnly: r.read_only,
    hidePasswords: r.hide_passwords,
    manage: r.manage,
  }));
}

async function assignedGroups(memberId: string): Promise<string[]> {
  const rows = await h.db.rows<{ group_id: string }>(
    'SELECT group_id FROM group_user WHERE organization_user_id = $1 ORDER BY group_id',
    [memberId],
  );
  return rows.map((r) => r.group_id);
}

/** A Custom member with manageUsers who manages one collection and can only read another. */
async function customManager(org: TestOrganization) {
  const managed = await createCollection(h, org.ownerMembership);
  const readable = await createCollection(h, org.ownerMembership);
  const manager = await addConfirmedMember(h, org, {
    type: MemberType.Custom,
    permissions: { manageUsers: true },
    collections: [
      { id: managed.id, manage: true },
      { id: readable.id, readOnly: true },
    ],
  });
  return { managed, readable, actor: manager.membership, user: manager.member };
}

describe('grant rules', () => {
  test('a Custom manageUsers member invites with a collection they manage, well under a second', async () => {
    const org = await createOrganization(h);
    const { managed, actor } = await customManager(org);
    const email = uniqueEmail('invitee');
    const started = performance.now();
    const [result] = await members.invite(
      actor,
      inviteBody(email, MemberType.User, {
        collections: [{ id: managed.id, readOnly: true, hidePasswords: true }],
      }),
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `the invitation took ${Math.round(elapsed)} ms`);
    assert.ok(result?.inviteUrl, 'the link comes back when mail is not delivered');
    const invited = await memberByEmail(org.org.id, email);
    assert.equal(invited?.status, MemberStatus.Invited);
    assert.deepEqual(await assignedCollections(invited.id), [
      { id: managed.id, readOnly: true, hidePasswords: true, manage: false },
    ]);
  });

  test('nobody below admin hands out a collection they do not manage; nothing is written', async () => {
    const org = await createOrganization(h);
    const { managed, readable, actor } = await customManager(org);
    const email = uniqueEmail('invitee');
    await rejectsWithCode(
      members.invite(
        actor,
        inviteBody(email, MemberType.User, { collections: [{ id: managed.id }, { id: readable.id }] }),
      ),
      'not_found',
      /Collection/,
    );
    await rejectsWithCode(
      members.invite(actor, inviteBody(email, MemberType.User, { collections: [{ id: org.defaultCollection.id }] })),
      'not_found',
    );
    assert.equal(await memberByEmail(org.org.id, email), undefined);
  });

  test('roles: a Custom manager invites only Users, an Admin no Owner, an Owner anyone', async () => {
    const org = await createOrganization(h);
    const { actor } = await customManager(org);
    const admin = await addConfirmedMember(h, org, { type: MemberType.Admin });
    for (const type of [MemberType.Owner, MemberType.Admin, MemberType.Custom]) {
      const email = uniqueEmail('role');
      await rejectsWithCode(members.invite(actor, inviteBody(email, type)), 'not_found');
      assert.equal(await memberByEmail(org.org.id, email), undefined);
    }
    await rejectsWithCode(members.invite(admin.membership, inviteBody(uniqueEmail(), MemberType.Owner)), 'not_found');
    await members.invite(admin.membership, inviteBody(uniqueEmail(), MemberType.Admin));
    const ownerInvite = uniqueEmail('owner2');
    await members.invite(org.ownerMembership, inviteBody(ownerInvite, MemberType.Owner));
    assert.equal((await memberByEmail(org.org.id, ownerInvite))?.type, MemberType.Owner);
  });

  test('assigning groups needs manageGroups', async () => {
    const org = await createOrganization(h);
    const { actor } = await customManager(org);
    const group = await h
      .get(GroupsService)
      .create(org.ownerMembership, groupRequestSchema.parse({ name: 'Everyone', collections: [], users: [] }));
    const email = uniqueEmail();
    await rejectsWithCode(
      members.invite(actor, inviteBody(email, MemberType.User, { groups: [group.id] })),
      'not_found',
    );
    assert.equal(await memberByEmail(org.org.id, email), undefined);
    const withGroups = await addConfirmedMember(h, org, {
      type: MemberType.Custom,
      permissions: { manageUsers: true, manageGroups: true },
    });
    await members.invite(withGroups.membership, inviteBody(email, MemberType.User, { groups: [group.id] }));
    const invited = await memberByEmail(org.org.id, email);
    assert.deepEqual(await assignedGroups(invited?.id ?? ''), [group.id]);
  });

  test('a Custom manager cannot widen their own access, directly or through a group', async () => {
    const org = await createOrganization(h);
    const { managed, actor } = await customManager(org);
    const before = await assignedCollections(actor.id);
    await rejectsWithCode(
      members.update(actor, actor.id, {
        type: MemberType.Custom,
        permissions: { manageUsers: true },
        collections: [{ id: managed.id, readOnly: false, hidePasswords: false, manage: true }],
      }),
      'not_found',
    );
    assert.deepEqual(await assignedCollections(actor.id), before);

    const groupManager = await addConfirmedMember(h, org, {
      type: MemberType.Custom,
      permissions: { manageGroups: true },
    });
    const groups = h.get(GroupsService);
    await rejectsWithCode(
      groups.create(
        groupManager.membership,
        groupRequestSchema.parse({ name: 'Mine', collections: [], users: [groupManager.membership.id] }),
      ),
      'not_found',
    );
    await rejectsWithCode(
      groups.create(
        groupManager.membership,
        groupRequestSchema.parse({ name: 'Theirs', collections: [{ id: org.defaultCollection.id }], users: [] }),
      ),
      'not_found',
    );
    assert.deepEqual(await h.get(GroupRepository).listForOrg(org.org.id), []);
  });
});

describe('grant rules: what a manager cannot see', () => {
  test("updating a member's collections keeps the assignments to collections the manager does not manage", async () => {
    const org = await createOrganization(h);
    const { managed, actor } = await customManager(org);
    const { membership } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [{ id: org.defaultCollection.id, readOnly: true }],
    });
    await members.update(actor, membership.id, {
      type: MemberType.User,
      permissions: null,
      collections: [{ id: managed.id, readOnly: false, hidePasswords: false, manage: false }],
    });
    assert.deepEqual(
      await assignedCollections(membership.id),
      [
        { id: managed.id, readOnly: false, hidePasswords: false, manage: false },
        { id: org.defaultCollection.id, readOnly: true, hidePasswords: false, manage: false },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  test("updating a group's collections keeps the collections the manager does not manage", async () => {
    const org = await createOrganization(h);
    const mine = await createCollection(h, org.ownerMembership);
    const { membership: manager } = await addConfirmedMember(h, org, {
      type: MemberType.Custom,
      permissions: { manageGroups: true },
      collections: [{ id: mine.id, manage: true }],
    });
    const groups = h.get(GroupsService);
    const group = await groups.create(
      org.ownerMembership,
      groupRequestSchema.parse({ name: 'Team', collections: [{ id: org.defaultCollection.id }], users: [] }),
    );
    await groups.update(manager, group.id, groupRequestSchema.parse({ name: 'Team', collections: [{ id: mine.id }] }));
    const rows = await h.db.rows<{ collection_id: string }>(
      'SELECT collection_id FROM collection_group WHERE group_id = $1',
      [group.id],
    );
    assert.deepEqual(rows.map((r) => r.collection_id).sort(), [mine.id, org.defaultCollection.id].sort());
    // What the manager does manage is theirs to take away.
    await groups.update(manager, group.id, groupRequestSchema.parse({ name: 'Team', collections: [] }));
    const left = await h.db.rows<{ collection_id: string }>(
      'SELECT collection_id FROM collection_group WHERE group_id = $1',
      [group.id],
    );
    assert.deepEqual(
      left.map((r) => r.collection_id),
      [org.defaultCollection.id],
    );
  });
});

describe('member lifecycle', () => {
  test('an invitation works once, and only for the invited email', async () => {
    const org = await createOrganization(h);
    const invitee = await registerUser(h, 'invitee');
    const stranger = await registerUser(h, 'stranger');
    const { memberId, token } = await invite(h, org.ownerMembership, invitee.user.email, { type: MemberType.User });
    await rejectsWithCode(members.accept(org.org.id, memberId, stranger.user.id, token), 'bad_request', /invalid/);
    await rejectsWithCode(members.accept(org.org.id, memberId, invitee.user.id, 'not-a-token'), 'bad_request');
    const other = await createOrganization(h);
    await rejectsWithCode(members.accept(other.org.id, memberId, invitee.user.id, token), 'bad_request');
    await members.accept(org.org.id, memberId, invitee.user.id, token);
    const accepted = await memberRepo.findInOrg(org.org.id, memberId);
    assert.deepEqual([accepted?.status, accepted?.userId], [MemberStatus.Accepted, invitee.user.id]);
    await rejectsWithCode(members.accept(org.org.id, memberId, invitee.user.id, token), 'bad_request', /already/);
  });

  test('confirming needs an accepted member; it stores the key and makes the member sync', async () => {
    const org = await createOrganization(h);
    const invitee = await registerUser(h, 'invitee');
    const { memberId, token } = await invite(h, org.ownerMembership, invitee.user.email, { type: MemberType.User });
    await rejectsWithCode(members.confirm(org.ownerMembership, memberId, rsaEncString()), 'bad_request', /accepted/);
    await members.accept(org.org.id, memberId, invitee.user.id, token);
    const revision = (await reloadUser(h, invitee.user.id)).accountRevisionDate;
    const key = rsaEncString();
    await members.confirm(org.ownerMembership, memberId, key);
    const confirmed = await memberRepo.findInOrg(org.org.id, memberId);
    assert.deepEqual([confirmed?.status, confirmed?.key], [MemberStatus.Confirmed, key]);
    assert.ok((await reloadUser(h, invitee.user.id)).accountRevisionDate > revision);
  });

  test('bulk confirm reports each failure and confirms the rest', async () => {
    const org = await createOrganization(h);
    const ready = await registerUser(h, 'ready');
    const pending = await registerUser(h, 'pending');
    const a = await invite(h, org.ownerMembership, ready.user.email, { type: MemberType.User });
    const b = await invite(h, org.ownerMembership, pending.user.email, { type: MemberType.User });
    await members.accept(org.org.id, a.memberId, ready.user.id, a.token);
    const results = await members.confirmMany(org.ownerMembership, [
      { id: a.memberId, key: rsaEncString() },
      { id: b.memberId, key: rsaEncString() },
    ]);
    assert.equal(results.find((r) => r.id === a.memberId)?.error, '');
    assert.match(results.find((r) => r.id === b.memberId)?.error ?? '', /accepted/);
    assert.equal((await memberRepo.findInOrg(org.org.id, a.memberId))?.status, MemberStatus.Confirmed);
    assert.equal((await memberRepo.findInOrg(org.org.id, b.memberId))?.status, MemberStatus.Invited);
  });

  test('the last owner cannot be demoted, removed or leave; with a second owner they can', async () => {
    const org = await createOrganization(h);
    const owner = org.ownerMembership;
    await rejectsWithCode(
      members.update(owner, owner.id, { type: MemberType.Admin, permissions: null }),
      'bad_request',
      /at least one owner/,
    );
    await rejectsWithCode(members.remove(owner, [owner.id]), 'bad_request', /at least one owner/);
    await rejectsWithCode(h.get(OrganizationsService).leave(owner), 'bad_request', /last owner/);
    assert.equal((await memberRepo.findInOrg(org.org.id, owner.id))?.type, MemberType.Owner);

    await addConfirmedMember(h, org, { type: MemberType.Owner });
    await h.get(OrganizationsService).leave(owner);
    assert.equal(await memberRepo.findInOrg(org.org.id, owner.id), null);
  });

  test('a member id of another organization matches nothing', async () => {
    const org = await createOrganization(h);
    const other = await createOrganization(h);
    const victim = await addConfirmedMember(h, other, { type: MemberType.User });
    await rejectsWithCode(members.remove(org.ownerMembership, [victim.membership.id]), 'not_found');
    await rejectsWithCode(members.revoke(org.ownerMembership, [victim.membership.id]), 'not_found');
    await rejectsWithCode(
      members.update(org.ownerMembership, victim.membership.id, { type: MemberType.Admin, permissions: null }),
      'not_found',
    );
    const untouched = await memberRepo.findInOrg(other.org.id, victim.membership.id);
    assert.deepEqual([untouched?.status, untouched?.type], [MemberStatus.Confirmed, MemberType.User]);
  });
});

describe('transaction context', () => {
  test('a statement that escapes the open transaction fails at once instead of waiting for its own connection', async () => {
    const { user } = await registerUser(h, 'tx');
    const started = performance.now();
    await assert.rejects(
      h.db.transaction(async () => {
        await createOrg(user.id, user.email);
        // Straight to the DataSource: a second connection, which the embedded store does not have.
        await h.dataSource.query('SELECT 1');
      }),
      NestedConnectionError,
    );
    assert.ok(performance.now() - started < 1000, `failed after ${Math.round(performance.now() - started)} ms`);
    assert.deepEqual(await memberRepo.listForUser(user.id), [], 'the transaction rolled back');
  });

  /** An organization insert as the service does it, for a given creator. */
  function createOrg(userId: string, email: string) {
    return h
      .get(OrganizationsService)
      .create(
        userId,
        createOrganizationSchema.parse({ name: 'In a transaction', billingEmail: email, key: encString() }),
      );
  }

  test("a repository read inside a transaction sees the transaction's own writes; a throw undoes them all", async () => {
    const { user } = await registerUser(h, 'tx');
    let orgId = '';
    await assert.rejects(
      h.db.transaction(async () => {
        const org = await createOrg(user.id, user.email);
        orgId = org.id;
        // Other repositories, injected elsewhere, run on the same connection and see the new rows.
        assert.ok(await h.get(OrganizationRepository).findById(org.id));
        const membership = await memberRepo.findByUser(org.id, user.id);
        assert.equal(membership?.type, MemberType.Owner);
        throw new Error('planned');
      }),
      /planned/,
    );
    assert.ok(orgId);
    assert.equal(await h.get(OrganizationRepository).findById(orgId), null);
    assert.deepEqual(await memberRepo.listForUser(user.id), []);
  });

  test('a nested transaction is a savepoint: its failure undoes only its own work', async () => {
    const { user } = await registerUser(h, 'tx');
    const kept = await h.db.transaction(async () => {
      const first = await createOrg(user.id, user.email);
      await assert.rejects(
        h.db.transaction(async () => {
          await createOrg(user.id, user.email);
          throw new Error('inner');
        }),
        /inner/,
      );
      return first;
    });
    const memberships = await memberRepo.listForUser(user.id);
    assert.deepEqual(
      memberships.map((m) => m.organizationId),
      [kept.id],
    );
  });

  test("concurrent transactions are isolated: one's rollback never takes the other's committed work with it", async () => {
    const a = await registerUser(h, 'tx-a');
    const b = await registerUser(h, 'tx-b');
    const [committed, failed] = await Promise.allSettled([
      createOrg(a.user.id, a.user.email),
      h.db.transaction(async () => {
        await createOrg(b.user.id, b.user.email);
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('planned');
      }),
    ]);
    assert.equal(committed.status, 'fulfilled');
    assert.equal(failed.status, 'rejected');
    assert.equal((await memberRepo.listForUser(a.user.id)).length, 1);
    assert.equal((await memberRepo.listForUser(b.user.id)).length, 0);
  });

  test('an invitation with collections by a Custom manager inside an open transaction sees its own rows and finishes fast', async () => {
    const org = await createOrganization(h);
    const { managed, actor } = await customManager(org);
    const emails = [uniqueEmail('a'), uniqueEmail('b')];
    const started = performance.now();
    const invited = await h.db.transaction(async () => {
      const rows = await members.insertInvites(
        actor,
        inviteSchema.parse({ emails, type: MemberType.User, collections: [{ id: managed.id }] }),
      );
      // The same email again, in the same transaction, is seen as already there.
      await rejectsWithCode(members.insertInvites(actor, inviteBody(emails[0] ?? '', MemberType.User)), 'bad_request');
      return rows;
    });
    assert.ok(performance.now() - started < 1000, `took ${Math.round(performance.now() - started)} ms`);
    assert.equal(invited.length, 2);
    for (const { id } of invited)
      assert.deepEqual(
        (await assignedCollections(id)).map((c) => c.id),
        [managed.id],
      );
  });
});
