import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Database } from '@keyhaven/db';
import {
  addConfirmedMember,
  cipherRequest,
  createCollection,
  createDomainHarness,
  createOrganization,
  encString,
  invite,
  registerUser,
  rejectsWithCode,
  rsaEncString,
  reloadUser,
  type DomainHarness,
  type TestOrganization,
} from '@keyhaven/testing';
import { PushType } from '@keyhaven/contracts';
import { MembersService, MemberType, PoliciesService, PolicyType } from '@keyhaven/domain-admin-console';
import {
  BulkCipherService,
  CipherAccessRepository,
  CipherService,
  FolderService,
  ImportService,
  PurgeService,
  SharingService,
  SyncService,
  orgImportSchema,
  type CipherAccess,
} from './index';
import { toNewCipher } from './ciphers/new-cipher';
import { ImportStagingRepository } from './import/import-staging.repository';

let h: DomainHarness;
let ciphers: CipherService;
let bulk: BulkCipherService;
let folders: FolderService;
let imports: ImportService;
let sharing: SharingService;
let access: CipherAccessRepository;
before(async () => {
  h = await createDomainHarness();
  ciphers = h.get(CipherService);
  bulk = h.get(BulkCipherService);
  folders = h.get(FolderService);
  imports = h.get(ImportService);
  sharing = h.get(SharingService);
  access = h.get(CipherAccessRepository);
});
after(async () => {
  await h.close();
});

async function newCipher(userId: string, fields: Record<string, unknown> = {}): Promise<string> {
  const created = await ciphers.createCipher(userId, null, cipherRequest(fields));
  return String(created['id']);
}

async function deletedDateOf(userId: string, id: string): Promise<Date | null | undefined> {
  return (await access.findForUser(id, userId))?.cipher.deletedDate;
}

/** An org item in the given collection, created by the owner. */
async function orgCipher(org: TestOrganization, collectionId: string): Promise<string> {
  const created = await ciphers.createCipher(org.owner.user.id, null, cipherRequest({ organizationId: org.org.id }), [
    collectionId,
  ]);
  return String(created['id']);
}

async function accessOf(userId: string, cipherId: string): Promise<CipherAccess | null> {
  return (await access.findForUser(cipherId, userId))?.access ?? null;
}

/** Push messages this user's clients were sent, after the bus delivered what was published. */
async function pushesFor(userId: string): Promise<{ type: number; id: unknown }[]> {
  await h.settle();
  return h.pushes.filter((p) => p.userId === userId).map((p) => ({ type: p.type, id: p.payload['Id'] }));
}

describe('owner scoping', () => {
  test("another user's item is invisible: read, update, partial update, share and sync all miss it", async () => {
    const alice = await registerUser(h, 'alice');
    const mallory = await registerUser(h, 'mallory');
    const id = await newCipher(alice.user.id);
    const before = await access.findForUser(id, alice.user.id);

    await rejectsWithCode(ciphers.getCipher(mallory.user.id, id), 'not_found');
    await rejectsWithCode(ciphers.updateCipher(mallory.user.id, null, id, cipherRequest()), 'not_found');
    await rejectsWithCode(ciphers.partialUpdate(mallory.user.id, id, { favorite: true }), 'not_found');
    const { org } = await createOrganization(h, mallory);
    await rejectsWithCode(
      sharing.share(mallory.user.id, null, id, {
        cipher: cipherRequest({ organizationId: org.id }),
        collectionIds: [],
      }),
      'not_found',
    );
    const synced = await h.get(SyncService).sync(mallory.user.id, true);
    assert.deepEqual(synced['ciphers'], []);

    const after = await access.findForUser(id, alice.user.id);
    assert.deepEqual(after, before, "alice's item is exactly as it was");
  });

  test("bulk trash, restore, delete and move by another user change none of the owner's items", async () => {
    const alice = await registerUser(h, 'alice');
    const mallory = await registerUser(h, 'mallory');
    const kept = await newCipher(alice.user.id);
    const trashed = await newCipher(alice.user.id);
    await bulk.softDelete(alice.user.id, null, [trashed]);
    const malloryFolder = await folders.createFolder(mallory.user.id, encString());
    const revisionBefore = (await reloadUser(h, alice.user.id)).accountRevisionDate;
    const malloryPushes = (await pushesFor(mallory.user.id)).length;

    await bulk.softDelete(mallory.user.id, null, [kept]);
    assert.deepEqual(await bulk.restore(mallory.user.id, null, [trashed]), []);
    await bulk.deletePermanently(mallory.user.id, null, [kept, trashed]);
    await bulk.move(mallory.user.id, [kept], malloryFolder.id);

    assert.equal(await deletedDateOf(alice.user.id, kept), null);
    assert.ok(await deletedDateOf(alice.user.id, trashed), 'still in the trash');
    assert.equal((await ciphers.getCipher(alice.user.id, kept)).cipher.folderId, null);
    assert.deepEqual((await reloadUser(h, alice.user.id)).accountRevisionDate, revisionBefore);
    assert.deepEqual(
      (await pushesFor(mallory.user.id)).slice(malloryPushes),
      [],
      'nothing changed, so nothing was pushed',
    );
  });

  test('the sync of one user has exactly their folders and items', async () => {
    const alice = await registerUser(h, 'alice');
    const bob = await registerUser(h, 'bob');
    const folder = await folders.createFolder(alice.user.id, encString());
    const mine = await newCipher(alice.user.id, { folderId: folder.id });
    await newCipher(bob.user.id);
    await folders.createFolder(bob.user.id, encString());
    const synced = await h.get(SyncService).sync(alice.user.id, false);
    assert.deepEqual(
      (synced['ciphers'] as { id: string; folderId: string }[]).map((c) => [c.id, c.folderId]),
      [[mine, folder.id]],
    );
    assert.deepEqual(
      (synced['folders'] as { id: string }[]).map((f) => f.id),
      [folder.id],
    );
  });
});

