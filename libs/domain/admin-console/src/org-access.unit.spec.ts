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
  rejectsWithCode,
  type DomainHarness,
} from '@keyhaven/testing';
import { AccessTokens, LoginService } from '@keyhaven/domain-auth';
import {
  CollectionRepository,
  CollectionsService,
  GroupsService,
  MemberRepository,
  MembersService,
  MemberStatus,
  MemberType,
  OrgAccess,
  OrganizationsService,
  groupRequestSchema,
  type Need,
} from './index';

let h: DomainHarness;
before(async () => {
  h = await createDomainHarness();
});
after(async () => {
  await h.close();
});

/** Which of these needs the user's membership satisfies, as every org-scoped route checks them. */
async function allowed(orgId: string, userId: string, needs: Need[]): Promise<Need[]> {
  const orgAccess = h.get(OrgAccess);
  const granted: Need[] = [];
  for (const need of needs) if (await orgAccess.find(orgId, userId, need)) granted.push(need);
  return granted;
}

const NEEDS: Need[] = [
  'member',
  'owner',
  'admin',
  'manageUsers',
  'manageGroups',
  'editAnyCollection',
  'managePolicies',
];

/** The member's effective access per collection of the org: [readOnly, hidePasswords, manage]. */
async function collectionAccess(userId: string, organizationId: string): Promise<Record<string, boolean[]>> {
  const visible = await h.get(CollectionRepository).listForUser(userId);
  return Object.fromEntries(
    visible
      .filter((c) => c.organizationId === organizationId)
      .map((c) => [c.id, [c.readOnly, c.hidePasswords, c.manage]]),
  );
}

describe('roles and Custom flags', () => {
  test('Owner, Admin, User and Custom each get exactly their rights', async () => {
    const org = await createOrganization(h);
    const admin = await addConfirmedMember(h, org, { type: MemberType.Admin });
    const user = await addConfirmedMember(h, org, { type: MemberType.User });
    const custom = await addConfirmedMember(h, org, {
      type: MemberType.Custom,
      permissions: { manageUsers: true, managePolicies: true },
    });
    const id = org.org.id;
    assert.deepEqual(await allowed(id, org.owner.user.id, NEEDS), NEEDS);
    assert.deepEqual(
      await allowed(id, admin.member.user.id, NEEDS),
      NEEDS.filter((n) => n !== 'owner'),
    );
    assert.deepEqual(await allowed(id, user.member.user.id, NEEDS), ['member']);
    assert.deepEqual(await allowed(id, custom.member.user.id, NEEDS), ['member', 'manageUsers', 'managePolicies']);
  });

  test('flags on a non-Custom member grant nothing; unknown flags are dropped', async () => {
    const org = await createOrganization(h);
    const user = await addConfirmedMember(h, org, {
      type: MemberType.User,
      permissions: { manageUsers: true },
    });
    assert.deepEqual(await allowed(org.org.id, user.member.user.id, NEEDS), ['member']);
    const custom = await addConfirmedMember(h, org, {
      type: MemberType.Custom,
      permissions: { manageGroups: true, superUser: true } as Record<string, boolean>,
    });
    assert.deepEqual(Object.keys(custom.membership.permissions).includes('superUser'), false);
    assert.deepEqual(await allowed(org.org.id, custom.member.user.id, NEEDS), ['member', 'manageGroups']);
  });

  test('invited, accepted and revoked members, strangers and unknown orgs all get the same 404', async () => {
    const org = await createOrganization(h);
    const members = h.get(MembersService);
    const orgAccess = h.get(OrgAccess);

    const invitee = await registerUser(h, 'invitee');
    const { memberId, token } = await invite(h, org.ownerMembership, invitee.user.email, { type: MemberType.Admin });
    await rejectsWithCode(orgAccess.require(org.org.id, invitee.user.id), 'not_found');
    await members.accept(org.org.id, memberId, invitee.user.id, token);
    await rejectsWithCode(orgAccess.require(org.org.id, invitee.user.id), 'not_found', /Organization/);

    const revoked = await addConfirmedMember(h, org, { type: MemberType.Admin });
    await members.revoke(org.ownerMembership, [revoked.membership.id]);
    await rejectsWithCode(orgAccess.require(org.org.id, revoked.member.user.id), 'not_found');

    const stranger = await registerUser(h, 'stranger');
    await rejectsWithCode(orgAccess.require(org.org.id, stranger.user.id), 'not_found', /Organization/);
    const other = await createOrganization(h);
    await rejectsWithCode(orgAccess.require(other.org.id, org.owner.user.id), 'not_found', /Organization/);
  });
});

