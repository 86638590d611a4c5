import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { enableTotp, type HttpResponse } from '@keyhaven/testing';
import {
  MemberType,
  call,
  createCollection,
  createOrg,
  createOrgItem,
  createPersonalItem,
  join,
  newPeople,
  ok,
  type Member,
  type Org,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';

/**
 * `GET api/organizations/{id}/reports/{kind}` on a seeded organization: every figure of every
 * report against what the seeding makes it by hand, in JSON and in CSV (RFC 4180, formula-safe),
 * and only for the organization's Owners and Admins.
 */

type Row = Record<string, string | number | boolean | null>;
interface ReportBody {
  kind: string;
  organizationId: string;
  generatedAt: string;
  columns: string[];
  rows: Row[];
  object: string;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  assert.equal(field, '', 'the document ends with CRLF');
  assert.equal(record.length, 0, 'the document ends with CRLF');
  return records;
}

/** What the CSV must hold for a JSON cell: text as is (formula starts prefixed with '), the rest printed. */
function csvCell(value: Row[string]): string {
  if (value === null) return '';
  if (typeof value === 'string') return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return String(value);
}

/** Rows as sorted JSON lines, for comparisons that do not depend on the database's text collation. */
function canonical(rows: readonly Row[], columns: readonly string[]): string[] {
  return rows.map((r) => JSON.stringify(columns.map((c) => r[c] ?? null))).sort();
}

describeOnBackends('compliance reports', (backend) => {
  let server: BackedServer;
  let owner: Person;
  let admin: Person;
  let u1: Person;
  let u2: Person;
  let revokedPerson: Person;
  let outsider: Person;
  let org: Org;
  let other: Org;
  let c1: string;
  let c2: string;
  let g1: string;
  let members: Record<'admin' | 'u1' | 'u2' | 'invited' | 'revoked', string>;
  const invitedEmail = `invited-${backend}@example.com`;
  const GROUP_1 = '=Audit';
  const GROUP_2 = 'Ops, "Night"';
  const now = Date.now();
  const events: Record<'recent' | 'older' | 'notAdmin' | 'otherOrg', string> = {
    recent: randomUUID(),
    older: randomUUID(),
    notAdmin: randomUUID(),
    otherOrg: randomUUID(),
  };

  const report = (who: Person, orgId: string, kind: string, query = ''): Promise<HttpResponse> =>
    call(server.http, who.token, 'GET', `/api/organizations/${orgId}/reports/${kind}${query}`);
  const json = async (kind: string, query = ''): Promise<ReportBody> => {
    const body = ok(await report(owner, org.id, kind, query), kind) as ReportBody;
    assert.equal(body.kind, kind);
    assert.equal(body.organizationId, org.id);
    assert.equal(body.object, 'complianceReport');
    return body;
  };
  const setActivity = (userId: string, at: Date | null): Promise<unknown> =>
    server.db.rows('UPDATE app_user SET last_activity_date = $2 WHERE id = $1', [userId, at]);

  before(async () => {
    server = await startAllInOne(backend);
    const http = server.http;
    const people = await newPeople(
      http,
      ['owner', 'admin', 'u1', 'u2', 'revoked', 'outsider'].map((n) => `${n}-${backend}@example.com`),
    );
    const person = (i: number): Person => {
      const p = people[i];
      if (!p) throw new Error('registration');
      return p;
    };
    [owner, admin, u1, u2, revokedPerson, outsider] = [0, 1, 2, 3, 4, 5].map(person) as [
      Person,
      Person,
      Person,
      Person,
      Person,
      Person,
    ];
    org = await createOrg(http, owner, 'Acme');
    other = await createOrg(http, outsider, 'Other');
    await enableTotp(http, admin.account, admin.token);
    c1 = await createCollection(http, org, owner.token, 'C1');
    c2 = await createCollection(http, org, owner.token, 'C2');
    const joinAs = (
      p: Person,
      type: number,
      stage: 'confirmed' | 'accepted' | 'revoked',
      collections = [] as never[],
    ) => join(http, org, owner.token, p, { type, collections }, stage);
    const a: Member = await joinAs(admin, MemberType.Admin, 'confirmed');
    const m1 = await join(http, org, owner.token, u1, {
      type: MemberType.User,
      collections: [{ id: c1, readOnly: true }],
    });
    const m2 = await joinAs(u2, MemberType.User, 'accepted');
    const r = await join(
      http,
      org,
      owner.token,
      revokedPerson,
      { type: MemberType.User, collections: [{ id: c1, manage: true }] },
      'revoked',
    );
    const invited = ok(
      await call<{ data: { id: string }[] }>(http, owner.token, 'POST', `/api/organizations/${org.id}/users/invite`, {
        emails: [invitedEmail],
        type: MemberType.User,
        collections: [],
        groups: [],
      }),
      'invite without account',
    ).data[0]?.id;
    assert.ok(invited);
    members = { admin: a.memberId, u1: m1.memberId, u2: m2.memberId, invited, revoked: r.memberId };
    g1 = ok(
      await call<{ id: string }>(http, owner.token, 'POST', `/api/organizations/${org.id}/groups`, {
        name: GROUP_1,
        collections: [{ id: c2, readOnly: false, hidePasswords: true, manage: false }],
        users: [m1.memberId],
      }),
      'group 1',
    ).id;
    ok(
      await call(http, owner.token, 'POST', `/api/organizations/${org.id}/groups`, {
        name: GROUP_2,
        collections: [],
        users: [m1.memberId],
      }),
      'group 2',
    );
    for (const [type, enabled] of [
      [6, true],
      [10, false],
    ] as const)
      ok(
        await call(http, owner.token, 'PUT', `/api/organizations/${org.id}/policies/${type}`, { enabled, data: null }),
        `policy ${type}`,
      );
    const items = [];
    for (const name of ['one', 'two', 'three']) items.push(await createOrgItem(http, org, owner.token, name, [c1]));
    ok(await call(http, owner.token, 'PUT', `/api/ciphers/${items[2]}/delete`), 'trash an org item');
    await createPersonalItem(http, u1, 'personal note');
    await createOrgItem(http, other, outsider.token, 'other org item', [other.defaultCollection]);

    // Activity is set last: nothing below logs in or syncs again.
    await setActivity(owner.userId, new Date(now - DAY - HOUR));
    await setActivity(admin.userId, new Date(now - 10 * DAY - HOUR));
    await setActivity(u1.userId, new Date(now - 100 * DAY - HOUR));
    await setActivity(u2.userId, null);
    await server.db.rows('UPDATE app_user SET creation_date = $2 WHERE id = $1', [
      u2.userId,
      new Date(now - 120 * DAY - HOUR),
    ]);
    await setActivity(revokedPerson.userId, new Date(now - 200 * DAY - HOUR));
    await setActivity(outsider.userId, new Date(now - 2 * DAY));

    const event = (id: string, type: number, orgId: string, date: Date): Promise<unknown> =>
      server.db.rows(
        `INSERT INTO event (id, type, organization_id, acting_user_id, organization_user_id, device_type, ip_address, date)
         VALUES ($1, $2, $3, $4, $5, 9, '192.0.2.7', $6)`,
        [id, type, orgId, owner.userId, members.u1, date],
      );
    await event(events.recent, 1500, org.id, new Date(now - 2 * DAY));
    await event(events.older, 1700, org.id, new Date(now - 40 * DAY));
    await event(events.notAdmin, 1100, org.id, new Date(now - DAY));
    await event(events.otherOrg, 1500, other.id, new Date(now - DAY));
  });

  after(async () => {
    await server.stop();
  });

  test('a login recorded activity for every account (before the seeding reset it)', async () => {
    const rows = await server.db.rows<{ n: number }>(
      'SELECT count(*)::int AS n FROM app_user WHERE last_activity_date IS NULL',
    );
    // u2 only: its stamp was cleared on purpose.
    assert.equal(rows[0]?.n, 1);
  });

  test('active users: members active within the window, most recent first; outsiders never appear', async () => {
    const body = await json('active-users', '?dormantDays=30');
    assert.deepEqual(body.columns, ['userId', 'email', 'name', 'creationDate', 'lastActivityDate']);
    assert.deepEqual(
      body.rows.map((r) => [r['userId'], r['email'], r['lastActivityDate']]),
      [
        [owner.userId, owner.email, new Date(now - DAY - HOUR).toISOString()],
        [admin.userId, admin.email, new Date(now - 10 * DAY - HOUR).toISOString()],
      ],
    );
    const wide = await json('active-users', '?dormantDays=150');
    assert.deepEqual(
      wide.rows.map((r) => r['userId']),
      [owner.userId, admin.userId, u1.userId],
    );
  });

  test('dormant accounts: no activity in N days, never-active accounts counted from creation', async () => {
    const body = await json('dormant-accounts', '?dormantDays=30');
    assert.deepEqual(body.columns, ['userId', 'email', 'name', 'creationDate', 'lastActivityDate', 'daysInactive']);
    assert.deepEqual(
      body.rows.map((r) => [r['userId'], r['lastActivityDate'] === null, r['daysInactive']]),
      [
        [revokedPerson.userId, false, 200],
        [u2.userId, true, 120],
        [u1.userId, false, 100],
      ],
    );
    assert.deepEqual(
      (await json('dormant-accounts', '?dormantDays=150')).rows.map((r) => r['userId']),
      [revokedPerson.userId],
    );
    // Default window: 90 days.
    assert.equal((await json('dormant-accounts')).rows.length, 3);
  });

  test('access review: every member with role, status, two-step login, groups and each collection grant', async () => {
    const body = await json('access-review');
    const groups = `${GROUP_1}; ${GROUP_2}`;
    const base = (p: Person | null, email: string, memberId: string, role: string, status: string, tfa: boolean) => ({
      organizationId: org.id,
      organizationName: 'Acme',
      memberId,
      userId: p?.userId ?? null,
      email,
      // The 2026 registration flow stores no display name.
      name: null,
      role,
      status,
      twoFactorEnabled: tfa,
    });
    const grant = (collectionId: string | null, via: string | null, readOnly = false, hide = false, manage = false) =>
      collectionId === null
        ? { collectionId: null, via: null, readOnly: null, hidePasswords: null, manage: null }
        : { collectionId, via, readOnly, hidePasswords: hide, manage };
    const expected: Row[] = [
      {
        ...base(owner, owner.email, org.owner.memberId, 'Owner', 'Confirmed', false),
        groups: '',
        ...grant(org.defaultCollection, 'direct', false, false, true),
      },
      { ...base(admin, admin.email, members.admin, 'Admin', 'Confirmed', true), groups: '', ...grant(null, null) },
      { ...base(u1, u1.email, members.u1, 'User', 'Confirmed', false), groups, ...grant(c1, 'direct', true) },
      {
        ...base(u1, u1.email, members.u1, 'User', 'Confirmed', false),
        groups,
        ...grant(c2, `group:${GROUP_1}`, false, true),
      },
      { ...base(u2, u2.email, members.u2, 'User', 'Accepted', false), groups: '', ...grant(null, null) },
      { ...base(null, invitedEmail, members.invited, 'User', 'Invited', false), groups: '', ...grant(null, null) },
      {
        ...base(revokedPerson, revokedPerson.email, members.revoked, 'User', 'Revoked', false),
        groups: '',
        ...grant(c1, 'direct', false, false, true),
      },
    ];
    assert.deepEqual(canonical(body.rows, body.columns), canonical(expected, body.columns));
    assert.equal(body.columns.length, 15);
    assert.ok(g1);
  });

  test("vault contents: the organization's items by type, trash apart, no other owner", async () => {
    const body = await json('vault-contents');
    assert.deepEqual(body.rows, [
      {
        ownerType: 'organization',
        ownerId: org.id,
        owner: 'Acme',
        logins: 2,
        secureNotes: 0,
        cards: 0,
        identities: 0,
        sshKeys: 0,
        other: 0,
        trashed: 1,
        total: 3,
      },
    ]);
  });

  test('policy coverage: saved policies, members bound while enabled, Owners and Admins exempt', async () => {
    const body = await json('policy-coverage');
    assert.deepEqual(
      body.rows.map((r) => [r['policyType'], r['policy'], r['enabled'], r['membersCovered'], r['membersExempt']]),
      [
        [6, 'DisableSend', true, 2, 2],
        [10, 'DisablePersonalVaultExport', false, 0, 2],
      ],
    );
  });

  test("administrative actions: the organization's admin events in the period, oldest first", async () => {
    const inWindow = (body: ReportBody, from: number, to: number): void => {
      for (const r of body.rows) {
        assert.equal(r['organizationId'], org.id);
        assert.ok(Number(r['eventType']) >= 1300 && Number(r['eventType']) <= 1799, `type ${r['eventType']}`);
        const at = Date.parse(String(r['date']));
        assert.ok(at >= from && at < to + 5_000, `date ${r['date']}`);
      }
    };
    const recent = await json('admin-actions');
    const ids = recent.rows.map((r) => r['eventId']);
    assert.ok(ids.includes(events.recent));
    for (const id of [events.older, events.notAdmin, events.otherOrg]) assert.ok(!ids.includes(id));
    inWindow(recent, now - 30 * DAY - 60_000, Date.now());
    const row = recent.rows.find((r) => r['eventId'] === events.recent);
    assert.deepEqual(row, {
      date: new Date(now - 2 * DAY).toISOString(),
      eventType: 1500,
      event: 'OrganizationUser_Invited',
      organizationId: org.id,
      organizationName: 'Acme',
      actingUserId: owner.userId,
      actingUserEmail: owner.email,
      organizationUserId: members.u1,
      collectionId: null,
      groupId: null,
      policyId: null,
      deviceType: 9,
      ipAddress: '192.0.2.7',
      eventId: events.recent,
    });
    const from = new Date(now - 60 * DAY).toISOString();
    const to = new Date(now - DAY).toISOString();
    const period = await json('admin-actions', `?from=${from}&to=${to}`);
    assert.deepEqual(
      period.rows.map((r) => r['eventId']).filter((id) => Object.values(events).includes(String(id))),
      [events.older, events.recent],
    );
    inWindow(period, Date.parse(from), Date.parse(to));
  });

  test('CSV: the same rows, RFC 4180 quoting, formula-like cells neutralised', async () => {
    for (const kind of ['active-users', 'dormant-accounts', 'access-review', 'vault-contents', 'policy-coverage']) {
      const body = await json(kind, '?dormantDays=30');
      const res = await report(owner, org.id, kind, '?format=csv&dormantDays=30');
      assert.equal(res.status, 200, res.text);
      assert.match(String(res.headers['content-type']), /^text\/csv; charset=utf-8/);
      assert.match(
        String(res.headers['content-disposition']),
        new RegExp(`^attachment; filename="${kind}-\\d{4}-\\d{2}-\\d{2}\\.csv"$`),
      );
      const [header, ...records] = parseCsv(res.text);
      assert.deepEqual(header, body.columns);
      assert.deepEqual(
        records.map((r) => JSON.stringify(r)).sort(),
        body.rows.map((row) => JSON.stringify(body.columns.map((c) => csvCell(row[c] ?? null)))).sort(),
        kind,
      );
    }
    const csv = (await report(owner, org.id, 'access-review', '?format=csv')).text;
    // The groups cell: a leading "=" neutralised, the comma and quotes of the second name quoted.
    assert.ok(csv.includes(`,"'=Audit; Ops, ""Night""",`), csv);
    assert.ok(!/,=Audit/.test(csv));
  });

  test('only Owners and Admins of the organization get its reports; bad parameters are refused', async () => {
    assert.equal((await report(admin, org.id, 'access-review')).status, 200);
    for (const who of [u1, u2, outsider]) assert.equal((await report(who, org.id, 'access-review')).status, 404);
    assert.equal((await report(outsider, other.id, 'access-review')).status, 200);
    assert.equal((await report(owner, org.id, 'no-such-report')).status, 404);
    assert.equal((await report(owner, org.id, 'dormant-accounts', '?dormantDays=0')).status, 400);
    assert.equal((await report(owner, org.id, 'admin-actions', '?from=yesterday')).status, 400);
    assert.equal((await report(owner, org.id, 'active-users', '?format=xml')).status, 400);
    assert.equal(
      (await call(server.http, undefined, 'GET', `/api/organizations/${org.id}/reports/active-users`)).status,
      401,
    );
  });
});
