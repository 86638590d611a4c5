import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  addConfirmedMember,
  createDomainHarness,
  createOrganization,
  registerUser,
  rejectsWithCode,
  type DomainHarness,
  type TestOrganization,
  type TestUser,
} from '@keyhaven/testing';
import { ComplianceReports, toCsv, type Report, type ReportRow } from '../index';

/**
 * The whole-instance reports on a store this file alone seeds (one PGlite store per spec file), so
 * every figure is known: four accounts, two organizations, items of every type, two policies, events.
 * The per-organization route is covered end to end, on both databases, by compliance-reports.spec.ts.
 */
let h: DomainHarness;
let reports: ComplianceReports;
let a: TestUser;
let b: TestUser;
let c: TestUser;
let d: TestUser;
let alpha: TestOrganization;
let beta: TestOrganization;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const now = Date.now();
const ids = (rows: readonly ReportRow[], key = 'userId'): unknown[] => rows.map((r) => r[key]);

async function item(owner: { userId?: string; organizationId?: string }, type: number, trashed = false): Promise<void> {
  await h.db.execute(
    `INSERT INTO cipher (id, user_id, organization_id, type, data, creation_date, revision_date, deleted_date)
     VALUES ($1, $2, $3, $4, '{}'::jsonb, now(), now(), $5)`,
    [randomUUID(), owner.userId ?? null, owner.organizationId ?? null, type, trashed ? new Date() : null],
  );
}

async function event(type: number, organizationId: string | null, at: number): Promise<void> {
  await h.db.execute(
    'INSERT INTO event (id, type, organization_id, acting_user_id, date) VALUES ($1, $2, $3, $4, $5)',
    [randomUUID(), type, organizationId, a.user.id, new Date(at)],
  );
}

before(async () => {
  h = await createDomainHarness();
  reports = new ComplianceReports(h.db);
  [a, b, c, d] = [
    await registerUser(h, 'a'),
    await registerUser(h, 'b'),
    await registerUser(h, 'c'),
    await registerUser(h, 'd'),
  ];
  alpha = await createOrganization(h, a);
  beta = await createOrganization(h, d);
  await addConfirmedMember(h, alpha, { type: 2 }, b);
  for (const type of [1, 1, 3]) await item({ userId: a.user.id }, type);
  await item({ userId: c.user.id }, 4);
  await item({ userId: c.user.id }, 5);
  await item({ userId: c.user.id }, 1, true);
  await item({ organizationId: alpha.org.id }, 2);
  const activity = (user: TestUser, at: number | null): Promise<number> =>
    h.db.execute('UPDATE app_user SET last_activity_date = $2 WHERE id = $1', [
      user.user.id,
      at === null ? null : new Date(at),
    ]);
  await activity(a, now - DAY - HOUR);
  await activity(b, now - 40 * DAY - HOUR);
  await activity(c, null);
  await h.db.execute('UPDATE app_user SET creation_date = $2 WHERE id = $1', [
    c.user.id,
    new Date(now - 400 * DAY - HOUR),
  ]);
  await activity(d, now - 5 * DAY - HOUR);
  await h.db.execute(
    `INSERT INTO policy (id, organization_id, type, data, enabled, creation_date, revision_date)
     VALUES ($1, $2, 2, NULL, true, now(), now()), ($3, $4, 1, NULL, false, now(), now())`,
    [randomUUID(), alpha.org.id, randomUUID(), beta.org.id],
  );
  // Two-step login: b has an enabled provider (email), d only a disabled one.
  await h.db.execute(`INSERT INTO two_factor_provider (user_id, type, enabled) VALUES ($1, 1, true), ($2, 1, false)`, [
    b.user.id,
    d.user.id,
  ]);
  await event(1400, alpha.org.id, now - DAY);
  await event(1600, beta.org.id, now - 3 * DAY);
  await event(1000, null, now - DAY);
  await event(1100, alpha.org.id, now - DAY);
  await event(1500, alpha.org.id, now - 45 * DAY);
});
after(async () => {
  await h.close();
});