describe('folders', () => {
  test("an item cannot be filed in another user's folder, and nothing is created", async () => {
    const alice = await registerUser(h, 'alice');
    const bob = await registerUser(h, 'bob');
    const bobsFolder = await folders.createFolder(bob.user.id, encString());
    await rejectsWithCode(
      ciphers.createCipher(alice.user.id, null, cipherRequest({ folderId: bobsFolder.id })),
      'bad_request',
      /Invalid folder/,
    );
    assert.deepEqual(await access.listForUser(alice.user.id), []);
    const id = await newCipher(alice.user.id);
    await rejectsWithCode(ciphers.partialUpdate(alice.user.id, id, { folderId: bobsFolder.id }), 'bad_request');
    await rejectsWithCode(bulk.move(alice.user.id, [id], bobsFolder.id), 'bad_request');
    assert.equal((await ciphers.getCipher(alice.user.id, id)).cipher.folderId, null);
  });

  test("another user's folder cannot be read, renamed or deleted", async () => {
    const alice = await registerUser(h, 'alice');
    const bob = await registerUser(h, 'bob');
    const name = encString();
    const folder = await folders.createFolder(alice.user.id, name);
    await rejectsWithCode(folders.getFolder(bob.user.id, folder.id), 'not_found');
    await rejectsWithCode(folders.renameFolder(bob.user.id, folder.id, encString()), 'not_found');
    await rejectsWithCode(folders.deleteFolder(bob.user.id, folder.id), 'not_found');
    assert.equal((await folders.getFolder(alice.user.id, folder.id)).name, name);
  });

  test('deleting a folder keeps its items, unfiled', async () => {
    const alice = await registerUser(h, 'alice');
    const folder = await folders.createFolder(alice.user.id, encString());
    const id = await newCipher(alice.user.id, { folderId: folder.id });
    assert.equal((await ciphers.getCipher(alice.user.id, id)).cipher.folderId, folder.id);
    await folders.deleteFolder(alice.user.id, folder.id);
    await rejectsWithCode(folders.getFolder(alice.user.id, folder.id), 'not_found');
    assert.equal((await ciphers.getCipher(alice.user.id, id)).cipher.folderId, null);
  });

  test('a personal import whose folder relationship points outside the file stores nothing', async () => {
    const alice = await registerUser(h, 'alice');
    await rejectsWithCode(
      imports.importPersonal(alice.user.id, {
        ciphers: [cipherRequest(), cipherRequest()],
        folders: [{ name: encString() }],
        folderRelationships: [
          { key: 0, value: 0 },
          { key: 1, value: 5 },
        ],
      }),
      'bad_request',
    );
    assert.deepEqual(await access.listForUser(alice.user.id), []);
    const synced = await h.get(SyncService).sync(alice.user.id, true);
    assert.deepEqual(synced['folders'], [], 'the folder created before the failure was rolled back');
  });

  test('staged import items are invisible until they land, and nothing of an abandoned import stays', async () => {
    const alice = await registerUser(h, 'alice-staged');
    const staging = h.get(ImportStagingRepository);
    const db = h.get(Database);
    const importId = randomUUID();
    const staged = [cipherRequest(), cipherRequest()].map((request) => ({
      ...toNewCipher(request, null),
      folderIndex: null,
      collectionIndexes: [],
    }));
    await staging.stage(importId, staged, new Date());
    assert.deepEqual(await access.listForUser(alice.user.id), [], 'no owner yet: nobody sees them');
    await staging.discard(importId);
    const left = await db.rows<{ n: string }>(
      `SELECT (SELECT count(*) FROM cipher WHERE import_id IS NOT NULL)
            + (SELECT count(*) FROM cipher_import_stage) AS n`,
    );
    assert.equal(Number(left[0]?.n), 0);

    await imports.importPersonal(alice.user.id, {
      ciphers: [cipherRequest(), cipherRequest(), cipherRequest()],
      folders: [{ name: encString() }],
      folderRelationships: [{ key: 1, value: 0 }],
    });
    const mine = await access.listForUser(alice.user.id);
    assert.equal(mine.length, 3);
    assert.equal(mine.filter((c) => c.cipher.folderId !== null).length, 1, 'the item filed in the folder');
    const after = await db.rows<{ n: string }>(
      `SELECT (SELECT count(*) FROM cipher WHERE import_id IS NOT NULL)
            + (SELECT count(*) FROM cipher_import_stage) AS n`,
    );
    assert.equal(Number(after[0]?.n), 0, 'a landed import leaves no stage behind');
  });
});

