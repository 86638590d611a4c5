import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { enableTotp, type HttpResponse } from '@keyhaven/testing';
import { createOrganizationKeys, encryptCipher, encryptFolder, encryptType2 } from '@keyhaven/vault-crypto';
import {
  type Db,
  MemberStatus,
  MemberType,
  accept,
  assertApiError,
  call,
  confirm,
  createCollection,
  createOrg,
  createOrgItem,
  invite,
  join,
  newPeople,
  ok,
  type Member,
  type Method,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';

/**
 * Each policy the server enforces must change what the server allows, not just be stored:
 * 0 two-step login, 3 single organization, 4 require SSO (needs 3), 5 organization data ownership.
 */

interface Policy {
  id: string | null;
  organizationId: string;
  type: number;
  enabled: boolean;
  data: Record<string, unknown> | null;
}
interface SyncBody {
  profile: { organizations: { id: string }[] };
  collections: { id: string }[];
  ciphers: { id: string; organizationId: string | null }[];
  policies: Policy[];
}

describeOnBackends('organization policies change what the server allows', (backend) => {
  let server: BackedServer;
  let db: Db;

  const send = (who: Person, method: Method, path: string, json?: unknown): Promise<HttpResponse> =>
    call(server.http, who.token, method, path, json);
  const putPolicy = (
    who: Person,
    org: Org,
    type: number | string,
    enabled: boolean,
    data?: unknown,
  ): Promise<HttpResponse> =>
    send(who, 'PUT', `/api/organizations/${org.id}/policies/${String(type)}`, {
      enabled,
      ...(data === undefined ? {} : { data }),
    });
  const sync = async (who: Person): Promise<SyncBody> =>
    ok(await call<SyncBody>(server.http, who.token, 'GET', '/api/sync'), `sync ${who.email}`);
  const revisionDate = async (who: Person): Promise<number> =>
    ok(await call<number>(server.http, who.token, 'GET', '/api/accounts/revision-date'), 'revision date');
  const personalItem = (who: Person, name: string): ReturnType<typeof encryptCipher> =>
    encryptCipher(who.account.userKey, { type: 2, name, secureNote: { type: 0 } });
  const orgItem = (org: Org, name: string): ReturnType<typeof encryptCipher> & { organizationId: string } => ({
    ...encryptCipher(org.orgKey, { type: 2, name, secureNote: { type: 0 } }),
    organizationId: org.id,
  });

  before(async () => {
    server = await startAllInOne(backend, { LOGIN_RATE_LIMIT_PER_MINUTE: '10000' });
    db = server.db;
  });

  after(async () => {
    await server.stop();
  });

  describe('who may read and write policies', () => {
    let org: Org;
    let admin: Member;
    let user: Member;
    let customUsers: Member;
    let customPolicies: Member;

    before(async () => {
      const [owner, a, u, cu, cp] = (await newPeople(server.http, [
        'rw-owner@example.com',
        'rw-admin@example.com',
        'rw-user@example.com',
        'rw-custom-users@example.com',
        'rw-custom-policies@example.com',
      ])) as [Person, Person, Person, Person, Person];
      org = await createOrg(server.http, owner, 'Policies RW');
      const t = org.owner.token;
      admin = await join(server.http, org, t, a, { type: MemberType.Admin });
      user = await join(server.http, org, t, u, { type: MemberType.User });
      customUsers = await join(server.http, org, t, cu, {
        type: MemberType.Custom,
        permissions: { manageUsers: true },
      });
      customPolicies = await join(server.http, org, t, cp, {
        type: MemberType.Custom,
        permissions: { managePolicies: true },
      });
    });

    test('a User or a Custom member without managePolicies cannot write or read them (404, unchanged)', async () => {
      for (const who of [user, customUsers]) {
        assertApiError(await db.unchanged(() => putPolicy(who, org, 2, true, { minLength: 20 })), 404);
        assertApiError(await db.unchanged(() => send(who, 'GET', `/api/organizations/${org.id}/policies`)), 404);
        assertApiError(await db.unchanged(() => send(who, 'GET', `/api/organizations/${org.id}/policies/2`)), 404);
      }
    });

    test('owner, admin and Custom managePolicies write them; they read back via GET', async () => {
      const byCustom = await putPolicy(customPolicies, org, 2, true, { minLength: 20 });
      assert.equal(byCustom.status, 200, byCustom.text);
      const { revisionDate, ...written } = byCustom.body as Policy & { revisionDate?: string };
      assert.deepEqual(
        { ...written, id: null },
        { id: null, organizationId: org.id, type: 2, enabled: true, data: { minLength: 20 }, object: 'policy' },
      );
      // The bw CLI parses revisionDate as a date; without it, login failed for members of such organizations.
      assert.ok(revisionDate && !Number.isNaN(Date.parse(revisionDate)), `revisionDate: ${String(revisionDate)}`);
      const byAdmin = await putPolicy(admin, org, 9, true, { minutes: 30, action: 'lock' });
      assert.equal(byAdmin.status, 200, byAdmin.text);
      const byOwner = await putPolicy(org.owner, org, 10, false);
      assert.equal(byOwner.status, 200, byOwner.text);

      for (const reader of [org.owner, admin, customPolicies]) {
        const one = ok(
          await call<Policy>(server.http, reader.token, 'GET', `/api/organizations/${org.id}/policies/2`),
          'get policy',
        );
        assert.equal(one.enabled, true);
        assert.deepEqual(one.data, { minLength: 20 });
        const all = ok(
          await call<{ data: Policy[] }>(server.http, reader.token, 'GET', `/api/organizations/${org.id}/policies`),
          'list policies',
        );
        assert.deepEqual(
          all.data.map((p) => [p.type, p.enabled]),
          [
            [2, true],
            [9, true],
            [10, false],
          ],
        );
      }
      const never = ok(
        await call<Policy>(server.http, admin.token, 'GET', `/api/organizations/${org.id}/policies/6`),
        'never saved',
      );
      assert.equal(never.enabled, false);
    });

    test("enabled policies appear in every member's /api/sync; disabled ones do not", async () => {
      for (const who of [user, customUsers, admin, org.owner]) {
        const policies = (await sync(who)).policies;
        assert.deepEqual(
          policies.map((p) => [p.organizationId, p.type, p.enabled]).sort(),
          [
            [org.id, 2, true],
            [org.id, 9, true],
          ],
          who.email,
        );
        assert.deepEqual(policies.find((p) => p.type === 9)?.data, { minutes: 30, action: 'lock' });
      }
    });

    test('unknown policy types and malformed bodies are 400 and store nothing', async () => {
      for (const type of [23, 99, 1000, -1]) {
        assertApiError(await db.unchanged(() => putPolicy(org.owner, org, type, true)), 400);
      }
      for (const type of ['abc', '1.5', '2x']) {
        assertApiError(await db.unchanged(() => putPolicy(org.owner, org, type, true)), 400);
      }
      for (const body of [{}, { enabled: 'yes' }, { enabled: true, data: 'x' }, { enabled: true, data: [1] }, null]) {
        assertApiError(
          await db.unchanged(() => send(org.owner, 'PUT', `/api/organizations/${org.id}/policies/2`, body)),
          400,
          JSON.stringify(body),
        );
      }
    });

    test('reading an unknown policy type is 400 as well', async () => {
      assertApiError(await db.unchanged(() => send(org.owner, 'GET', `/api/organizations/${org.id}/policies/99`)), 400);
    });

    test('RequireSso (4) cannot be enabled before SingleOrg (3)', async () => {
      const res = await db.unchanged(() => putPolicy(org.owner, org, 4, true));
      assertApiError(res, 400);
      assert.match((res.body as { message: string }).message, /Single Organization/);
    });
  });

  describe('0 TwoFactorAuthentication', () => {
    let org: Org;
    let admin: Member;
    let customPolicies: Member;
    let with2fa: Member;
    let without2fa: Member;
    let acceptedWithout2fa: Member;
    let invitedWithout2fa: Member;
    let invitedLater2fa: Member;
    let collection: string;
    let item: string;
    let revisionBefore = 0;

    before(async () => {
      const people = (await newPeople(server.http, [
        '2fa-owner@example.com',
        '2fa-admin@example.com',
        '2fa-custom@example.com',
        '2fa-with@example.com',
        '2fa-without@example.com',
        '2fa-accepted@example.com',
        '2fa-invited@example.com',
        '2fa-invited-later@example.com',
      ])) as [Person, Person, Person, Person, Person, Person, Person, Person];
      const [owner, a, cp, w, wo, acc, inv, later] = people;
      for (const p of [cp, w]) await enableTotp(server.http, p.account, p.token);
      org = await createOrg(server.http, owner, '2FA required');
      const t = org.owner.token;
      collection = await createCollection(server.http, org, t, 'shared');
      const onShared = { collections: [{ id: collection }] };
      admin = await join(server.http, org, t, a, { type: MemberType.Admin });
      customPolicies = await join(server.http, org, t, cp, {
        type: MemberType.Custom,
        permissions: { managePolicies: true },
      });
      with2fa = await join(server.http, org, t, w, { type: MemberType.User, ...onShared });
      without2fa = await join(server.http, org, t, wo, { type: MemberType.User, ...onShared });
      acceptedWithout2fa = await join(server.http, org, t, acc, { type: MemberType.User, ...onShared }, 'accepted');
      invitedWithout2fa = await join(server.http, org, t, inv, { type: MemberType.User, ...onShared }, 'invited');
      invitedLater2fa = await join(server.http, org, t, later, { type: MemberType.User, ...onShared }, 'invited');
      item = await createOrgItem(server.http, org, t, 'shared item', [collection]);
      assert.equal((await sync(without2fa)).ciphers.filter((c) => c.id === item).length, 1);
    });

    test('enabling it revokes confirmed and accepted non-admin members without 2FA, and keeps everyone else', async () => {
      revisionBefore = await revisionDate(without2fa);
      await new Promise((r) => setTimeout(r, 5));
      const res = await putPolicy(customPolicies, org, 0, true);
      assert.equal(res.status, 200, res.text);
      const statuses = {
        owner: await db.memberStatus(org.owner.memberId),
        admin: await db.memberStatus(admin.memberId),
        customPolicies: await db.memberStatus(customPolicies.memberId),
        with2fa: await db.memberStatus(with2fa.memberId),
        without2fa: await db.memberStatus(without2fa.memberId),
        acceptedWithout2fa: await db.memberStatus(acceptedWithout2fa.memberId),
        invitedWithout2fa: await db.memberStatus(invitedWithout2fa.memberId),
      };
      assert.deepEqual(statuses, {
        owner: MemberStatus.Confirmed,
        admin: MemberStatus.Confirmed,
        customPolicies: MemberStatus.Confirmed,
        with2fa: MemberStatus.Confirmed,
        without2fa: MemberStatus.Revoked,
        acceptedWithout2fa: MemberStatus.Revoked,
        invitedWithout2fa: MemberStatus.Invited,
      });
    });

    test('the revoked member loses the organization, its collections and items', async () => {
      const view = await sync(without2fa);
      assert.deepEqual(view.profile.organizations, []);
      assert.deepEqual(view.collections, []);
      assert.deepEqual(view.ciphers, []);
      assertApiError(await send(without2fa, 'GET', `/api/ciphers/${item}`), 404);
      assertApiError(await send(without2fa, 'GET', `/api/organizations/${org.id}/collections`), 404);
      const kept = await sync(with2fa);
      assert.deepEqual(
        kept.ciphers.map((c) => c.id),
        [item],
      );
      assert.deepEqual(
        kept.policies.map((p) => [p.organizationId, p.type, p.enabled]),
        [[org.id, 0, true]],
      );
    });

    test("policy revocation bumps the revoked member's account revision date so their clients resync", async () => {
      assert.ok(
        (await revisionDate(without2fa)) > revisionBefore,
        'GET /api/accounts/revision-date did not move when the policy revoked the member',
      );
    });

    test('an invitee without 2FA cannot accept; after enabling 2FA they can', async () => {
      const refused = await db.unchanged(() =>
        accept(server.http, org.id, invitedWithout2fa, invitedWithout2fa.memberId, invitedWithout2fa.inviteToken),
      );
      assertApiError(refused, 400);
      assert.match((refused.body as { message: string }).message, /two-step/);
      await enableTotp(server.http, invitedLater2fa.account, invitedLater2fa.token);
      const accepted = await accept(
        server.http,
        org.id,
        invitedLater2fa,
        invitedLater2fa.memberId,
        invitedLater2fa.inviteToken,
      );
      assert.equal(accepted.status, 200, accepted.text);
      assert.equal(await db.memberStatus(invitedLater2fa.memberId), MemberStatus.Accepted);
    });

    test('a member revoked by the policy cannot be restored while they still have no 2FA', async () => {
      const before = await db.fingerprint();
      const res = await send(org.owner, 'PUT', `/api/organizations/${org.id}/users/${without2fa.memberId}/restore`);
      const status = await db.memberStatus(without2fa.memberId);
      assert.equal(
        res.status,
        400,
        `PUT /api/organizations/{org}/users/{member}/restore with policy 0 on and no 2FA answered ${String(res.status)}; member status now ${String(status)}`,
      );
      assert.equal(status, MemberStatus.Revoked);
      assert.equal(await db.fingerprint(), before, 'the database changed');
    });

    test('a member who turns 2FA off while the policy is on loses access (revoked)', async () => {
      const off = await send(with2fa, 'PUT', '/api/two-factor/disable', {
        type: 0,
        masterPasswordHash: with2fa.account.masterPasswordHash,
      });
      assert.equal(off.status, 200, off.text);
      assert.equal(
        await db.memberStatus(with2fa.memberId),
        MemberStatus.Revoked,
        'PUT /api/two-factor/disable left the member confirmed in an organization that requires 2FA',
      );
      assert.deepEqual((await sync(with2fa)).ciphers, [], 'the member still syncs the org items without 2FA');
    });
  });

  describe('3 SingleOrg and 4 RequireSso', () => {
    let orgS: Org;
    let orgX: Org;
    let adminS: Member;
    let onlyHere: Member;
    let alsoInX: Member;
    let alsoInXasX: Member;
    let late: Person;

    before(async () => {
      const [ownerS, a, only, also, lateComer, ownerX] = (await newPeople(server.http, [
        'single-owner@example.com',
        'single-admin@example.com',
        'single-only@example.com',
        'single-also@example.com',
        'single-late@example.com',
        'other-owner@example.com',
      ])) as [Person, Person, Person, Person, Person, Person];
      late = lateComer;
      orgS = await createOrg(server.http, ownerS, 'Single org');
      orgX = await createOrg(server.http, ownerX, 'Other org');
      adminS = await join(server.http, orgS, orgS.owner.token, a, { type: MemberType.Admin });
      await join(server.http, orgX, orgX.owner.token, a, { type: MemberType.User });
      onlyHere = await join(server.http, orgS, orgS.owner.token, only, { type: MemberType.User });
      alsoInX = await join(server.http, orgS, orgS.owner.token, also, { type: MemberType.User });
      alsoInXasX = await join(server.http, orgX, orgX.owner.token, also, { type: MemberType.User });
    });

    test('enabling it revokes members who belong to another organization; admins and single-org members stay', async () => {
      const res = await putPolicy(orgS.owner, orgS, 3, true);
      assert.equal(res.status, 200, res.text);
      assert.equal(await db.memberStatus(alsoInX.memberId), MemberStatus.Revoked);
      assert.equal(await db.memberStatus(alsoInXasX.memberId), MemberStatus.Confirmed, 'the other org is untouched');
      assert.equal(await db.memberStatus(onlyHere.memberId), MemberStatus.Confirmed);
      assert.equal(await db.memberStatus(adminS.memberId), MemberStatus.Confirmed);
      assert.deepEqual(
        (await sync(onlyHere)).policies.map((p) => [p.organizationId, p.type]),
        [[orgS.id, 3]],
      );
    });

    test('a member cannot create another organization', async () => {
      const keys = await createOrganizationKeys(onlyHere.account.publicKey);
      const res = await db.unchanged(() =>
        send(onlyHere, 'POST', '/api/organizations', {
          name: 'Escape',
          billingEmail: onlyHere.email,
          key: keys.key,
          keys: { publicKey: keys.publicKey, encryptedPrivateKey: keys.encryptedPrivateKey },
          collectionName: encryptType2(keys.orgKey, 'Default'),
        }),
      );
      assertApiError(res, 400);
    });

    test('a member cannot join another organization', async () => {
      const { memberId, inviteToken } = await invite(server.http, orgX, orgX.owner.token, onlyHere.email, {
        type: MemberType.User,
      });
      const res = await db.unchanged(() => accept(server.http, orgX.id, onlyHere, memberId, inviteToken));
      assertApiError(res, 400);
      assert.equal(await db.memberStatus(memberId), MemberStatus.Invited);
    });

    test('owners and admins are exempt: the owner may still create another organization', async () => {
      const other = await createOrg(server.http, orgS.owner, 'Owner side project');
      assert.ok(other.id);
    });

    test('a member revoked by the policy cannot be restored while still in another organization', async () => {
      const before = await db.fingerprint();
      const res = await send(orgS.owner, 'PUT', `/api/organizations/${orgS.id}/users/${alsoInX.memberId}/restore`);
      const status = await db.memberStatus(alsoInX.memberId);
      assert.equal(
        res.status,
        400,
        `PUT /api/organizations/{S}/users/{member}/restore with policy 3 on, member confirmed in X, answered ${String(res.status)}; member status now ${String(status)}`,
      );
      assert.equal(status, MemberStatus.Revoked);
      assert.equal(await db.fingerprint(), before, 'the database changed');
    });

    test('no path ends with a confirmed member of a single-org organization who is also in another one', async () => {
      // Accepted (not yet confirmed) in S, then joins X, then S confirms them.
      const inS = await join(server.http, orgS, orgS.owner.token, late, { type: MemberType.User }, 'accepted');
      const { memberId: inX, inviteToken } = await invite(server.http, orgX, orgX.owner.token, late.email, {
        type: MemberType.User,
      });
      const joinedX = await accept(server.http, orgX.id, late, inX, inviteToken);
      const confirmedS = await confirm(server.http, orgS, orgS.owner.token, inS.memberId, late.userId);
      const sStatus = await db.memberStatus(inS.memberId);
      const xStatus = await db.memberStatus(inX);
      assert.ok(
        !(sStatus === MemberStatus.Confirmed && xStatus !== MemberStatus.Invited && xStatus !== MemberStatus.Revoked),
        `accept X answered ${String(joinedX.status)}, confirm in S answered ${String(confirmedS.status)}: ` +
          `now confirmed in S (SingleOrg on) and ${xStatus === MemberStatus.Confirmed ? 'confirmed' : 'accepted'} in X`,
      );
    });

    test('RequireSso can be enabled once SingleOrg is on, and then SingleOrg cannot be turned off', async () => {
      const sso = await putPolicy(orgS.owner, orgS, 4, true);
      assert.equal(sso.status, 200, sso.text);
      const off = await db.unchanged(() => putPolicy(orgS.owner, orgS, 3, false));
      assertApiError(off, 400);
      assert.equal((await putPolicy(orgS.owner, orgS, 4, false)).status, 200);
      assert.equal((await putPolicy(orgS.owner, orgS, 3, false)).status, 200);
    });
  });

  describe('5 OrganizationDataOwnership', () => {
    let org: Org;
    let admin: Member;
    let user: Member;
    let custom: Member;
    let collection: string;
    let folderId: string;

    before(async () => {
      const [owner, a, u, c] = (await newPeople(server.http, [
        'own-owner@example.com',
        'own-admin@example.com',
        'own-user@example.com',
        'own-custom@example.com',
      ])) as [Person, Person, Person, Person];
      org = await createOrg(server.http, owner, 'Data ownership');
      collection = await createCollection(server.http, org, org.owner.token, 'work');
      admin = await join(server.http, org, org.owner.token, a, { type: MemberType.Admin });
      user = await join(server.http, org, org.owner.token, u, {
        type: MemberType.User,
        collections: [{ id: collection }],
      });
      custom = await join(server.http, org, org.owner.token, c, {
        type: MemberType.Custom,
        permissions: { managePolicies: true },
        collections: [{ id: collection }],
      });
      folderId = ok(
        await call<{ id: string }>(
          server.http,
          user.token,
          'POST',
          '/api/folders',
          encryptFolder(user.account.userKey, 'f'),
        ),
        'folder',
      ).id;
      const res = await putPolicy(custom, org, 5, true);
      assert.equal(res.status, 200, res.text);
    });

    test('the policy is in the member’s sync and readable by admins', async () => {
      assert.deepEqual(
        (await sync(user)).policies.map((p) => [p.organizationId, p.type, p.enabled]),
        [[org.id, 5, true]],
      );
      const read = ok(
        await call<Policy>(server.http, admin.token, 'GET', `/api/organizations/${org.id}/policies/5`),
        'get policy',
      );
      assert.equal(read.enabled, true);
    });

    test('a User member cannot create personal items or import into the personal vault (400, unchanged)', async () => {
      for (const who of [user, custom]) {
        const mine = personalItem(who, 'personal');
        const attempts: [string, () => Promise<HttpResponse>][] = [
          ['POST /api/ciphers', () => send(who, 'POST', '/api/ciphers', mine)],
          [
            'POST /api/ciphers/create',
            () => send(who, 'POST', '/api/ciphers/create', { cipher: mine, collectionIds: [] }),
          ],
          [
            'POST /api/ciphers/import',
            () => send(who, 'POST', '/api/ciphers/import', { ciphers: [mine], folders: [], folderRelationships: [] }),
          ],
        ];
        for (const [name, attempt] of attempts)
          assertApiError(await db.unchanged(attempt, name), 400, `${who.email} ${name}`);
      }
      const intoFolder = { ...personalItem(user, 'in folder'), folderId };
      assertApiError(await db.unchanged(() => send(user, 'POST', '/api/ciphers', intoFolder)), 400);
    });

    test('the same member can still create organization items', async () => {
      const res = await send(user, 'POST', '/api/ciphers/create', {
        cipher: orgItem(org, 'work item'),
        collectionIds: [collection],
      });
      assert.equal(res.status, 200, res.text);
      assert.equal((res.body as { organizationId: string }).organizationId, org.id);
    });

    test('owners and admins are exempt', async () => {
      for (const who of [org.owner, admin]) {
        const res = await send(who, 'POST', '/api/ciphers', personalItem(who, 'mine'));
        assert.equal(res.status, 200, `${who.email}: ${res.text}`);
        const imported = await send(who, 'POST', '/api/ciphers/import', {
          ciphers: [personalItem(who, 'imported')],
          folders: [],
          folderRelationships: [],
        });
        assert.equal(imported.status, 200, `${who.email}: ${imported.text}`);
      }
    });

    test('a revoked member is no longer bound by it; disabling the policy frees everyone', async () => {
      const off = await putPolicy(org.owner, org, 5, false);
      assert.equal(off.status, 200, off.text);
      assert.deepEqual((await sync(user)).policies, []);
      const res = await send(user, 'POST', '/api/ciphers', personalItem(user, 'personal again'));
      assert.equal(res.status, 200, res.text);
      assert.equal((await putPolicy(org.owner, org, 5, true)).status, 200);
      const revoke = await send(org.owner, 'PUT', `/api/organizations/${org.id}/users/${user.memberId}/revoke`);
      assert.equal(revoke.status, 200, revoke.text);
      const afterRevoke = await send(user, 'POST', '/api/ciphers', personalItem(user, 'personal after revoke'));
      assert.equal(afterRevoke.status, 200, afterRevoke.text);
    });
  });
});
