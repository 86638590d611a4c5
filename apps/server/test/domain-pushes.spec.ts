import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PushType } from '@keyhaven/contracts';
import { passwordLogin, registerAccount } from '@keyhaven/testing';
import { encryptCipher, encryptFolder } from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { connectHub, withTimeout, type HubClient } from './notifications-clients';
import {
  PASSWORD,
  MemberType,
  call,
  createCollection,
  createOrg,
  createOrgItem,
  join,
  newPerson,
  ok,
  type Person,
} from './org-fixtures';

/**
 * Pushes the domain publishes itself (not the hub's periodic security-stamp check, set far out here):
 * LogOut when the account's sessions end, a sync when an organization or collection is deleted,
 * SyncOrgKeys on confirmation, PolicyChanged to the members, an organization item's changes to everyone who
 * sees it (and to nobody else), and ContextId carrying the acting client's device identifier.
 */
const ACTING_DEVICE = '3b0c2d1e-5f6a-4b7c-8d9e-0f1a2b3c4d5e';
const WATCHING_DEVICE = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

describeOnBackends('pushes the domain publishes', (backend) => {
  let server: BackedServer;
  const hubs: HubClient[] = [];

  before(async () => {
    server = await startAllInOne(backend, { NOTIFICATIONS_STAMP_CHECK_MS: '600000' });
  });

  after(async () => {
    await Promise.allSettled(hubs.map((h) => h.stop()));
    await server.stop();
  });

  async function hub(token: string): Promise<HubClient> {
    const client = await connectHub({ baseUrl: server.url, caPath: server.caPath, protocol: 'messagepack', token });
    hubs.push(client);
    return client;
  }

  test('a security-stamp rotation and a password change deliver LogOut at once', async () => {
    const account = await registerAccount(server.http, 'stamp@example.com', PASSWORD);
    const first = await hub((await passwordLogin(server.http, account)).accessToken);
    const session = await passwordLogin(server.http, account);
    const rotate = await server.http.post('/api/accounts/security-stamp', {
      token: session.accessToken,
      json: { masterPasswordHash: account.masterPasswordHash },
    });
    assert.equal(rotate.status, 200, rotate.text);
    await first.next((n) => n.Type === PushType.LogOut, 3000);
    await withTimeout(first.closed, 3000, 'closed after LogOut');

    const second = await hub((await passwordLogin(server.http, account)).accessToken);
    const again = await passwordLogin(server.http, account);
    const change = await server.http.post('/api/accounts/password', {
      token: again.accessToken,
      json: {
        masterPasswordHash: account.masterPasswordHash,
        newMasterPasswordHash: Buffer.alloc(32, 7).toString('base64'),
        key: account.key,
      },
    });
    assert.equal(change.status, 200, change.text);
    await second.next((n) => n.Type === PushType.LogOut, 3000);
  });

  test('confirmation sends SyncOrgKeys; a collection delete, a vault purge and the organization delete send SyncVault to the members', async () => {
    const owner = await newPerson(server.http, 'owner@example.com');
    const member: Person = await newPerson(server.http, 'member@example.com');
    const org = await createOrg(server.http, owner, 'Pushed');
    const memberHub = await hub(member.token);
    const ownerHub = await hub(owner.token);
    await join(server.http, org, owner.token, member, { type: MemberType.User });
    await memberHub.next((n) => n.Type === PushType.SyncOrgKeys, 3000);

    const collection = await createCollection(server.http, org, owner.token, 'Gone soon');
    const before = memberHub.received.length;
    ok(
      await call(server.http, owner.token, 'DELETE', `/api/organizations/${org.id}/collections/${collection}`),
      'delete',
    );
    await memberHub.next((n) => n.Type === PushType.SyncVault && memberHub.received.indexOf(n) >= before, 3000);

    // Purging the organization's vault takes every item from every member at once.
    const beforePurge = memberHub.received.length;
    ok(
      await call(server.http, owner.token, 'POST', `/api/ciphers/purge?organizationId=${org.id}`, {
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'purge the organization vault',
    );
    await memberHub.next((n) => n.Type === PushType.SyncVault && memberHub.received.indexOf(n) >= beforePurge, 3000);

    const count = memberHub.received.length;
    const ownerCount = ownerHub.received.length;
    ok(
      await call(server.http, owner.token, 'DELETE', `/api/organizations/${org.id}`, {
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'delete organization',
    );
    for (const [client, from] of [
      [memberHub, count],
      [ownerHub, ownerCount],
    ] as const)
      await client.next((n) => n.Type === PushType.SyncVault && client.received.indexOf(n) >= from, 3000);
  });

  test("ContextId is the acting client's device identifier, also after a token refresh", async () => {
    const account = await registerAccount(server.http, 'context@example.com', PASSWORD);
    const watching = await hub((await passwordLogin(server.http, account, {}, WATCHING_DEVICE)).accessToken);
    const acting = await passwordLogin(server.http, account, {}, ACTING_DEVICE);
    const created = await server.http.post<{ id: string }>('/api/ciphers', {
      token: acting.accessToken,
      json: encryptCipher(account.userKey, { type: 1, name: 'one', login: { username: 'u', password: 'p' } }),
    });
    assert.equal(created.status, 200, created.text);
    const first = await watching.next(
      (n) => n.Type === PushType.SyncCipherCreate && n.Payload['Id'] === created.body.id,
    );
    assert.equal(first.message.ContextId, ACTING_DEVICE);

    const refreshed = await server.http.post<{ access_token: string }>('/identity/connect/token', {
      form: { grant_type: 'refresh_token', client_id: 'cli', refresh_token: acting.refreshToken },
    });
    assert.equal(refreshed.status, 200, refreshed.text);
    const second = await server.http.post<{ id: string }>('/api/ciphers', {
      token: refreshed.body.access_token,
      json: encryptCipher(account.userKey, { type: 1, name: 'two', login: { username: 'u', password: 'p' } }),
    });
    assert.equal(second.status, 200, second.text);
    const next = await watching.next((n) => n.Type === PushType.SyncCipherCreate && n.Payload['Id'] === second.body.id);
    assert.equal(next.message.ContextId, ACTING_DEVICE);

    const folder = await server.http.post<{ id: string }>('/api/folders', {
      token: refreshed.body.access_token,
      json: encryptFolder(account.userKey, 'mine'),
    });
    assert.equal(folder.status, 200, folder.text);
    const folderPush = await watching.next(
      (n) => n.Type === PushType.SyncFolderCreate && n.Payload['Id'] === folder.body.id,
    );
    assert.equal(folderPush.message.ContextId, ACTING_DEVICE);
  });
  test("an organization item's create, update, trash and delete reach the members who see it, and only them", async () => {
    const owner = await newPerson(server.http, 'items-owner@example.com');
    const reader = await newPerson(server.http, 'items-reader@example.com');
    const outsider = await newPerson(server.http, 'items-outsider@example.com');
    const org = await createOrg(server.http, owner, 'Items');
    const seen = await createCollection(server.http, org, owner.token, 'Seen');
    const elsewhere = await createCollection(server.http, org, owner.token, 'Elsewhere');
    await join(server.http, org, owner.token, reader, { type: MemberType.User, collections: [{ id: seen }] });
    await join(server.http, org, owner.token, outsider, { type: MemberType.User, collections: [{ id: elsewhere }] });
    const acting = (await passwordLogin(server.http, owner.account, {}, ACTING_DEVICE)).accessToken;
    const [readerHub, outsiderHub, actingHub] = await Promise.all([
      hub(reader.token),
      hub(outsider.token),
      hub(acting),
    ]);

    const id = await createOrgItem(server.http, org, acting, 'shared', [seen]);
    const about = (type: number) => (n: { Type: number; Payload: Record<string, unknown> }) =>
      n.Type === type && n.Payload['Id'] === id;
    const created = await readerHub.next(about(PushType.SyncCipherCreate), 3000);
    assert.equal(created.message.Payload['OrganizationId'], org.id);
    assert.equal(created.message.Payload['UserId'], null);
    assert.deepEqual(created.message.Payload['CollectionIds'], [seen]);
    assert.ok(created.message.Payload['RevisionDate'] instanceof Date, 'a MessagePack timestamp');
    assert.equal(created.message.ContextId, ACTING_DEVICE);
    // The acting device gets it too, and skips it by its ContextId.
    const own = await actingHub.next(about(PushType.SyncCipherCreate), 3000);
    assert.equal(own.message.ContextId, ACTING_DEVICE);

    ok(
      await call(server.http, acting, 'PUT', `/api/ciphers/${id}`, {
        ...encryptCipher(org.orgKey, { type: 1, name: 'renamed', login: { username: 'u', password: 'p' } }),
        organizationId: org.id,
      }),
      'update',
    );
    const updated = await readerHub.next(about(PushType.SyncCipherUpdate), 3000);
    assert.deepEqual(updated.message.Payload['CollectionIds'], [seen]);
    ok(await call(server.http, acting, 'PUT', `/api/ciphers/${id}/delete`), 'trash');
    await readerHub.next(
      (n) =>
        about(PushType.SyncCipherUpdate)(n) &&
        readerHub.received.indexOf(n) > readerHub.received.indexOf(updated.message),
      3000,
    );
    ok(await call(server.http, acting, 'DELETE', `/api/ciphers/${id}`), 'delete');
    const deleted = await readerHub.next(about(PushType.SyncLoginDelete), 3000);
    assert.equal(deleted.message.Payload['OrganizationId'], org.id);

    // Pushes reach a client in the order published: once the outsider hears of an item in its own
    // collection, it would have heard of the first one already.
    const mine = await createOrgItem(server.http, org, acting, 'elsewhere', [elsewhere]);
    await outsiderHub.next((n) => n.Type === PushType.SyncCipherCreate && n.Payload['Id'] === mine, 3000);
    assert.deepEqual(
      outsiderHub.received.filter((n) => n.Payload['Id'] === id),
      [],
    );
    assert.equal(readerHub.received.filter((n) => n.Payload['Id'] === mine).length, 0);
  });

  test("a policy change sends PolicyChanged to the organization's members", async () => {
    const owner = await newPerson(server.http, 'policy-owner@example.com');
    const member = await newPerson(server.http, 'policy-member@example.com');
    const org = await createOrg(server.http, owner, 'Policies');
    await join(server.http, org, owner.token, member, { type: MemberType.User });
    const memberHub = await hub(member.token);
    ok(
      await call(server.http, owner.token, 'PUT', `/api/organizations/${org.id}/policies/1`, { enabled: true }),
      'policy',
    );
    const changed = await memberHub.next((n) => n.Type === PushType.PolicyChanged, 3000);
    assert.equal(changed.message.Payload['UserId'], member.userId);
  });
});