describe('trash and restore', () => {
  test('trash, restore and permanent delete each change only what they apply to, and report only that', async () => {
    const alice = await registerUser(h, 'alice');
    const a = await newCipher(alice.user.id);
    const b = await newCipher(alice.user.id);
    const c = await newCipher(alice.user.id);

    await bulk.softDelete(alice.user.id, null, [a]);
    const firstPushes = await pushesFor(alice.user.id);
    // a and b trashed: a was already, so only b is new.
    await bulk.softDelete(alice.user.id, null, [a, b]);
    const trashPushes = (await pushesFor(alice.user.id)).slice(firstPushes.length);
    assert.deepEqual(trashPushes, [{ type: PushType.SyncCipherUpdate, id: b }]);
    assert.ok(await deletedDateOf(alice.user.id, a));
    assert.ok(await deletedDateOf(alice.user.id, b));
    assert.equal(await deletedDateOf(alice.user.id, c), null);

    const restored = await bulk.restore(alice.user.id, null, [a, c]);
    assert.deepEqual(
      restored.map((r) => r.cipher.id),
      [a],
      'c was not in the trash',
    );
    assert.equal(await deletedDateOf(alice.user.id, a), null);

    const before = (await pushesFor(alice.user.id)).length;
    await bulk.deletePermanently(alice.user.id, null, [b, c]);
    await rejectsWithCode(ciphers.getCipher(alice.user.id, b), 'not_found');
    await rejectsWithCode(ciphers.getCipher(alice.user.id, c), 'not_found');
    assert.deepEqual(
      (await pushesFor(alice.user.id))
        .slice(before)
        .map((p) => p.type)
        .sort(),
      [PushType.SyncLoginDelete, PushType.SyncLoginDelete],
    );
    assert.equal((await ciphers.getCipher(alice.user.id, a)).cipher.deletedDate, null);
  });

  test('a bulk change that changes nothing leaves the account revision date alone', async () => {
    const alice = await registerUser(h, 'alice');
    const id = await newCipher(alice.user.id);
    await bulk.softDelete(alice.user.id, null, [id]);
    const revision = (await reloadUser(h, alice.user.id)).accountRevisionDate;
    await sleep(5);
    await bulk.softDelete(alice.user.id, null, [id]);
    assert.deepEqual((await reloadUser(h, alice.user.id)).accountRevisionDate, revision);
    await bulk.restore(alice.user.id, null, [id]);
    assert.ok((await reloadUser(h, alice.user.id)).accountRevisionDate > revision, 'a real change moves it');
  });

  test('an empty id list is refused', async () => {
    const alice = await registerUser(h, 'alice');
    await rejectsWithCode(bulk.softDelete(alice.user.id, null, []), 'bad_request', /No items/);
  });

  test('moving items into the folder they are already in changes nothing and reports nothing', async () => {
    const alice = await registerUser(h, 'alice');
    const folder = await folders.createFolder(alice.user.id, encString());
    const id = await newCipher(alice.user.id, { folderId: folder.id });
    const before = (await pushesFor(alice.user.id)).length;
    const revision = (await reloadUser(h, alice.user.id)).accountRevisionDate;
    await sleep(5);
    await bulk.move(alice.user.id, [id], folder.id);
    assert.deepEqual((await pushesFor(alice.user.id)).slice(before), []);
    assert.deepEqual((await reloadUser(h, alice.user.id)).accountRevisionDate, revision);

    // A real move is reported once and moves the revision date.
    const other = await folders.createFolder(alice.user.id, encString());
    const beforeMove = (await pushesFor(alice.user.id)).length;
    await bulk.move(alice.user.id, [id], other.id);
    assert.equal((await ciphers.getCipher(alice.user.id, id)).cipher.folderId, other.id);
    assert.deepEqual(
      (await pushesFor(alice.user.id)).slice(beforeMove).map((p) => p.type),
      [PushType.SyncCiphers],
    );
    assert.ok((await reloadUser(h, alice.user.id)).accountRevisionDate > revision);
  });
});

