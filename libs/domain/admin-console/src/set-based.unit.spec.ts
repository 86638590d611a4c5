import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  createDomainHarness,
  createOrganization,
  encString,
  rsaEncString,
  type DomainHarness,
} from '@keyhaven/testing';
import {
  CollectionsService,
  DirectoryImportService,
  GroupsService,
  MembersService,
  MemberStatus,
  PoliciesService,
  PolicyType,
  directoryImportSchema,
  type Membership,
} from './index';

/**
 * The admin console's list and bulk paths run a number of statements that does not depend on the
 * organization's size: each path is run on a small and on a ten times larger organization, and both
 * must issue the same number of statements (counted on the store every repository uses).
 */
let h: DomainHarness;
let statements = 0;
before(async () => {
  h = await createDomainHarness();
  const db = h.db;
  const rows = db.rows.bind(db);
  const execute = db.execute.bind(db);
  db.rows = <T>(text: string, params?: unknown[]): Promise<T[]> => {
    statements++;
    return rows<T>(text, params);
  };
  db.execute = (text: string, params?: unknown[]): Promise<number> => {
    statements++;
    return execute(text, params);
  };
});
after(async () => {
  await h.close();
});

async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const before = statements;
  const result = await fn();
  return { result, statements: statements - before };
}

/** N members with accounts (status as given), each with one of the org's collections and one group. */
async function seedMembers(owner: Membership, n: number, status: number): Promise<string[]> {
  const tag = randomUUID().slice(0, 8);
  await h.db.execute(
    `INSERT INTO app_user (id, email, name, master_password_hash, key, public_key, kdf, kdf_iterations, security_stamp, api_key,
       creation_date, revision_date, account_revision_date)
     SELECT gen_random_uuid(), 'm' || i || '-' || $1::text || '@example.com', 'M' || i, 'hash', '2.aaaa|bbbb|cccc', 'pk',
       0, 600000, md5(i::text), md5('k' || i), now(), now(), now()
     FROM generate_series(1, $2::int) i`,
    [tag, n],
  );
  const ids = await h.db.rows<{ id: string }>(
    `INSERT INTO organization_user (id, organization_id, user_id, key, status, type, creation_date, revision_date)
     SELECT gen_random_uuid(), $1, u.id, CASE WHEN $3::int = 2 THEN '4.key' END, $3::int, 2, now(), now()
     FROM app_user u WHERE u.email LIKE 'm%-' || $2::text || '@example.com' RETURNING id`,
    [owner.organizationId, tag, status],
  );
  await h.db.execute(
    `INSERT INTO collection_user (collection_id, organization_user_id, read_only, hide_passwords, manage)
     SELECT (SELECT id FROM collection WHERE organization_id = $1 LIMIT 1), m, true, false, false FROM unnest($2::uuid[]) m`,
    [owner.organizationId, ids.map((r) => r.id)],
  );
  return ids.map((r) => r.id);
}

async function seedGroupsAndCollections(owner: Membership, n: number): Promise<void> {
  const groups = h.get(GroupsService);
  const collections = h.get(CollectionsService);
  for (let i = 0; i < n; i++) {
    const collection = await collections.create(owner, { name: encString(), users: [] });
    await groups.create(owner, {
      name: `G${i}`,
      collections: [{ id: collection.id, readOnly: false, hidePasswords: false, manage: false }],
    });
  }
}

/** Runs `path` against a small and a ten times larger organization; both counts must match. */
async function sameAtBothSizes(
  path: (owner: Membership, size: number) => Promise<unknown>,
  seed: (owner: Membership, size: number) => Promise<void>,
): Promise<number> {
  const counts: number[] = [];
  for (const size of [4, 40]) {
    const org = await createOrganization(h);
    await seed(org.ownerMembership, size);
    counts.push((await counted(() => path(org.ownerMembership, size))).statements);
  }
  assert.equal(counts[0], counts[1], `statements at 4 and 40: ${counts.join(' and ')}`);
  return counts[0] ?? 0;
}

describe('admin-console paths are set-based', () => {
  test('the members list with collections and groups', async () => {
    const n = await sameAtBothSizes(
      (owner) => h.get(MembersService).listWithAccess(owner.organizationId),
      async (owner, size) => {
        await seedMembers(owner, size, MemberStatus.Confirmed);
      },
    );
    assert.ok(n <= 3, `${n} statements`);
  });

  test('the groups list with collections, and the collections list with access', async () => {
    await sameAtBothSizes(
      (owner) => h.get(GroupsService).listWithCollections(owner.organizationId),
      seedGroupsAndCollections,
    );
    await sameAtBothSizes((owner) => h.get(CollectionsService).listAccessDetails(owner), seedGroupsAndCollections);
    await sameAtBothSizes(
      (owner) => h.get(CollectionsService).listWithAccess(owner.organizationId),
      seedGroupsAndCollections,
    );
  });

  test('a directory import, new and again (everyone matched)', async () => {
    const body = (size: number) =>
      directoryImportSchema.parse({
        members: Array.from({ length: size }, (_, i) => ({ email: `Dir${i}@Example.com`, externalId: `d${i}` })),
        groups: Array.from({ length: size / 4 }, (_, g) => ({
          name: `G${g}`,
          externalId: `g${g}`,
          memberExternalIds: Array.from({ length: size }, (_, i) => `d${i}`).filter((_, i) => i % (size / 4) === g),
        })),
      });
    const directory = h.get(DirectoryImportService);
    // The first invitation ever signed loads (or makes) the signing key: not part of the import.
    await directory.import((await createOrganization(h)).ownerMembership, body(4));
    const fresh = await sameAtBothSizes(
      async (owner, size) => {
        const result = await directory.import(owner, body(size));
        assert.deepEqual(result, { invited: size, removed: 0, groups: size / 4 });
      },
      () => Promise.resolve(),
    );
    assert.ok(fresh <= 15, `${fresh} statements`);
    await sameAtBothSizes(
      async (owner, size) => {
        const result = await directory.import(owner, body(size));
        assert.deepEqual(result, { invited: 0, removed: 0, groups: size / 4 });
      },
      async (owner, size) => {
        await directory.import(owner, body(size));
      },
    );
  });

  test('turning on two-step login revokes every member without it in one go', async () => {
    await sameAtBothSizes(
      async (owner, size) => {
        await h.get(PoliciesService).save(owner.organizationId, PolicyType.TwoFactorAuthentication, { enabled: true });
        const revoked = await h.db.rows<{ n: number }>(
          'SELECT count(*)::int AS n FROM organization_user WHERE organization_id = $1 AND status = -1',
          [owner.organizationId],
        );
        assert.equal(revoked[0]?.n, size);
      },
      async (owner, size) => {
        await seedMembers(owner, size, MemberStatus.Confirmed);
      },
    );
  });

  test('a bulk confirm is one transaction with a fixed number of statements', async () => {
    let accepted: string[] = [];
    await sameAtBothSizes(
      async (owner, size) => {
        const results = await h.get(MembersService).confirmMany(
          owner,
          [...accepted, accepted[0] ?? ''].map((id) => ({ id, key: rsaEncString() })),
        );
        assert.equal(results.filter((r) => r.error === '').length, size);
        assert.equal(results.at(-1)?.error, 'The member has not accepted the invitation yet.', 'listed twice');
      },
      async (owner, size) => {
        accepted = await seedMembers(owner, size, MemberStatus.Accepted);
      },
    );
  });
});
