import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { passwordLogin, registerAccount, type HttpResponse } from '@keyhaven/testing';
import { createSendKey, encryptType2, hashSendPassword, prepareAttachment } from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { allEventPages, eventually, type EventJson, type EventList } from './event-fixtures';
import {
  MemberType,
  PASSWORD,
  call,
  createCollection,
  createOrg,
  createOrgItem,
  createPersonalItem,
  join,
  newPeople,
  ok,
  type Member,
  type Method,
  type Org,
  type Person,
} from './org-fixtures';

/**
 * One e2e per backend that proves the server records each event type it observes (and the
 * client-reported phishing ones it accepts through `events/collect`): every action is done through
 * the API, then the event log is read back through the query routes, each expected type with the
 * acting user, the device type of the actor's login (or of the request's Device-Type header when
 * nobody is signed in) and an address. Then who may read the organization's log, and paging.
 */

/** Device types (Bitwarden's DeviceType) distinct from the test client's default of 25 (Linux CLI). */
const OWNER_DEVICE = 9; // the owner signs in as Chrome
const RECIPIENT_DEVICE = 14; // the anonymous Send recipient's Device-Type header

/** One row of the table: the event type, where it is read, and what identifies it there. */
interface Expected {
  readonly type: number;
  readonly what: string;
  readonly log: 'organization' | 'own';
  readonly actor: () => Person;
  readonly device: number;
  readonly subject?: (e: EventJson) => boolean;
}

interface FileUpload {
  sendResponse: { id: string; accessId: string; file: { id: string } };
}

/** The table's many actions take the consumer a while on a loaded machine. */
const WAIT = { timeoutMs: 30_000, intervalMs: 200 };

const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();