describe('updates', () => {
  test('a stale client copy is refused and the stored item is unchanged', async () => {
    const alice = await registerUser(h, 'alice');
    const id = await newCipher(alice.user.id);
    const stored = await ciphers.getCipher(alice.user.id, id);
    const name = encString();
    await ciphers.updateCipher(alice.user.id, null, id, cipherRequest({ name }));
    await rejectsWithCode(
      ciphers.updateCipher(
        alice.user.id,
        null,
        id,
        cipherRequest({ lastKnownRevisionDate: new Date(stored.cipher.revisionDate.getTime() - 60_000).toISOString() }),
      ),
      'bad_request',
      /out of date/,
    );
    assert.equal((await ciphers.getCipher(alice.user.id, id)).cipher.data['name'], name);
  });

  test('an update cannot move a personal item into an organization (that is what share is for)', async () => {
    const alice = await registerUser(h, 'alice');
    const { org } = await createOrganization(h, alice);
    const id = await newCipher(alice.user.id);
    await rejectsWithCode(
      ciphers.updateCipher(alice.user.id, null, id, cipherRequest({ organizationId: org.id })),
      'bad_request',
      /share/,
    );
    assert.equal((await ciphers.getCipher(alice.user.id, id)).cipher.organizationId, null);
  });

  test('unknown fields from newer clients are kept as sent', async () => {
    const alice = await registerUser(h, 'alice');
    const created = await ciphers.createCipher(
      alice.user.id,
      null,
      cipherRequest({ type: 42, futureThing: { nested: [1, 2] } }),
    );
    assert.equal(created['type'], 42);
    const stored = await ciphers.getCipher(alice.user.id, String(created['id']));
    assert.deepEqual(stored.cipher.data['futureThing'], { nested: [1, 2] });
  });
});

describe('personal ownership policy', () => {
  test('a member under the policy cannot save or import personal items; the owner still can', async () => {
    const org = await createOrganization(h);
    const { member } = await addConfirmedMember(h, org, { type: MemberType.User });
    await h.get(PoliciesService).save(org.org.id, PolicyType.OrganizationDataOwnership, { enabled: true, data: null });

    await rejectsWithCode(
      ciphers.createCipher(member.user.id, null, cipherRequest()),
      'bad_request',
      /Enterprise Policy/,
    );
    await rejectsWithCode(
      imports.importPersonal(member.user.id, { ciphers: [cipherRequest()], folders: [], folderRelationships: [] }),
      'bad_request',
    );
    assert.deepEqual(await access.listForUser(member.user.id), []);
    await newCipher(org.owner.user.id);
  });
});