describe('collection access', () => {
  test('each assignment gives exactly its read-only, hidden-password and manage flags; unassigned collections are not seen', async () => {
    const org = await createOrganization(h);
    const readOnly = await createCollection(h, org.ownerMembership);
    const hidden = await createCollection(h, org.ownerMembership);
    const managed = await createCollection(h, org.ownerMembership);
    const { member } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [
        { id: readOnly.id, readOnly: true },
        { id: hidden.id, hidePasswords: true },
        { id: managed.id, manage: true },
      ],
    });
    assert.deepEqual(await collectionAccess(member.user.id, org.org.id), {
      [readOnly.id]: [true, false, false],
      [hidden.id]: [false, true, false],
      [managed.id]: [false, false, true],
    });
  });

  test('with a direct and a group path, the most permissive one wins', async () => {
    const org = await createOrganization(h);
    const collection = await createCollection(h, org.ownerMembership);
    const { member, membership } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [{ id: collection.id, readOnly: true, hidePasswords: true }],
    });
    assert.deepEqual(await collectionAccess(member.user.id, org.org.id), { [collection.id]: [true, true, false] });
    await h.get(GroupsService).create(
      org.ownerMembership,
      groupRequestSchema.parse({
        name: 'Editors',
        collections: [{ id: collection.id, readOnly: false, hidePasswords: false, manage: true }],
        users: [membership.id],
      }),
    );
    assert.deepEqual(await collectionAccess(member.user.id, org.org.id), { [collection.id]: [false, false, true] });
  });

  test('owners and admins manage every collection of their org without assignments; Custom flags do not', async () => {
    const org = await createOrganization(h);
    const admin = await addConfirmedMember(h, org, { type: MemberType.Admin });
    const custom = await addConfirmedMember(h, org, {
      type: MemberType.Custom,
      permissions: { editAnyCollection: true, manageUsers: true },
    });
    const collection = await createCollection(h, org.ownerMembership);
    const everything = { [org.defaultCollection.id]: [false, false, true], [collection.id]: [false, false, true] };
    assert.deepEqual(await collectionAccess(admin.member.user.id, org.org.id), everything);
    assert.deepEqual(await collectionAccess(org.owner.user.id, org.org.id), everything);
    assert.deepEqual(await collectionAccess(custom.member.user.id, org.org.id), {});
    // Another org's owner sees none of them.
    const other = await createOrganization(h);
    assert.deepEqual(await collectionAccess(other.owner.user.id, org.org.id), {});
  });

  test('a revoked member reaches none of their collections; restored, they get them back', async () => {
    const org = await createOrganization(h);
    const collection = await createCollection(h, org.ownerMembership);
    const { member, membership } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [{ id: collection.id, manage: true }],
    });
    const members = h.get(MembersService);
    await members.revoke(org.ownerMembership, [membership.id]);
    assert.deepEqual(await collectionAccess(member.user.id, org.org.id), {});
    await members.restore(org.ownerMembership, [membership.id]);
    const restored = await h.get(MemberRepository).findInOrg(org.org.id, membership.id);
    assert.equal(restored?.status, MemberStatus.Confirmed, 'a member with a key returns confirmed');
    assert.deepEqual(await collectionAccess(member.user.id, org.org.id), { [collection.id]: [false, false, true] });
  });

  test('a Custom member without org-wide rights edits and deletes only the collections they manage', async () => {
    const org = await createOrganization(h);
    const mine = await createCollection(h, org.ownerMembership);
    const theirs = await createCollection(h, org.ownerMembership);
    const { member, membership } = await addConfirmedMember(h, org, {
      type: MemberType.Custom,
      permissions: { createNewCollections: true },
      collections: [{ id: mine.id, manage: true }],
    });
    const collections = h.get(CollectionsService);
    const name = encString();
    await collections.update(membership, mine.id, { name });
    assert.equal((await h.get(CollectionRepository).findInOrg(org.org.id, mine.id))?.name, name);
    await rejectsWithCode(collections.update(membership, theirs.id, { name }), 'not_found');
    await rejectsWithCode(collections.delete(membership, [theirs.id]), 'not_found');
    assert.equal((await h.get(CollectionRepository).findInOrg(org.org.id, theirs.id))?.name, theirs.name);
    // What they create, they manage.
    const created = await collections.create(membership, { name: encString() });
    assert.deepEqual((await collectionAccess(member.user.id, org.org.id))[created.id], [false, false, true]);
  });
});

