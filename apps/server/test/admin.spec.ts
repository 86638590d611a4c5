import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import argon2 from 'argon2';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inheritedEnvironment } from '@keyhaven/config';
import { BwCli, passwordLogin, registerAccount, repoRoot } from '@keyhaven/testing';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { AdminClient, cookiePair, setCookie } from './admin-fixtures';
import {
  MemberStatus,
  PASSWORD,
  call,
  createOrg,
  createPersonalItem,
  join as joinOrg,
  newPerson,
} from './org-fixtures';

/** The CLI under test must not pick up the developer's adapters or token. */
const CLI_EXCLUDED = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'DATA_DIR', 'KEYHAVEN_ADMIN_TOKEN'];
const ADMIN_TOKEN = 'admin-token-for-the-e2e-suite-0123456789';

function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'dist', 'tools', 'cli', 'main.js'), ...args],
      { env: { ...inheritedEnvironment(CLI_EXCLUDED), ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * The admin service end to end: authentication (no token → 404, wrong token → 401 then 429, a user's
 * JWT refused, CSRF), Vaultwarden's paths, the one-step offboarding through the API and the CLI (the
 * user can no longer log in, refresh or call the API, the owner sees them revoked, their data stays,
 * the event carries the admin's address), and diagnostics that leak no secret.
 */
describeOnBackends('admin service', (backend) => {
  let server: BackedServer;
  let hash: string;
  let ipCounter = 10;
  const admin = (): AdminClient => new AdminClient(server.http, ADMIN_TOKEN, `198.51.100.${ipCounter++}`);

  before(async () => {
    hash = await argon2.hash(ADMIN_TOKEN, { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    server = await startAllInOne(backend, { ADMIN_TOKEN: hash, ADMIN_LOGIN_ATTEMPTS: '3', TRUST_PROXY: 'true' });
  });

  after(async () => {
    await server.stop();
  });

  test('a wrong token is 401, then 429 with Retry-After, even for the right token', async () => {
    const wrong = new AdminClient(server.http, 'not-the-admin-token', '198.51.100.200');
    for (let i = 0; i < 3; i++) assert.equal((await wrong.get('users')).status, 401);
    const limited = await wrong.get('users');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    const right = new AdminClient(server.http, ADMIN_TOKEN, '198.51.100.200');
    assert.equal((await right.get('users')).status, 429);
    assert.equal((await admin().get('users')).status, 200);
  });

  test("a user's access token opens no admin route", async () => {
    const person = await newPerson(server.http, 'jwt-user@example.com');
    const routes: [string, string][] = [
      ['GET', 'users'],
      ['GET', `users/${person.userId}`],
      ['GET', `users/by-mail/${person.email}`],
      ['POST', `users/${person.userId}/disable`],
      ['POST', `users/${person.userId}/offboard`],
      ['POST', `users/${person.userId}/delete`],
      ['GET', 'organizations'],
      ['GET', 'diagnostics'],
      ['GET', 'reports/active-users'],
      ['GET', 'portal/users'],
      ['POST', 'invite'],
      ['POST', 'test/smtp'],
    ];
    let i = 0;
    for (const [method, path] of routes) {
      // Each from its own address: the refusals must be 401s, not the limiter's 429.
      const res = await server.http.request(method, `/admin/${path}`, {
        token: person.token,
        headers: { 'x-forwarded-for': `203.0.113.${i++}` },
      });
      assert.equal(res.status, 401, `${method} ${path}: ${res.text}`);
    }
    const users = await server.db.rows<{ enabled: boolean }>('SELECT enabled FROM app_user WHERE id = $1', [
      person.userId,
    ]);
    assert.equal(users[0]?.enabled, true);
  });

  test('portal: login sets a strict session cookie; forms without the CSRF token are 403', async () => {
    const client = admin();
    const form = await server.http.request('GET', '/admin/login', { headers: { 'x-forwarded-for': client.ip } });
    assert.match(String(form.headers['content-security-policy']), /default-src 'none'.*script-src 'self'/);
    const withoutCsrf = await server.http.request('POST', '/admin/login', {
      headers: { 'x-forwarded-for': client.ip, cookie: cookiePair(form.headers['set-cookie'], 'keyhaven_admin_login') },
      form: { token: ADMIN_TOKEN },
    });
    assert.equal(withoutCsrf.status, 403);
    const { cookie, csrf } = await client.portalLogin();
    const person = await newPerson(server.http, 'csrf-target@example.com');
    const noCsrf = await server.http.request('POST', `/admin/portal/users/${person.userId}/disable`, {
      headers: { 'x-forwarded-for': client.ip, cookie },
      form: {},
    });
    assert.equal(noCsrf.status, 403);
    const badCsrf = await server.http.request('POST', `/admin/users/${person.userId}/disable`, {
      headers: { 'x-forwarded-for': client.ip, cookie },
      form: { _csrf: 'x'.repeat(csrf.length) },
    });
    assert.equal(badCsrf.status, 403);
    assert.equal(
      (await server.db.rows<{ enabled: boolean }>('SELECT enabled FROM app_user WHERE id = $1', [person.userId]))[0]
        ?.enabled,
      true,
    );
    const done = await server.http.request('POST', `/admin/portal/users/${person.userId}/disable`, {
      headers: { 'x-forwarded-for': client.ip, cookie },
      form: { _csrf: csrf },
    });
    assert.equal(done.status, 303, done.text);
    assert.equal(
      (await server.db.rows<{ enabled: boolean }>('SELECT enabled FROM app_user WHERE id = $1', [person.userId]))[0]
        ?.enabled,
      false,
    );
    // The cookie's attributes.
    const login = await server.http.request('GET', '/admin/login', { headers: { 'x-forwarded-for': client.ip } });
    const again = await server.http.request('POST', '/admin/login', {
      headers: {
        'x-forwarded-for': client.ip,
        cookie: cookiePair(login.headers['set-cookie'], 'keyhaven_admin_login'),
      },
      form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(login.text)?.[1] ?? '', token: ADMIN_TOKEN },
    });
    const session = setCookie(again.headers['set-cookie'], 'keyhaven_admin');
    assert.match(session, /HttpOnly/);
    assert.match(session, /Secure/);
    assert.match(session, /SameSite=Strict/);
    assert.match(session, /Max-Age=\d+/);
    // Logged out, the cookie opens nothing.
    const out = await server.http.request('POST', '/admin/logout', {
      headers: { 'x-forwarded-for': client.ip, cookie, 'x-csrf-token': csrf },
    });
    assert.equal(out.status, 303);
    const after = await server.http.request('GET', '/admin/users', {
      headers: { 'x-forwarded-for': client.ip, cookie },
    });
    assert.equal(after.status, 401);
  });

  test("Vaultwarden's paths: users, by-mail, disable/enable, deauth, remove-2fa, delete, organizations, invite, smtp test", async () => {
    const client = admin();
    const person = await newPerson(server.http, 'vw-paths@example.com');
    const list = await client.get<{ id: string; email: string; userEnabled: boolean }[]>('users');
    assert.equal(list.status, 200);
    assert.ok(list.body.some((u) => u.id === person.userId && u.userEnabled));
    const byMail = await client.get<{ id: string; _Status: number }>(`users/by-mail/${person.email}`);
    assert.equal(byMail.body.id, person.userId);
    assert.equal(byMail.body._Status, 0);
    assert.equal((await client.get('users/by-mail/nobody@example.com')).status, 404);

    assert.equal((await client.post(`users/${person.userId}/disable`)).status, 200);
    await assert.rejects(passwordLogin(server.http, person.account), /login: 400 .*This user has been disabled/);
    assert.equal((await call(server.http, person.token, 'GET', '/api/sync')).status, 401);
    assert.equal((await client.post(`users/${person.userId}/enable`)).status, 200);
    const session = await passwordLogin(server.http, person.account);
    assert.equal((await call(server.http, session.accessToken, 'GET', '/api/accounts/profile')).status, 200);

    assert.equal((await client.post(`users/${person.userId}/deauth`)).status, 200);
    assert.equal((await call(server.http, session.accessToken, 'GET', '/api/accounts/profile')).status, 401);

    await server.db.rows("UPDATE app_user SET totp_secret = 'JBSWY3DPEHPK3PXP' WHERE id = $1", [person.userId]);
    const removed = await client.post<{ twoFactorEnabled: boolean }>(`users/${person.userId}/remove-2fa`);
    assert.equal(removed.status, 200);
    assert.equal(removed.body.twoFactorEnabled, false);

    const owner = await newPerson(server.http, 'vw-org-owner@example.com');
    const org = await createOrg(server.http, owner, 'Doomed Co');
    const orgs = await client.get<{ id: string; members: number }[]>('organizations');
    assert.equal(orgs.body.find((o) => o.id === org.id)?.members, 1);
    assert.equal((await client.post(`organizations/${org.id}/delete`)).status, 200);
    assert.equal((await server.db.rows('SELECT 1 FROM organization WHERE id = $1', [org.id])).length, 0);

    const invited = await client.post<{ email: string; url: string }>('invite', { email: 'Newcomer@Example.com' });
    assert.equal(invited.status, 200, invited.text);
    assert.equal(invited.body.email, 'newcomer@example.com');
    assert.equal((await client.post('invite', { email: 'not-an-email' })).status, 400);
    const smtp = await client.post<{ delivered: boolean }>('test/smtp', { email: 'ops@example.com' });
    assert.equal(smtp.status, 200);
    assert.equal(smtp.body.delivered, false);

    assert.equal((await client.post(`users/${person.userId}/delete`)).status, 200);
    assert.equal((await server.db.rows('SELECT 1 FROM app_user WHERE id = $1', [person.userId])).length, 0);
    assert.equal((await client.post(`users/${person.userId}/delete`)).status, 404);
  });

  async function offboardingFixture(label: string) {
    const owner = await newPerson(server.http, `${label}-owner@example.com`);
    const org = await createOrg(server.http, owner, `${label} Co`);
    const leaver = await newPerson(server.http, `${label}-leaver@example.com`);
    await joinOrg(server.http, org, owner.token, leaver, { type: 2 });
    await createPersonalItem(server.http, leaver, 'kept after offboarding');
    const session = await passwordLogin(server.http, leaver.account);
    return { owner, org, leaver, session };
  }

  async function assertOffboarded(
    f: Awaited<ReturnType<typeof offboardingFixture>>,
    adminIp: string | null,
  ): Promise<void> {
    // No API call, no refresh, no new login.
    assert.equal((await call(server.http, f.session.accessToken, 'GET', '/api/sync')).status, 401);
    const refresh = await server.http.post('/identity/connect/token', {
      form: { grant_type: 'refresh_token', refresh_token: f.session.refreshToken, client_id: 'cli' },
    });
    assert.equal(refresh.status, 400, refresh.text);
    await assert.rejects(passwordLogin(server.http, f.leaver.account), /login: 400 .*This user has been disabled/);
    // The owner sees the member revoked.
    const members = await call<{ data: { userId: string; status: number }[] }>(
      server.http,
      f.owner.token,
      'GET',
      `/api/organizations/${f.org.id}/users`,
    );
    assert.equal(members.body.data.find((m) => m.userId === f.leaver.userId)?.status, MemberStatus.Revoked);
    // The data is still there.
    assert.equal((await server.db.rows('SELECT 1 FROM app_user WHERE id = $1', [f.leaver.userId])).length, 1);
    assert.equal((await server.db.rows('SELECT 1 FROM cipher WHERE user_id = $1', [f.leaver.userId])).length, 1);
    // The event log (or, before the relay ran, its outbox) has the offboarding with the admin's address.
    const deadline = Date.now() + 15_000;
    let events: { ip: string | null }[] = [];
    while (Date.now() < deadline) {
      events = await server.db.rows<{ ip: string | null }>(
        `SELECT ip_address AS ip FROM event WHERE type = 9002 AND user_id = $1
         UNION ALL SELECT payload ->> 'ipAddress' FROM event_outbox WHERE (payload ->> 'type')::int = 9002 AND payload ->> 'userId' = $1::text`,
        [f.leaver.userId],
      );
      if (events.length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(events.length >= 1, 'offboarding event recorded');
    assert.equal(events[0]?.ip, adminIp);
  }

  test('offboarding through the API: one call does it all, a second finds nothing to do', async () => {
    const f = await offboardingFixture('api');
    const client = admin();
    const first = await client.post<{
      disabled: boolean;
      revokedFrom: { organizationId: string }[];
      sessionsEnded: number;
      alreadyOffboarded: boolean;
    }>(`users/${f.leaver.userId}/offboard`);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.disabled, true);
    assert.deepEqual(
      first.body.revokedFrom.map((r) => r.organizationId),
      [f.org.id],
    );
    assert.ok(first.body.sessionsEnded >= 1);
    assert.equal(first.body.alreadyOffboarded, false);
    const second = await client.post<typeof first.body>(`users/${f.leaver.userId}/offboard`);
    assert.equal(second.status, 200);
    assert.equal(second.body.alreadyOffboarded, true);
    assert.equal(second.body.disabled, false);
    assert.deepEqual(second.body.revokedFrom, []);
    await assertOffboarded(f, client.ip);
  });

  test('offboarding through the CLI (--server with the admin token)', async () => {
    const f = await offboardingFixture('cli');
    const ip = '127.0.0.1';
    const result = await runCli(
      ['offboard', f.leaver.email, '--server', server.url, '--token', ADMIN_TOKEN, '--json'],
      server.caPath ? { NODE_EXTRA_CA_CERTS: server.caPath } : {},
    );
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as { email: string; revokedFrom: unknown[] };
    assert.equal(body.email, f.leaver.email);
    assert.equal(body.revokedFrom.length, 1);
    await assertOffboarded(f, ip);
    const missing = await runCli(
      ['offboard', 'nobody@example.com', '--server', server.url, '--token', ADMIN_TOKEN],
      server.caPath ? { NODE_EXTRA_CA_CERTS: server.caPath } : {},
    );
    assert.equal(missing.code, 3);
    const wrong = await runCli(
      ['users', 'list', '--server', server.url, '--token', 'wrong-token'],
      server.caPath ? { NODE_EXTRA_CA_CERTS: server.caPath } : {},
    );
    assert.equal(wrong.code, 4);
  });

  test('offboarding through the portal shows what was done', async () => {
    const f = await offboardingFixture('portal');
    const client = admin();
    const { cookie, csrf } = await client.portalLogin();
    const search = await server.http.request<string>(
      'GET',
      `/admin/portal/users?search=${encodeURIComponent(f.leaver.email)}`,
      { headers: { 'x-forwarded-for': client.ip, cookie } },
    );
    assert.match(search.text, new RegExp(`/admin/portal/users/${f.leaver.userId}/offboard`));
    const page = await server.http.request<string>('POST', `/admin/portal/users/${f.leaver.userId}/offboard`, {
      headers: { 'x-forwarded-for': client.ip, cookie },
      form: { _csrf: csrf },
    });
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /Offboarded/);
    assert.match(page.text, /Revoked from portal Co/);
    await assertOffboarded(f, client.ip);
  });

  test("the offboarded user's bw CLI can no longer sync or log in", async () => {
    const f = await offboardingFixture('bw');
    const bw = new BwCli(server.caPath);
    try {
      await bw.ok(['config', 'server', server.url]);
      bw.session = (await bw.ok(['login', f.leaver.email, PASSWORD, '--raw'])).trim();
      assert.match(await bw.ok(['sync', '--force']), /Syncing complete/);
      assert.equal((await admin().post(`users/${f.leaver.userId}/offboard`)).status, 200);
      const sync = await bw.run(['sync', '--force']);
      assert.notEqual(sync.code, 0, `sync after offboarding: ${sync.stdout}`);
      await bw.run(['logout']);
      bw.session = undefined;
      const login = await bw.run(['login', f.leaver.email, PASSWORD, '--raw']);
      assert.notEqual(login.code, 0, `login after offboarding: ${login.stdout}`);
    } finally {
      bw.cleanup();
    }
  });

  test('keyhaven audit-report writes JSON and CSV whose figures match the seeded instance', async () => {
    const owner = await newPerson(server.http, 'audit-owner@example.com');
    const org = await createOrg(server.http, owner, 'Audit Co');
    const member = await newPerson(server.http, 'audit-member@example.com');
    await joinOrg(server.http, org, owner.token, member, { type: 2 });
    await createPersonalItem(server.http, member, 'one');
    await createPersonalItem(server.http, member, 'two');
    await createPersonalItem(server.http, owner, 'three');
    const env: Record<string, string> = server.caPath ? { NODE_EXTRA_CA_CERTS: server.caPath } : {};
    const out = join(server.dataDir, 'audit');
    const common = ['--server', server.url, '--token', ADMIN_TOKEN];

    const review = await runCli(
      ['audit-report', ...common, '--org', org.id, '--report', 'access-review', '--out', `${out}.json`],
      env,
    );
    assert.equal(review.code, 0, review.stderr);
    const reviewed = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as {
      rows: { email: string; role: string; status: string }[];
    };
    const byEmail = new Map(reviewed.rows.map((r) => [r.email, r]));
    assert.equal(new Set(reviewed.rows.map((r) => r.email)).size, 2);
    assert.equal(byEmail.get(owner.email)?.role, 'Owner');
    assert.equal(byEmail.get(member.email)?.role, 'User');
    assert.equal(byEmail.get(member.email)?.status, 'Confirmed');

    const contents = await runCli(
      ['audit-report', ...common, '--report', 'vault-contents', '--format', 'csv', '--out', `${out}.csv`],
      env,
    );
    assert.equal(contents.code, 0, contents.stderr);
    const lines = readFileSync(`${out}.csv`, 'utf8').trim().split(/\r?\n/);
    const header = (lines[0] ?? '').split(',');
    const total = (email: string): number => {
      const cells = (lines.find((l) => l.includes(email)) ?? '').split(',');
      return Number(cells[header.indexOf('total')]);
    };
    assert.equal(total(member.email), 2);
    assert.equal(total(owner.email), 1);

    const all = await runCli(['audit-report', ...common, '--json'], env);
    assert.equal(all.code, 0, all.stderr);
    assert.equal((JSON.parse(all.stdout) as { reports: unknown[] }).reports.length, 6);
    const bad = await runCli(['audit-report', ...common, '--format', 'xml'], env);
    assert.equal(bad.code, 2);
  });

  test('keyhaven hash-admin-token prints an Argon2id PHC string of the token; --help and usage errors', async () => {
    const hashed = await runCli(['hash-admin-token', '--token', ADMIN_TOKEN]);
    assert.equal(hashed.code, 0, hashed.stderr);
    const phc = hashed.stdout.trim();
    assert.match(phc, /^\$argon2id\$v=19\$m=65536,(t=3,p=4|p=4,t=3)\$/);
    assert.equal(await argon2.verify(phc, ADMIN_TOKEN), true);
    assert.equal((await runCli(['hash-admin-token', '--token', 'short'])).code, 2);
    const help = await runCli(['offboard', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: keyhaven offboard/);
    assert.equal((await runCli(['no-such-command'])).code, 2);
  });

  test('diagnostics: health, migrations and configuration, and no secret anywhere', async () => {
    const client = admin();
    const json = await client.get<{
      health: { checks: Record<string, unknown> };
      migrations: { pending: string[] };
      config: Record<string, unknown>;
    }>('diagnostics');
    assert.equal(json.status, 200);
    assert.ok(json.body.health.checks['database']);
    assert.deepEqual(json.body.migrations.pending, []);
    assert.equal(json.body.config['ADMIN_TOKEN'], '***');
    const { cookie } = await client.portalLogin();
    const html = await server.http.request<string>('GET', '/admin/portal/diagnostics', {
      headers: { 'x-forwarded-for': client.ip, cookie },
    });
    assert.equal(html.status, 200);
    for (const text of [json.text, html.text, server.output()]) {
      assert.ok(!text.includes(ADMIN_TOKEN), 'the admin token leaked');
      assert.ok(!text.includes(hash), 'the admin token hash leaked');
      assert.ok(!text.includes(hash.split('$').pop() ?? 'none'), 'the hash digest leaked');
    }
  });

  test('reports as JSON and CSV', async () => {
    const client = admin();
    const json = await client.get<{ kind: string; rows: unknown[] }>('reports/access-review');
    assert.equal(json.status, 200, json.text);
    assert.equal(json.body.kind, 'access-review');
    const csv = await client.get<string>('reports/dormant-accounts?format=csv&dormantDays=30');
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    assert.equal((await client.get('reports/nope')).status, 400);
  });
});

describeOnBackends('admin service without ADMIN_TOKEN', (backend) => {
  let server: BackedServer;
  before(async () => {
    server = await startAllInOne(backend, {});
  });
  after(async () => {
    await server.stop();
  });

  test('every /admin route is 404', async () => {
    const account = await registerAccount(server.http, 'no-admin@example.com', PASSWORD);
    const session = await passwordLogin(server.http, account);
    for (const path of ['/admin', '/admin/login', '/admin/users', '/admin/diagnostics', '/admin/portal/users']) {
      assert.equal((await server.http.request('GET', path)).status, 404, path);
      assert.equal((await server.http.request('GET', path, { token: session.accessToken })).status, 404, path);
      assert.equal((await server.http.request('GET', path, { token: 'anything' })).status, 404, path);
    }
    assert.equal((await server.http.request('POST', '/admin/login', { form: { token: 'x' } })).status, 404);
  });
});