describeOnBackends('every observed event type is recorded with actor, device and address', (backend) => {
  let server: BackedServer;
  let owner: Person;
  let org: Org;
  // Made before the table's policies apply: Single Organization would keep the owner from making more.
  let readers: Org;
  let paged: Org;

  const send = <T = unknown>(who: Person, method: Method, path: string, json?: unknown): Promise<HttpResponse<T>> =>
    call<T>(server.http, who.token, method, path, json);

  const pagesAs = (who: Person, path: string): Promise<{ events: EventJson[]; pages: number }> =>
    allEventPages((url) => send<EventList>(who, 'GET', url), path);

  /** A person whose token comes from a login with the given device type. */
  async function personOn(email: string, deviceType: number): Promise<Person> {
    const account = await registerAccount(server.http, email, PASSWORD);
    const session = await passwordLogin(server.http, account, { deviceType: String(deviceType) });
    const profile = ok(
      await call<{ id: string }>(server.http, session.accessToken, 'GET', '/api/accounts/profile'),
      'me',
    );
    return { email, account, token: session.accessToken, userId: profile.id };
  }

  before(async () => {
    server = await startAllInOne(backend);
    owner = await personOn(`owner-${backend}@coverage.test`, OWNER_DEVICE);
    org = await createOrg(server.http, owner, 'Covered Co');
    readers = await createOrg(server.http, owner, 'Readers Co');
    paged = await createOrg(server.http, owner, 'Paged Co');
  });

  after(async () => {
    await server.stop();
  });

  test('the table: each action through the API produces its event', async () => {
    const http = server.http;
    const [leaverP, removedP, withdrawerP, twoFactorP, singleOrgP] = await newPeople(
      http,
      ['leaver', 'removed', 'withdrawer', 'no2fa', 'elsewhere'].map((n) => `${n}-${backend}@coverage.test`),
    );
    if (!leaverP || !removedP || !withdrawerP || !twoFactorP || !singleOrgP) throw new Error('people');
    const member = (p: Person): Promise<Member> =>
      join(http, org, owner.token, p, { type: MemberType.User, collections: [{ id: org.defaultCollection }] });
    const [leaver, removed, withdrawer, twoFactorVictim, singleOrgVictim] = await Promise.all(
      [leaverP, removedP, withdrawerP, twoFactorP, singleOrgP].map(member),
    );
    if (!leaver || !removed || !withdrawer || !twoFactorVictim || !singleOrgVictim) throw new Error('members');
    // Single Organization revokes members who belong to another organization too.
    await createOrg(http, singleOrgVictim, 'Elsewhere Co');
    const o = `/api/organizations/${org.id}`;

    // Collections: 1301, 1302.
    const spare = await createCollection(http, org, owner.token, 'Spare');
    const doomed = await createCollection(http, org, owner.token, 'Doomed');
    ok(
      await send(owner, 'PUT', `${o}/collections/${doomed}`, {
        name: encryptType2(org.orgKey, 'Renamed'),
        users: [],
        groups: [],
      }),
      'update collection',
    );
    ok(await send(owner, 'DELETE', `${o}/collections/${doomed}`), 'delete collection');

    // Groups: 1401, 1402.
    const group = ok(
      await send<{ id: string }>(owner, 'POST', `${o}/groups`, { name: 'Ops', collections: [], users: [] }),
      'create group',
    ).id;
    ok(await send(owner, 'PUT', `${o}/groups/${group}`, { name: 'Ops 2', collections: [], users: [] }), 'update group');
    ok(await send(owner, 'DELETE', `${o}/groups/${group}`), 'delete group');

    // Items: 1106 collections changed, 1104 attachment deleted, 1105 shared into the org, 1102 deleted.
    const moved = await createOrgItem(http, org, owner.token, 'moved', [org.defaultCollection]);
    ok(
      await send(owner, 'PUT', `/api/ciphers/${moved}/collections`, { collectionIds: [org.defaultCollection, spare] }),
      'item collections',
    );
    const file = prepareAttachment(org.orgKey, 'a.txt', Buffer.from('attached'));
    const attachment = ok(
      await send<{ attachmentId: string }>(owner, 'POST', `/api/ciphers/${moved}/attachment/v2`, {
        ...file.request,
        adminRequest: false,
      }),
      'attachment',
    ).attachmentId;
    ok(await send(owner, 'DELETE', `/api/ciphers/${moved}/attachment/${attachment}`), 'delete attachment');
    const personal = await createPersonalItem(http, owner, 'to share');
    const current = ok(await send<{ revisionDate: string }>(owner, 'GET', `/api/ciphers/${personal}`), 'get item');
    ok(
      await send(owner, 'PUT', `/api/ciphers/${personal}/share`, {
        cipher: {
          type: 2,
          name: encryptType2(org.orgKey, 'to share'),
          secureNote: { type: 0 },
          organizationId: org.id,
          lastKnownRevisionDate: current.revisionDate,
        },
        collectionIds: [org.defaultCollection],
      }),
      'share',
    );
    const deleted = await createOrgItem(http, org, owner.token, 'deleted', [org.defaultCollection]);
    ok(await send(owner, 'DELETE', `/api/ciphers/${deleted}`), 'delete item');

    // Members: 1503 removed by the owner, 1516 left, 1507 account recovery withdrawn (both by the member).
    ok(await send(owner, 'DELETE', `${o}/users/${removed.memberId}`), 'remove member');
    ok(await send(leaver, 'POST', `${o}/leave`), 'leave');
    ok(
      await send(withdrawer, 'PUT', `${o}/users/${withdrawer.userId}/reset-password-enrollment`, {
        resetPasswordKey: null,
        masterPasswordHash: withdrawer.account.masterPasswordHash,
      }),
      'withdraw from account recovery',
    );

    // Client-reported through events/collect: 2400 and 2402 (phishing blocker).
    const date = new Date().toISOString();
    ok(
      await send(owner, 'POST', '/events/collect', [
        { type: 2400, cipherId: null, organizationId: org.id, date },
        { type: 2402, cipherId: null, organizationId: org.id, date },
      ]),
      'collect',
    );

    // 1601: the organization's vault purged (after the item actions above, which it erases).
    ok(
      await send(owner, 'POST', `/api/ciphers/purge?organizationId=${org.id}`, {
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'purge',
    );
    assert.equal(
      (await server.db.rows('SELECT 1 FROM cipher WHERE organization_id = $1', [org.id])).length,
      0,
      'the organization has no items left',
    );

    // Policies last, they revoke: 1521 (Single Organization), then 1520 (two-step login).
    ok(await send(owner, 'PUT', `${o}/policies/3`, { enabled: true }), 'single org policy');
    ok(await send(owner, 'PUT', `${o}/policies/0`, { enabled: true }), 'two-step login policy');

    // Sends (the owner's own log): 2502, 2503, 2505, 2506, 2507, 2508, 2509, and 2511 by an anonymous recipient.
    const k = createSendKey(owner.account.userKey);
    const textBody = {
      type: 0,
      name: encryptType2(k.sendKey, 'note'),
      notes: null,
      key: k.key,
      maxAccessCount: null,
      expirationDate: null,
      deletionDate: inDays(7),
      text: { text: encryptType2(k.sendKey, 'secret'), hidden: false, response: null },
      file: null,
      password: null,
      emails: null,
      disabled: false,
      hideEmail: false,
      authType: 2,
    };
    const fileBody = { ...textBody, type: 1, text: null, file: { fileName: encryptType2(k.sendKey, 'f.txt') } };
    const withPassword = { password: hashSendPassword('pw', k.seed), authType: 1 };
    const textSend = ok(
      await send<{ id: string }>(owner, 'POST', '/api/sends', { ...textBody, ...withPassword }),
      'text send with password',
    ).id;
    ok(await send(owner, 'PUT', `/api/sends/${textSend}`, { ...textBody, ...withPassword }), 'edit text send');
    ok(await send(owner, 'DELETE', `/api/sends/${textSend}`), 'delete text send');
    const bytes = Buffer.from(randomBytes(64).toString('hex'));
    const fileSend = ok(
      await send<FileUpload>(owner, 'POST', '/api/sends/file/v2', { ...fileBody, fileLength: bytes.length }),
      'file send',
    ).sendResponse;
    ok(
      await send(owner, 'POST', '/api/sends/file/v2', { ...fileBody, ...withPassword, fileLength: bytes.length }),
      'file send with password',
    );
    const boundary = `----coverage${randomBytes(6).toString('hex')}`;
    ok(
      await http.post(`/api/sends/${fileSend.id}/file/${fileSend.file.id}`, {
        token: owner.token,
        contentType: `multipart/form-data; boundary=${boundary}`,
        rawBody: Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="f"\r\n` +
              'Content-Type: application/octet-stream\r\n\r\n',
          ),
          bytes,
          Buffer.from(`\r\n--${boundary}--\r\n`),
        ]),
      }),
      'upload send file',
    );
    const recipient = { 'device-type': String(RECIPIENT_DEVICE) };
    const grant = ok(
      await http.post<{ access_token: string }>('/identity/connect/token', {
        headers: recipient,
        form: { grant_type: 'send_access', client_id: 'send', scope: 'api.send.access', send_id: fileSend.accessId },
      }),
      'send access token',
    );
    ok(
      await http.post(`/api/sends/access/file/${fileSend.file.id}`, { token: grant.access_token, headers: recipient }),
      'file link',
    );
    ok(await send(owner, 'PUT', `/api/sends/${fileSend.id}`, fileBody), 'edit file send');
    ok(await send(owner, 'DELETE', `/api/sends/${fileSend.id}`), 'delete file send');

    const byOwner = { actor: () => owner, device: OWNER_DEVICE };
    const table: Expected[] = [
      { type: 1102, what: 'item deleted', log: 'organization', ...byOwner, subject: (e) => e.cipherId === deleted },
      { type: 1104, what: 'attachment deleted', log: 'organization', ...byOwner, subject: (e) => e.cipherId === moved },
      { type: 1105, what: 'item shared', log: 'organization', ...byOwner, subject: (e) => e.cipherId === personal },
      { type: 1106, what: 'item collections', log: 'organization', ...byOwner, subject: (e) => e.cipherId === moved },
      {
        type: 1301,
        what: 'collection updated',
        log: 'organization',
        ...byOwner,
        subject: (e) => e.collectionId === doomed,
      },
      {
        type: 1302,
        what: 'collection deleted',
        log: 'organization',
        ...byOwner,
        subject: (e) => e.collectionId === doomed,
      },
      { type: 1401, what: 'group updated', log: 'organization', ...byOwner, subject: (e) => e.groupId === group },
      { type: 1402, what: 'group deleted', log: 'organization', ...byOwner, subject: (e) => e.groupId === group },
      {
        type: 1503,
        what: 'member removed',
        log: 'organization',
        ...byOwner,
        subject: (e) => e.organizationUserId === removed.memberId,
      },
      {
        type: 1507,
        what: 'account recovery withdrawn',
        log: 'organization',
        actor: () => withdrawer,
        device: 25,
        subject: (e) => e.organizationUserId === withdrawer.memberId,
      },
      {
        type: 1516,
        what: 'member left',
        log: 'organization',
        actor: () => leaver,
        device: 25,
        subject: (e) => e.organizationUserId === leaver.memberId,
      },
      {
        type: 1520,
        what: 'revoked, no two-step login',
        log: 'organization',
        ...byOwner,
        subject: (e) => e.organizationUserId === twoFactorVictim.memberId,
      },
      {
        type: 1521,
        what: 'revoked, in another organization',
        log: 'organization',
        ...byOwner,
        subject: (e) => e.organizationUserId === singleOrgVictim.memberId,
      },
      { type: 1601, what: 'vault purged', log: 'organization', ...byOwner },
      { type: 2400, what: 'phishing site accessed', log: 'organization', ...byOwner },
      { type: 2402, what: 'phishing warning bypassed', log: 'organization', ...byOwner },
      { type: 2502, what: 'text Send with password', log: 'own', ...byOwner, subject: (e) => e.sendId === textSend },
      { type: 2503, what: 'file Send', log: 'own', ...byOwner, subject: (e) => e.sendId === fileSend.id },
      { type: 2505, what: 'file Send with password', log: 'own', ...byOwner },
      { type: 2506, what: 'text Send edited', log: 'own', ...byOwner, subject: (e) => e.sendId === textSend },
      { type: 2507, what: 'file Send edited', log: 'own', ...byOwner, subject: (e) => e.sendId === fileSend.id },
      { type: 2508, what: 'text Send deleted', log: 'own', ...byOwner, subject: (e) => e.sendId === textSend },
      { type: 2509, what: 'file Send deleted', log: 'own', ...byOwner, subject: (e) => e.sendId === fileSend.id },
    ];

    const read = async (): Promise<{ organization: EventJson[]; own: EventJson[] }> => ({
      organization: (await pagesAs(owner, `${o}/events`)).events,
      own: (await pagesAs(owner, '/api/events')).events,
    });
    const found = (logs: { organization: EventJson[]; own: EventJson[] }, row: Expected): EventJson | undefined =>
      logs[row.log].find((e) => e.type === row.type && (row.subject?.(e) ?? true));
    const logs = await eventually(read, (l) => table.every((row) => found(l, row)), 'every expected event', WAIT);
    for (const row of table) {
      const event = found(logs, row);
      const label = `${String(row.type)} (${row.what})`;
      assert.ok(event, label);
      assert.equal(event.actingUserId, row.actor().userId, `${label}: acting user`);
      assert.equal(event.deviceType, row.device, `${label}: device type`);
      assert.ok(event.ipAddress, `${label}: address`);
      if (row.log === 'organization') assert.equal(event.organizationId, org.id, `${label}: organization`);
      else assert.equal(event.userId, owner.userId, `${label}: user`);
    }

    // 2511: nobody signed in opened it, so it is in no one's own log (Bitwarden's acting-user query):
    // read from the database, with the recipient's device type and address.
    const accessed = await eventually(
      () =>
        server.db.rows<{ acting: string | null; user: string; device: number; ip: string | null }>(
          `SELECT acting_user_id AS acting, user_id AS "user", device_type AS device, ip_address AS ip
           FROM event WHERE type = 2511 AND send_id = $1`,
          [fileSend.id],
        ),
      (rows) => rows.length === 1,
      'the file Send access',
      WAIT,
    );
    assert.deepEqual(
      accessed.map((r) => ({ acting: r.acting, user: r.user, device: r.device, ip: Boolean(r.ip) })),
      [{ acting: null, user: owner.userId, device: RECIPIENT_DEVICE, ip: true }],
    );
  });

  test('who reads the organization log: Admin and Custom with accessEventLogs; Custom without it is refused as not found', async () => {
    const [adminP, withP, withoutP] = await newPeople(
      server.http,
      ['admin', 'custom-with', 'custom-without'].map((n) => `${n}-${backend}@coverage.test`),
    );
    if (!adminP || !withP || !withoutP) throw new Error('people');
    const admin = await join(server.http, readers, owner.token, adminP, { type: MemberType.Admin });
    const customWith = await join(server.http, readers, owner.token, withP, {
      type: MemberType.Custom,
      permissions: { accessEventLogs: true },
    });
    const customWithout = await join(server.http, readers, owner.token, withoutP, {
      type: MemberType.Custom,
      permissions: { accessEventLogs: false, manageGroups: true },
    });
    const path = `/api/organizations/${readers.id}/events`;
    for (const reader of [admin, customWith]) {
      const events = await eventually(
        async () => ok(await send<EventList>(reader, 'GET', path), `${reader.email} reads`).data,
        (data) => data.some((e) => e.type === 1501 && e.organizationUserId === customWithout.memberId),
        `the log as ${reader.email}`,
        WAIT,
      );
      assert.ok(events.every((e) => e.organizationId === readers.id));
    }
    const refused = await send(customWithout, 'GET', path);
    const missing = await send(customWithout, 'GET', `/api/organizations/${randomUUID()}/events`);
    assert.equal(refused.status, 404, refused.text);
    assert.deepEqual(refused.body, missing.body, 'the same answer as for an organization that does not exist');
    const memberLog = await send(customWithout, 'GET', `${path.replace('/events', '')}/users/${admin.memberId}/events`);
    assert.equal(memberLog.status, 404, 'nor a member’s events');
    assert.equal((await send(customWithout, 'GET', `/api/organizations/${readers.id}/groups`)).status, 200);
  });

  test('paging: ciphers/{id}/events and public/events walk every event once across continuation tokens', async () => {
    const item = await createOrgItem(server.http, paged, owner.token, 'watched', [paged.defaultCollection]);
    // 120 client events on one item (distinct dates, so each is told apart on the wire): three pages.
    const now = Date.now();
    const reported = Array.from({ length: 120 }, (_, i) => ({
      type: 1107 + (i % 3),
      cipherId: item,
      organizationId: null,
      date: new Date(now - (i + 1) * 1000).toISOString(),
    }));
    ok(await send(owner, 'POST', '/events/collect', reported), 'collect');
    const stored = async (sql: string, params: unknown[]): Promise<number> =>
      Number((await server.db.rows<{ n: number }>(`SELECT count(*)::int AS n FROM event WHERE ${sql}`, params))[0]?.n);
    await eventually(
      () => stored('cipher_id = $1', [item]),
      (n) => n === 121,
      'the item events',
      WAIT,
    );

    const byItem = await pagesAs(owner, `/api/ciphers/${item}/events`);
    assert.equal(byItem.pages, 3, 'a page of 50, 50 and 21');
    assert.equal(byItem.events.length, 121);
    assert.ok(byItem.events.every((e) => e.cipherId === item));
    const keys = byItem.events.map((e) => `${String(e.type)}|${e.date}`);
    assert.equal(new Set(keys).size, keys.length, 'no event on two pages');
    const dates = byItem.events.map((e) => Date.parse(e.date));
    assert.deepEqual(
      dates,
      [...dates].sort((a, b) => b - a),
      'newest first across pages',
    );

    const key = ok(
      await send<{ apiKey: string }>(owner, 'POST', `/api/organizations/${paged.id}/api-key`, {
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'api key',
    );
    const granted = ok(
      await server.http.post<{ access_token: string }>('/identity/connect/token', {
        form: {
          grant_type: 'client_credentials',
          scope: 'api.organization',
          client_id: `organization.${paged.id}`,
          client_secret: key.apiKey,
        },
      }),
      'organization token',
    );
    const orgEvents = await stored('organization_id = $1', [paged.id]);
    const publicApi = await allEventPages(
      (url) => server.http.get<EventList>(url, { token: granted.access_token }),
      '/api/public/events',
    );
    assert.ok(publicApi.pages >= 3, `${String(publicApi.pages)} pages`);
    assert.equal(publicApi.events.length, orgEvents, 'every event of the organization');
    const publicKeys = publicApi.events.map((e) => JSON.stringify(e));
    assert.equal(new Set(publicKeys).size, publicKeys.length, 'no event on two pages');
  });
});