describe('taking access away', () => {
  test('deleting a group or a collection, or removing the member, takes away the access it gave', async () => {
    const org = await createOrganization(h);
    const viaGroup = await createCollection(h, org.ownerMembership);
    const direct = await createCollection(h, org.ownerMembership);
    const { member, membership } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [{ id: direct.id }],
    });
    const groups = h.get(GroupsService);
    const group = await groups.create(
      org.ownerMembership,
      groupRequestSchema.parse({ name: 'G', collections: [{ id: viaGroup.id }], users: [membership.id] }),
    );
    assert.deepEqual(
      Object.keys(await collectionAccess(member.user.id, org.org.id)).sort(),
      [direct.id, viaGroup.id].sort(),
    );

    await groups.delete(org.org.id, [group.id]);
    assert.deepEqual(Object.keys(await collectionAccess(member.user.id, org.org.id)), [direct.id]);

    const deleter = await addConfirmedMember(h, org, {
      type: MemberType.Custom,
      permissions: { deleteAnyCollection: true },
    });
    await h.get(CollectionsService).delete(deleter.membership, [direct.id]);
    assert.equal(await h.get(CollectionRepository).findInOrg(org.org.id, direct.id), null);
    assert.deepEqual(await collectionAccess(member.user.id, org.org.id), {});

    const again = await createCollection(h, org.ownerMembership, [{ id: membership.id }]);
    assert.deepEqual(Object.keys(await collectionAccess(member.user.id, org.org.id)), [again.id]);
    await h.get(MembersService).remove(org.ownerMembership, [membership.id]);
    assert.deepEqual(await collectionAccess(member.user.id, org.org.id), {});
    await rejectsWithCode(h.get(OrgAccess).require(org.org.id, member.user.id), 'not_found');
  });

  test('an Admin cannot revoke or remove an Owner, and nobody revokes themselves', async () => {
    const org = await createOrganization(h);
    const admin = await addConfirmedMember(h, org, { type: MemberType.Admin });
    const members = h.get(MembersService);
    await rejectsWithCode(members.revoke(admin.membership, [org.ownerMembership.id]), 'not_found');
    await rejectsWithCode(members.remove(admin.membership, [org.ownerMembership.id]), 'not_found');
    await rejectsWithCode(members.revoke(admin.membership, [admin.membership.id]), 'bad_request', /yourself/);
    assert.deepEqual(await allowed(org.org.id, org.owner.user.id, ['owner']), ['owner']);
    assert.deepEqual(await allowed(org.org.id, admin.member.user.id, ['admin']), ['admin']);
  });
});

describe('organization API key', () => {
  test('its token acts for the organization until the key is rotated; reading the key needs the master password', async () => {
    const org = await createOrganization(h);
    const orgs = h.get(OrganizationsService);
    await rejectsWithCode(
      orgs.apiKey(org.org.id, org.owner.user.id, { masterPasswordHash: 'wrong' }, false),
      'bad_request',
      /Invalid password/,
    );
    const key = await orgs.apiKey(org.org.id, org.owner.user.id, { masterPasswordHash: org.owner.password }, false);
    const grant = (secret: string) =>
      h.get(LoginService).token(
        {
          grant_type: 'client_credentials',
          client_id: `organization.${org.org.id}`,
          client_secret: secret,
          scope: 'api.organization',
        },
        '192.0.2.20',
      );
    const token = String((await grant(key))['access_token']);
    const principal = await h.get(AccessTokens).verify(token);
    assert.deepEqual([principal?.kind, principal?.userId], ['organization', org.org.id]);
    await assert.rejects(grant(`${key}x`), /Invalid client/);

    const rotated = await orgs.apiKey(org.org.id, org.owner.user.id, { masterPasswordHash: org.owner.password }, true);
    assert.notEqual(rotated, key);
    assert.equal(await h.get(AccessTokens).verify(token), null);
    await assert.rejects(grant(key), /Invalid client/);
  });
});