describe('organization items', () => {
  test('read-only, hidden passwords and manage decide what a member may do with the items', async () => {
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
    const a = await orgCipher(org, readOnly.id);
    const b = await orgCipher(org, hidden.id);
    const c = await orgCipher(org, managed.id);
    const unassigned = await orgCipher(org, org.defaultCollection.id);
    const userId = member.user.id;

    assert.deepEqual(await accessOf(userId, a), {
      edit: false,
      viewPassword: true,
      manage: false,
      collectionIds: [readOnly.id],
    });
    assert.deepEqual(await accessOf(userId, b), {
      edit: true,
      viewPassword: false,
      manage: false,
      collectionIds: [hidden.id],
    });
    assert.deepEqual(await accessOf(userId, c), {
      edit: true,
      viewPassword: true,
      manage: true,
      collectionIds: [managed.id],
    });
    assert.equal(await accessOf(userId, unassigned), null);
    const synced = await h.get(SyncService).sync(userId, true);
    assert.deepEqual(
      (synced['ciphers'] as { id: string; edit: boolean; viewPassword: boolean }[])
        .map((x) => [x.id, x.edit, x.viewPassword])
        .sort(),
      [
        [a, false, true],
        [b, true, false],
        [c, true, true],
      ].sort(),
    );

    const name = (await ciphers.getCipher(userId, a)).cipher.data['name'];
    await rejectsWithCode(
      ciphers.updateCipher(userId, null, a, cipherRequest({ organizationId: org.org.id })),
      'bad_request',
      /permission/,
    );
    assert.equal((await ciphers.getCipher(userId, a)).cipher.data['name'], name);
    await bulk.softDelete(userId, null, [a]);
    await bulk.deletePermanently(userId, null, [a]);
    assert.equal(await deletedDateOf(userId, a), null, 'a read-only item is neither trashed nor deleted');

    // Only a member who manages the item may change its collections.
    await rejectsWithCode(sharing.setCollections(userId, null, b, [hidden.id, managed.id]), 'not_found');
    assert.deepEqual((await accessOf(org.owner.user.id, b))?.collectionIds, [hidden.id]);
    const moved = await sharing.setCollections(userId, null, c, [managed.id, hidden.id]);
    assert.deepEqual((moved?.['collectionIds'] as string[]).slice().sort(), [hidden.id, managed.id].sort());
  });

  test("an org item's changes reach everyone who sees it, with its collections, and nobody else", async () => {
    const org = await createOrganization(h);
    const shared = await createCollection(h, org.ownerMembership);
    const other = await createCollection(h, org.ownerMembership);
    const { member: reader } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [{ id: shared.id }],
    });
    const { member: outsider } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [{ id: other.id }],
    });
    const { member: admin } = await addConfirmedMember(h, org, { type: MemberType.Admin });
    const owner = org.owner.user.id;
    await h.settle();
    const from = h.pushes.length;
    /** [type, collection ids] of the pushes about `id` each user got since `from`. */
    const seen = async (userId: string, id: string): Promise<[number, unknown][]> => {
      await h.settle();
      return h.pushes
        .slice(from)
        .filter((p) => p.userId === userId && p.payload['Id'] === id)
        .map((p) => [p.type, p.payload['CollectionIds']]);
    };

    const id = await orgCipher(org, shared.id);
    await ciphers.updateCipher(owner, 'owner-device', id, cipherRequest({ organizationId: org.org.id }));
    await bulk.softDelete(owner, null, [id]);
    await bulk.restore(owner, null, [id]);
    const expected: [number, unknown][] = [
      [PushType.SyncCipherCreate, [shared.id]],
      [PushType.SyncCipherUpdate, [shared.id]],
      [PushType.SyncCipherUpdate, [shared.id]],
      [PushType.SyncCipherUpdate, [shared.id]],
    ];
    for (const userId of [owner, reader.user.id, admin.user.id]) assert.deepEqual(await seen(userId, id), expected);
    assert.deepEqual(await seen(outsider.user.id, id), []);
    const update = h.pushes.find((p) => p.userId === reader.user.id && p.contextId === 'owner-device');
    assert.ok(update, 'the reader heard of the update');
    assert.equal(update.payload['OrganizationId'], org.org.id);
    assert.equal(update.payload['UserId'], null);

    // Moved to the other collection: the reader drops it, the outsider now fetches it.
    await sharing.setCollections(owner, null, id, [other.id]);
    assert.deepEqual((await seen(reader.user.id, id)).at(-1), [PushType.SyncLoginDelete, [shared.id]]);
    assert.deepEqual(await seen(outsider.user.id, id), [[PushType.SyncCipherUpdate, [other.id]]]);

    await bulk.deletePermanently(owner, null, [id]);
    assert.deepEqual((await seen(outsider.user.id, id)).at(-1), [PushType.SyncLoginDelete, [other.id]]);
    assert.deepEqual((await seen(admin.user.id, id)).at(-1), [PushType.SyncLoginDelete, [other.id]]);
    assert.equal((await seen(reader.user.id, id)).length, 5, 'nothing more after it lost the item');

    // A personal item shared into the org: the old owner replaces it, the other readers fetch it as new.
    const personal = await newCipher(reader.user.id);
    await sharing.share(reader.user.id, null, personal, {
      cipher: cipherRequest({ organizationId: org.org.id }),
      collectionIds: [shared.id],
    });
    assert.deepEqual((await seen(reader.user.id, personal)).at(-1), [PushType.SyncCipherUpdate, [shared.id]]);
    assert.deepEqual(await seen(owner, personal), [[PushType.SyncCipherCreate, [shared.id]]]);
    assert.deepEqual(await seen(outsider.user.id, personal), []);
  });

  test('owners and admins reach every item of their org with full rights; another org reaches none', async () => {
    const org = await createOrganization(h);
    const admin = await addConfirmedMember(h, org, { type: MemberType.Admin });
    const collection = await createCollection(h, org.ownerMembership);
    const id = await orgCipher(org, collection.id);
    assert.deepEqual(await accessOf(admin.member.user.id, id), {
      edit: true,
      viewPassword: true,
      manage: true,
      collectionIds: [collection.id],
    });
    const other = await createOrganization(h);
    assert.equal(await accessOf(other.owner.user.id, id), null);
    await rejectsWithCode(ciphers.getCipher(other.owner.user.id, id), 'not_found');
    await bulk.softDelete(other.owner.user.id, null, [id]);
    assert.equal(await deletedDateOf(admin.member.user.id, id), null);
  });

  test('a revoked member no longer reaches the items', async () => {
    const org = await createOrganization(h);
    const { member, membership } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [{ id: org.defaultCollection.id }],
    });
    const id = await orgCipher(org, org.defaultCollection.id);
    assert.ok(await accessOf(member.user.id, id));
    await h.get(MembersService).revoke(org.ownerMembership, [membership.id]);
    assert.equal(await accessOf(member.user.id, id), null);
    await rejectsWithCode(
      ciphers.updateCipher(member.user.id, null, id, cipherRequest({ organizationId: org.org.id })),
      'not_found',
    );
  });

  test('an org item needs a collection the member can write to, in that org; nothing is created otherwise', async () => {
    const org = await createOrganization(h);
    const readOnly = await createCollection(h, org.ownerMembership);
    const { member } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [{ id: readOnly.id, readOnly: true }],
    });
    const other = await createOrganization(h);
    const request = cipherRequest({ organizationId: org.org.id });
    await rejectsWithCode(
      ciphers.createCipher(member.user.id, null, request, [readOnly.id]),
      'bad_request',
      /collection/,
    );
    await rejectsWithCode(
      ciphers.createCipher(member.user.id, null, request, [other.defaultCollection.id]),
      'bad_request',
      /collection/,
    );
    assert.deepEqual(await access.listForOrg(org.org.id), []);
    assert.deepEqual(await access.listForOrg(other.org.id), []);
    // Someone who is not a member cannot create items in it at all.
    await rejectsWithCode(
      ciphers.createCipher(other.owner.user.id, null, request, [org.defaultCollection.id]),
      'not_found',
    );
  });

  test('sharing a personal item moves it into the org only into writable collections, all or nothing', async () => {
    const org = await createOrganization(h);
    const readOnly = await createCollection(h, org.ownerMembership);
    const { member } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [{ id: readOnly.id, readOnly: true }, { id: org.defaultCollection.id }],
    });
    const first = await newCipher(member.user.id);
    const second = await newCipher(member.user.id);
    const share = (id: string) => ({ ...cipherRequest({ organizationId: org.org.id }), id });
    await rejectsWithCode(
      sharing.shareMany(member.user.id, null, [share(first), share(second)], [readOnly.id]),
      'bad_request',
      /collection/,
    );
    for (const id of [first, second])
      assert.equal((await ciphers.getCipher(member.user.id, id)).cipher.organizationId, null);
    await sharing.shareMany(member.user.id, null, [share(first), share(second)], [org.defaultCollection.id]);
    for (const id of [first, second]) {
      const shared = await ciphers.getCipher(member.user.id, id);
      assert.equal(shared.cipher.organizationId, org.org.id);
      assert.equal(shared.cipher.userId, null);
    }
  });
});