describe('compliance reports for the whole instance', () => {
  test('active users (default 90 days), most recent first', async () => {
    const report = await reports.run('active-users');
    assert.equal(report.organizationId, null);
    assert.deepEqual(ids(report.rows), [a.user.id, d.user.id, b.user.id]);
    assert.equal(report.rows[0]?.['lastActivityDate'], new Date(now - DAY - HOUR).toISOString());
    assert.deepEqual(ids((await reports.run('active-users', { dormantDays: 3 })).rows), [a.user.id]);
  });

  test('dormant accounts, a never-active account counted from its creation', async () => {
    const report = await reports.run('dormant-accounts', { dormantDays: 30 });
    assert.deepEqual(
      report.rows.map((r) => [r['userId'], r['lastActivityDate'], r['daysInactive']]),
      [
        [c.user.id, null, 400],
        [b.user.id, new Date(now - 40 * DAY - HOUR).toISOString(), 40],
      ],
    );
  });

  test('one organization: only its members', async () => {
    const scope = { organizationId: alpha.org.id };
    assert.deepEqual(ids((await reports.run('active-users', scope)).rows), [a.user.id, b.user.id]);
    assert.deepEqual(ids((await reports.run('dormant-accounts', { ...scope, dormantDays: 30 })).rows), [b.user.id]);
  });

  test('vault contents: every account and organization, counts by type, trash apart', async () => {
    const report = await reports.run('vault-contents');
    const counts = (r: ReportRow): unknown[] =>
      ['logins', 'secureNotes', 'cards', 'identities', 'sshKeys', 'other', 'trashed', 'total'].map((k) => r[k]);
    const byOwner = new Map(report.rows.map((r) => [r['ownerId'], [r['ownerType'], ...counts(r)]]));
    assert.equal(report.rows.length, 6);
    assert.deepEqual(byOwner.get(a.user.id), ['user', 2, 0, 1, 0, 0, 0, 0, 3]);
    assert.deepEqual(byOwner.get(b.user.id), ['user', 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(byOwner.get(c.user.id), ['user', 0, 0, 0, 1, 1, 0, 1, 3]);
    assert.deepEqual(byOwner.get(d.user.id), ['user', 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(byOwner.get(alpha.org.id), ['organization', 0, 1, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(byOwner.get(beta.org.id), ['organization', 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ids(report.rows, 'ownerType'), ['user', 'user', 'user', 'user', 'organization', 'organization']);
  });

  test("access review: each organization's members and grants", async () => {
    const report = await reports.run('access-review');
    const rows = report.rows.map((r) => [
      r['organizationId'],
      r['userId'],
      r['role'],
      r['status'],
      r['twoFactorEnabled'],
      r['collectionId'],
      r['manage'],
    ]);
    const expected = [
      [alpha.org.id, a.user.id, 'Owner', 'Confirmed', false, alpha.defaultCollection.id, true],
      [alpha.org.id, b.user.id, 'User', 'Confirmed', true, null, null],
      [beta.org.id, d.user.id, 'Owner', 'Confirmed', false, beta.defaultCollection.id, true],
    ];
    const sort = (x: unknown[][]): string[] => x.map((r) => JSON.stringify(r)).sort();
    assert.deepEqual(sort(rows), sort(expected));
  });

  test('policy coverage: enabled policies bind joined non-admins', async () => {
    const report = await reports.run('policy-coverage');
    const rows = report.rows.map((r) => [
      r['organizationId'],
      r['policy'],
      r['enabled'],
      r['membersCovered'],
      r['membersExempt'],
    ]);
    const sort = (x: unknown[][]): string[] => x.map((r) => JSON.stringify(r)).sort();
    assert.deepEqual(
      sort(rows),
      sort([
        [alpha.org.id, 'PasswordGenerator', true, 1, 1],
        [beta.org.id, 'MasterPassword', false, 0, 1],
      ]),
    );
  });

  test('administrative actions: organization admin events of the period, oldest first', async () => {
    const report = await reports.run('admin-actions');
    assert.deepEqual(
      report.rows.map((r) => [r['organizationId'], r['eventType'], r['event'], r['actingUserEmail']]),
      [
        [beta.org.id, 1600, 'Organization_Updated', a.user.email],
        [alpha.org.id, 1400, 'Group_Created', a.user.email],
      ],
    );
    const older = await reports.run('admin-actions', { from: new Date(now - 60 * DAY), to: new Date(now - 2 * DAY) });
    assert.deepEqual(
      older.rows.map((r) => r['eventType']),
      [1500, 1600],
    );
  });

  test('parameters out of range are refused', async () => {
    await rejectsWithCode(reports.run('dormant-accounts', { dormantDays: 0 }), 'bad_request');
    await rejectsWithCode(
      reports.run('admin-actions', { from: new Date(now), to: new Date(now - DAY) }),
      'bad_request',
    );
    await rejectsWithCode(reports.run('active-users', { organizationId: 'not-a-guid' }), 'bad_request');
    await rejectsWithCode(reports.run('nope' as never), 'bad_request');
  });
});

describe('CSV', () => {
  const sheet = (rows: ReportRow[]): Pick<Report, 'columns' | 'rows'> => ({ columns: ['a', 'b'], rows });

  test('header and CRLF records; quotes, commas and line breaks quoted (RFC 4180)', () => {
    assert.equal(
      toCsv(
        sheet([
          { a: 'plain', b: 'x,y' },
          { a: 'say "hi"', b: 'two\nlines' },
          { a: null, b: true },
          { a: 3, b: 0 },
        ]),
      ),
      'a,b\r\nplain,"x,y"\r\n"say ""hi""","two\nlines"\r\n,true\r\n3,0\r\n',
    );
  });

  test('text starting with = + - @ (or tab, CR) is neutralised; numbers are not', () => {
    assert.equal(
      toCsv(
        sheet([
          { a: '=SUM(A1)', b: '+1' },
          { a: '-2', b: '@cmd' },
          { a: '\tx', b: -5 },
          { a: '=1,2', b: 'a=b' },
        ]),
      ),
      "a,b\r\n'=SUM(A1),'+1\r\n'-2,'@cmd\r\n'\tx,-5\r\n\"'=1,2\",a=b\r\n",
    );
  });
});
