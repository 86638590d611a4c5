import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import {
  HttpClient,
  passwordLogin,
  requireServices,
  startSmtpSink,
  type ServerProcess,
  type SmtpSink,
} from '@keyhaven/testing';
import { createAccount, encryptType4 } from '@keyhaven/vault-crypto';
import { PASSWORD, call, ok, type Person } from './org-fixtures';
import { linkParam, mailsTo, waitForMail } from './recovery-fixtures';
import { startSplitApps, type SplitApps } from './split-stack';

/** One public URL for every service, as behind a load balancer: tokens name it as their issuer. */
const SHARED_DOMAIN = 'https://vault.keyhaven.test';
const GRANTS = 4;

/**
 * The emergency-access auto-approval job with three api instances on one PostgreSQL, Redis and
 * RabbitMQ, each ticking every second: every due recovery is approved exactly once and its two mails
 * go out exactly once, whichever instance took the round.
 */
describe('emergency access jobs across three api instances', () => {
  let stack: SplitApps | undefined;
  let smtp: SmtpSink;
  let identity: HttpClient;
  let api: HttpClient;
  let apis: ServerProcess[] = [];
  let db: Client | undefined;

  const person = async (name: string): Promise<Person> => {
    const email = `ea-split-${name}-${Date.now()}@example.com`;
    const account = await createAccount({ email, password: PASSWORD });
    const sent = await identity.post('/identity/accounts/register/send-verification-email', { json: { email } });
    assert.ok(sent.status === 204 || sent.status === 200, sent.text);
    const token = linkParam(await waitForMail(smtp, email, /verify/i), 'token');
    const finish = await identity.post('/identity/accounts/register/finish', {
      json: account.registerFinishBody(token),
    });
    assert.equal(finish.status, 200, finish.text);
    const session = await passwordLogin(identity, account);
    const profile = ok(await call<{ id: string }>(api, session.accessToken, 'GET', '/api/accounts/profile'), 'profile');
    return { email, account, token: session.accessToken, userId: profile.id };
  };

  /** A confirmed takeover grant whose recovery the grantee has initiated. */
  const initiatedGrant = async (grantor: Person, grantee: Person): Promise<string> => {
    ok(
      await call(api, grantor.token, 'POST', '/api/emergency-access/invite', {
        email: grantee.email,
        type: 1,
        waitTimeDays: 3,
      }),
      'invite',
    );
    const mail = await waitForMail(smtp, grantee.email, new RegExp(`Emergency Access Contact Invite`));
    const id = linkParam(mail, 'id');
    ok(
      await call(api, grantee.token, 'POST', `/api/emergency-access/${id}/accept`, { token: linkParam(mail, 'token') }),
      'accept',
    );
    ok(
      await call(api, grantor.token, 'POST', `/api/emergency-access/${id}/confirm`, {
        key: encryptType4(grantee.account.publicKey, grantor.account.userKey.toBytes()),
      }),
      'confirm',
    );
    ok(await call(api, grantee.token, 'POST', `/api/emergency-access/${id}/initiate`), 'initiate');
    return id;
  };

  before(async () => {
    if (!(await requireServices({ skip: () => undefined }, 'postgres', 'redis', 'rabbitmq'))) return;
    smtp = await startSmtpSink();
    stack = await startSplitApps(['identity', 'api', 'api', 'api'], SHARED_DOMAIN, {
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_SECURITY: 'off',
      SMTP_FROM: 'Keyhaven <vault@example.com>',
      EMERGENCY_ACCESS_JOBS_INTERVAL_SECONDS: '1',
      // The job logs each round's count at debug level.
      LOG_LEVEL: 'debug',
    });
    const [identityApp, ...apiApps] = stack.servers as [ServerProcess, ...ServerProcess[]];
    apis = apiApps;
    identity = new HttpClient(identityApp.url);
    api = new HttpClient(apis[0]?.url ?? '');
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
  });

  after(async () => {
    await db?.end();
    await stack?.stop('SIGKILL');
    await smtp.close();
  });

  test('every due recovery is approved once, with one mail each, by whichever instance runs the round', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    assert.equal(apis.length, 3);
    const pairs: [Person, Person][] = [];
    for (let i = 0; i < GRANTS; i++) pairs.push([await person(`grantor${i}`), await person(`grantee${i}`)]);
    const ids = await Promise.all(pairs.map(([grantor, grantee]) => initiatedGrant(grantor, grantee)));
    // The wait (3 days) is over for all of them at once.
    await db?.query(
      "UPDATE emergency_access SET recovery_initiated_date = now() - interval '4 days' WHERE id = ANY($1::uuid[])",
      [ids],
    );
    for (const [grantor, grantee] of pairs) {
      await waitForMail(smtp, grantee.email, /Emergency Access Approved/);
      await waitForMail(smtp, grantor.email, /Emergency Access Granted/);
    }
    // Several more rounds on every instance.
    await new Promise((r) => setTimeout(r, 3500));
    for (const [grantor, grantee] of pairs) {
      assert.equal(mailsTo(smtp, grantee.email, /Emergency Access Approved/).length, 1, grantee.email);
      assert.equal(mailsTo(smtp, grantor.email, /Emergency Access Granted/).length, 1, grantor.email);
    }
    const statuses = await db?.query<{ status: number }>(
      'SELECT status FROM emergency_access WHERE id = ANY($1::uuid[])',
      [ids],
    );
    assert.deepEqual(
      statuses?.rows.map((r) => r.status),
      ids.map(() => 4),
    );
    // The rounds' own account: the approvals the three instances logged add up to the grants.
    const approvedPerInstance = apis.map((a) =>
      [...a.output().matchAll(/emergency access: (\d+) approved/g)].reduce((sum, m) => sum + Number(m[1]), 0),
    );
    assert.equal(
      approvedPerInstance.reduce((a, b) => a + b, 0),
      GRANTS,
      `approved per instance: ${approvedPerInstance.join(', ')}`,
    );
  });
});