describe('purge and organization import', () => {
  test('purging a vault removes the personal items and folders only; org items stay', async () => {
    const org = await createOrganization(h);
    const { member } = await addConfirmedMember(h, org, {
      type: MemberType.User,
      collections: [{ id: org.defaultCollection.id }],
    });
    const other = await registerUser(h, 'other');
    const othersItem = await newCipher(other.user.id);
    await folders.createFolder(member.user.id, encString());
    await newCipher(member.user.id);
    const orgItem = await orgCipher(org, org.defaultCollection.id);

    await h.get(PurgeService).purge(member.user.id);
    const synced = await h.get(SyncService).sync(member.user.id, true);
    assert.deepEqual(
      (synced['ciphers'] as { id: string }[]).map((c) => c.id),
      [orgItem],
    );
    assert.deepEqual(synced['folders'], []);
    assert.ok(await ciphers.getCipher(other.user.id, othersItem), "another user's vault is untouched");
  });

  test('an organization import needs an importer membership and lands whole or not at all', async () => {
    const org = await createOrganization(h);
    const user = await addConfirmedMember(h, org, { type: MemberType.User });
    const importer = h.get(ImportService);
    const body = (relationships: { key: number; value: number }[]) =>
      orgImportSchema.parse({
        ciphers: [cipherRequest({ organizationId: org.org.id }), cipherRequest({ organizationId: org.org.id })],
        collections: [{ name: encString() }],
        collectionRelationships: relationships,
      });
    const collectionsBefore = await h.db.rows('SELECT id FROM collection WHERE organization_id = $1', [org.org.id]);

    await rejectsWithCode(importer.importOrganization(user.membership, body([])), 'not_found');
    await rejectsWithCode(
      importer.importOrganization(org.ownerMembership, body([{ key: 0, value: 3 }])),
      'bad_request',
      /outside the import/,
    );
    assert.deepEqual(await access.listForOrg(org.org.id), []);
    assert.equal(
      (await h.db.rows('SELECT id FROM collection WHERE organization_id = $1', [org.org.id])).length,
      collectionsBefore.length,
      'the collection created before the failure was rolled back',
    );

    const before = (await pushesFor(user.member.user.id)).length;
    await importer.importOrganization(org.ownerMembership, body([{ key: 1, value: 0 }]));
    const items = await access.listForOrg(org.org.id);
    assert.equal(items.length, 2);
    assert.deepEqual(items.map((i) => i.access.collectionIds.length).sort(), [0, 1]);
    // New collections and items: every member's clients run a full sync.
    assert.deepEqual(
      (await pushesFor(user.member.user.id)).slice(before).map((p) => p.type),
      [PushType.SyncVault],
    );
  });

  test("a member's sync lists the organization only once confirmed, with its collections and policies", async () => {
    const org = await createOrganization(h);
    const invitee = await registerUser(h, 'invitee');
    const pending = await invite(h, org.ownerMembership, invitee.user.email, {
      type: MemberType.User,
      collections: [{ id: org.defaultCollection.id, readOnly: true }],
    });
    await h.get(MembersService).accept(org.org.id, pending.memberId, invitee.user.id, pending.token);
    await h
      .get(PoliciesService)
      .save(org.org.id, PolicyType.MasterPassword, { enabled: true, data: { minLength: 12 } });
    const sync = h.get(SyncService);

    const before = await sync.sync(invitee.user.id, true);
    assert.deepEqual((before['profile'] as { organizations: unknown[] }).organizations, []);
    assert.deepEqual(before['collections'], []);
    assert.deepEqual(before['policies'], []);

    await h.get(MembersService).confirm(org.ownerMembership, pending.memberId, rsaEncString());
    const after = await sync.sync(invitee.user.id, true);
    const orgs = (after['profile'] as { organizations: { id: string; status: number }[] }).organizations;
    assert.deepEqual(
      orgs.map((o) => [o.id, o.status]),
      [[org.org.id, 2]],
    );
    assert.deepEqual(
      (after['collections'] as { id: string; readOnly: boolean }[]).map((c) => [c.id, c.readOnly]),
      [[org.defaultCollection.id, true]],
    );
    assert.deepEqual(
      (after['policies'] as { type: number; data: unknown }[]).map((p) => [p.type, p.data]),
      [[PolicyType.MasterPassword, { minLength: 12 }]],
    );
  });
});
