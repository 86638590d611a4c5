import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BwCli, enableTotp, passwordLogin, startSmtpSink, type HttpResponse, type SmtpSink } from '@keyhaven/testing';
import { SymmetricKey, decryptRsa, decryptType2, encryptType4, unlockUserKey } from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import {
  MemberType,
  assertApiError,
  call,
  createOrg,
  ok,
  type Member,
  type Method,
  type Org,
  type Person,
} from './org-fixtures';
import {
  joinByMail,
  kdfOf,
  legacyPasswordBody,
  modernPasswordBody,
  newPasswordFor,
  registerByMail,
  waitForMail,
  withPassword,
} from './recovery-fixtures';

/**
 * Account recovery (admin password reset) with the clients' real crypto: members enrol by wrapping
 * their user key to the organization's public key; an admin's client unwraps it with the
 * organization's private key and sets a new password; the member's next login (the real bw CLI)
 * is told to change it. Who may reset whom is checked for every role pair, and every refusal
 * leaves the database as it was.
 */
interface Details {
  organizationUserId: string;
  kdf: number;
  kdfIterations: number;
  kdfMemory: number | null;
  kdfParallelism: number | null;
  masterPasswordSalt: string;
  resetPasswordKey: string;
  encryptedPrivateKey: string;
  object: string;
}

const RESET_PASSWORD = 'temporary password from the admin';
const CLI_MESSAGE = /An organization administrator recently changed your master password/;

describeOnBackends('account recovery', (backend) => {
  let server: BackedServer;
  let smtp: SmtpSink;
  let org: Org;
  let stranger: Person;
  const actors = {} as Record<'owner' | 'admin' | 'customWith' | 'customWithout' | 'user', Member>;
  const targets = {} as Record<'owner' | 'admin' | 'custom' | 'user', Member>;
  let unenrolled: Member;

  const send = (who: Person, method: Method, path: string, json?: unknown): Promise<HttpResponse> =>
    call(server.http, who.token, method, path, json);
  const users = (o: Org, rest: string): string => `/api/organizations/${o.id}/users/${rest}`;
  const person = (name: string): Promise<Person> =>
    registerByMail(server.http, smtp, `ar-${name}-${backend}@example.com`);
  const fingerprint = async (): Promise<string> =>
    JSON.stringify([
      await server.db.fingerprint(),
      await server.db.rows('SELECT id, force_password_reset FROM app_user ORDER BY id'),
    ]);
  const unchanged = async (res: () => Promise<HttpResponse>, status: number, context: string): Promise<void> => {
    const before = await fingerprint();
    assertApiError(await res(), status, context);
    assert.equal(await fingerprint(), before, `nothing changed: ${context}`);
  };
  const forced = async (userId: string): Promise<boolean> =>
    (await server.db.rows<{ f: boolean }>('SELECT force_password_reset AS f FROM app_user WHERE id = $1', [userId]))[0]
      ?.f ?? false;
  /** What the member's client does: wrap the user key to the organization's public key. */
  const enroll = async (o: Org, m: Person, password = m.account.masterPasswordHash): Promise<HttpResponse> => {
    const { publicKey } = ok(await send(m, 'GET', `/api/organizations/${o.id}/keys`), 'org keys') as {
      publicKey: string;
    };
    return send(m, 'PUT', users(o, `${m.userId}/reset-password-enrollment`), {
      resetPasswordKey: encryptType4(publicKey, m.account.userKey.toBytes()),
      masterPasswordHash: password,
    });
  };
  const setPolicy = (o: Org, enabled: boolean, autoEnrollEnabled: boolean): Promise<HttpResponse> =>
    send(o.owner, 'PUT', `/api/organizations/${o.id}/policies/8`, { enabled, data: { autoEnrollEnabled } });
  const eventCount = async (type: number, memberId: string): Promise<number> => {
    const [row] = await server.db.rows<{ n: string }>(
      `SELECT (SELECT count(*) FROM event WHERE type = $1 AND organization_user_id = $2)
            + (SELECT count(*) FROM event_outbox WHERE (payload ->> 'type')::int = $1 AND payload ->> 'organizationUserId' = $2::text) AS n`,
      [type, memberId],
    );
    return Number(row?.n ?? 0);
  };

  before(async () => {
    smtp = await startSmtpSink();
    server = await startAllInOne(backend, {
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_SECURITY: 'off',
      SMTP_FROM: 'Keyhaven <vault@example.com>',
    });
    const owner = await person('owner');
    org = await createOrg(server.http, owner, 'Recoverable');
    stranger = await person('stranger');
    const join = async (name: string, type: number, permissions?: Record<string, boolean>): Promise<Member> =>
      joinByMail(server.http, smtp, org, owner.token, await person(name), {
        type,
        ...(permissions ? { permissions } : {}),
      });
    actors.owner = org.owner;
    actors.admin = await join('admin', MemberType.Admin);
    actors.customWith = await join('custom-with', MemberType.Custom, { manageResetPassword: true });
    actors.customWithout = await join('custom-without', MemberType.Custom, { manageUsers: true });
    actors.user = await join('user', MemberType.User);
    targets.owner = await join('owner2', MemberType.Owner);
    targets.admin = await join('admin2', MemberType.Admin);
    targets.custom = await join('custom2', MemberType.Custom, { manageUsers: true });
    targets.user = await join('user2', MemberType.User);
    unenrolled = await join('unenrolled', MemberType.User);
  });

  after(async () => {
    await server.stop();
    await smtp.close();
  });

  test('enrolment: needs the policy and the master password; the path names the caller', async () => {
    await unchanged(() => enroll(org, targets.user), 400, 'enrolment without the policy');
    ok(await setPolicy(org, true, false), 'enable the account recovery policy');
    await unchanged(() => enroll(org, targets.user, 'wrong'), 400, 'wrong master password');
    await unchanged(
      () =>
        send(targets.user, 'PUT', users(org, `${targets.admin.userId}/reset-password-enrollment`), {
          resetPasswordKey: null,
        }),
      404,
      'another user in the path',
    );
    for (const m of [...Object.values(actors), ...Object.values(targets)]) ok(await enroll(org, m), `enrol ${m.email}`);
    const list = ok(await send(org.owner, 'GET', `/api/organizations/${org.id}/users`), 'members') as {
      data: { id: string; resetPasswordEnrolled: boolean }[];
    };
    assert.equal(list.data.find((m) => m.id === targets.user.memberId)?.resetPasswordEnrolled, true);
    assert.equal(list.data.find((m) => m.id === unenrolled.memberId)?.resetPasswordEnrolled, false);
    assert.ok((await eventCount(1506, targets.user.memberId)) >= 1, 'event 1506 recorded');
  });

  test('an admin resets a member: the member logs in with it and bw tells them to change it', async () => {
    const target = targets.user;
    const details = ok(
      await send(actors.admin, 'GET', users(org, `${target.memberId}/reset-password-details`)),
      'details',
    ) as Details;
    assert.equal(details.object, 'organizationUserResetPasswordDetails');
    assert.equal(details.organizationUserId, target.memberId);
    assert.equal(details.masterPasswordSalt, target.email);
    // The admin's client: the org private key under the org key, then the member's user key.
    const orgPrivateKey = decryptType2(org.orgKey, details.encryptedPrivateKey);
    const userKey = SymmetricKey.fromBytes(decryptRsa(orgPrivateKey, details.resetPasswordKey));
    assert.ok(userKey.equals(target.account.userKey));
    const next = await newPasswordFor(details.masterPasswordSalt, kdfOf(details), userKey, RESET_PASSWORD);
    await unchanged(
      () =>
        send(actors.admin, 'PUT', users(org, `${target.memberId}/recover-account`), {
          resetMasterPassword: true,
          resetTwoFactor: false,
          ...modernPasswordBody({ ...next, kdf: { ...next.kdf, iterations: next.kdf.iterations + 1 } }),
        }),
      400,
      'another KDF',
    );
    ok(
      await send(actors.admin, 'PUT', users(org, `${target.memberId}/recover-account`), {
        resetMasterPassword: true,
        resetTwoFactor: false,
        ...modernPasswordBody(next),
      }),
      'recover-account',
    );
    assert.equal((await send(target, 'GET', '/api/accounts/profile')).status, 401, 'the old sessions ended');
    await waitForMail(smtp, target.email, /master password has been reset/);
    assert.ok((await eventCount(1508, target.memberId)) >= 1, 'event 1508 recorded');

    const session = await passwordLogin(server.http, withPassword(target.account, next));
    assert.equal(session.body['ForcePasswordReset'], true);
    const profile = ok(
      await call<{ forcePasswordReset: boolean }>(server.http, session.accessToken, 'GET', '/api/accounts/profile'),
      'profile',
    );
    assert.equal(profile.forcePasswordReset, true);
    const unlocked = await unlockUserKey(RESET_PASSWORD, target.email, kdfOf(details), String(session.body['Key']));
    assert.ok(unlocked.equals(target.account.userKey), 'the vault still opens with the new password');

    const bw = new BwCli(server.caPath);
    try {
      await bw.ok(['config', 'server', server.url]);
      const login = await bw.run(['login', target.email, RESET_PASSWORD, '--raw']);
      assert.notEqual(login.code, 0, 'the CLI logs out instead of unlocking');
      assert.match(login.stdout + login.stderr, CLI_MESSAGE);
    } finally {
      bw.cleanup();
    }

    // The web vault's update-temp-password page: the member chooses their own password, which clears the flag.
    const own = await newPasswordFor(target.email, kdfOf(details), userKey, 'the member chose this one');
    ok(
      await call(server.http, session.accessToken, 'PUT', '/api/accounts/update-temp-password', {
        ...modernPasswordBody(own),
        masterPasswordHint: 'mine',
      }),
      'update-temp-password',
    );
    assert.equal(await forced(target.userId), false);
    const after = await passwordLogin(server.http, withPassword(target.account, own));
    assert.equal(after.body['ForcePasswordReset'], false);
    await unchanged(
      () => call(server.http, after.accessToken, 'PUT', '/api/accounts/update-temp-password', modernPasswordBody(own)),
      400,
      'no temporary password to update',
    );
    targets.user = { ...target, account: withPassword(target.account, own), token: after.accessToken };
  });

  test('the legacy route and body, and a two-step-only reset', async () => {
    const target = targets.admin;
    const next = await newPasswordFor(target.email, target.account.kdfConfig, target.account.userKey, RESET_PASSWORD);
    ok(
      await send(org.owner, 'PUT', users(org, `${target.memberId}/reset-password`), legacyPasswordBody(next)),
      'legacy',
    );
    assert.equal(await forced(target.userId), true);
    await passwordLogin(server.http, withPassword(target.account, next));

    const custom = targets.custom;
    await enableTotp(server.http, custom.account, custom.token);
    ok(
      await send(org.owner, 'PUT', users(org, `${custom.memberId}/recover-account`), {
        resetMasterPassword: false,
        resetTwoFactor: true,
      }),
      'two-step reset',
    );
    const [row] = await server.db.rows<{ totp_secret: string | null }>(
      'SELECT totp_secret FROM app_user WHERE id = $1',
      [custom.userId],
    );
    assert.equal(row?.totp_secret, null);
    assert.equal(await forced(custom.userId), false, 'the password is untouched');
    await passwordLogin(server.http, custom.account);
    assert.ok((await eventCount(1519, custom.memberId)) >= 1, 'event 1519 recorded');
  });

  test('who may recover whom, for every role pair (and nobody themselves)', async () => {
    const allowed: Record<keyof typeof actors, (keyof typeof targets)[]> = {
      owner: ['owner', 'admin', 'custom', 'user'],
      admin: ['admin', 'custom', 'user'],
      customWith: ['custom', 'user'],
      customWithout: [],
      user: [],
    };
    const routeAllowed = (a: keyof typeof actors): boolean => a !== 'customWithout' && a !== 'user';
    for (const a of Object.keys(actors) as (keyof typeof actors)[]) {
      const actor = actors[a];
      const pairs: [string, Member][] = [...Object.entries(targets), ['self', actor]];
      for (const [t, target] of pairs) {
        const context = `${a} → ${t}`;
        const body = { newMasterPasswordHash: `hash-${a}-${t}`, key: target.account.key };
        if ((allowed[a] as string[]).includes(t)) {
          ok(await send(actor, 'GET', users(org, `${target.memberId}/reset-password-details`)), context);
          ok(await send(actor, 'PUT', users(org, `${target.memberId}/recover-account`), body), context);
          assert.equal(await forced(target.userId), true, context);
        } else {
          const status = routeAllowed(a) ? 400 : 404;
          await unchanged(
            () => send(actor, 'GET', users(org, `${target.memberId}/reset-password-details`)),
            status,
            context,
          );
          await unchanged(
            () => send(actor, 'PUT', users(org, `${target.memberId}/recover-account`), body),
            status,
            context,
          );
        }
      }
    }
    const bulk = ok(
      await send(actors.admin, 'POST', users(org, 'account-recovery-details'), {
        ids: [targets.user.memberId, targets.custom.memberId],
      }),
      'bulk details',
    ) as { data: Details[] };
    assert.deepEqual(
      bulk.data.map((d) => d.organizationUserId).sort(),
      [targets.user.memberId, targets.custom.memberId].sort(),
    );
    await unchanged(
      () =>
        send(actors.admin, 'POST', users(org, 'reset-password-details'), {
          ids: [targets.user.memberId, targets.owner.memberId],
        }),
      400,
      'bulk details with an owner',
    );
  });

  test('refusals: a stranger, a member not enrolled, an organization without the policy, withdrawal under auto-enrolment', async () => {
    const body = { newMasterPasswordHash: 'x', key: targets.user.account.key };
    await unchanged(
      () => send(stranger, 'PUT', users(org, `${targets.user.memberId}/recover-account`), body),
      404,
      'stranger',
    );
    await unchanged(
      () => send(stranger, 'GET', users(org, `${targets.user.memberId}/reset-password-details`)),
      404,
      'stranger details',
    );
    await unchanged(
      () => send(org.owner, 'PUT', users(org, `${unenrolled.memberId}/recover-account`), body),
      400,
      'not enrolled',
    );

    const other = await createOrg(server.http, stranger, 'No Policy');
    const member = await joinByMail(server.http, smtp, other, stranger.token, await person('other-member'), {
      type: MemberType.User,
    });
    await unchanged(() => enroll(other, member), 400, 'enrolment without the policy');
    await unchanged(
      () => send(stranger, 'PUT', users(other, `${member.memberId}/recover-account`), body),
      400,
      'no policy',
    );

    ok(await setPolicy(org, true, true), 'auto-enrolment on');
    await unchanged(
      () =>
        send(actors.user, 'PUT', users(org, `${actors.user.userId}/reset-password-enrollment`), {
          resetPasswordKey: null,
          masterPasswordHash: actors.user.account.masterPasswordHash,
        }),
      400,
      'withdrawal under auto-enrolment',
    );
    const newcomer = await person('newcomer');
    const invited = ok(
      await send(org.owner, 'POST', `/api/organizations/${org.id}/users/invite`, { emails: [newcomer.email], type: 2 }),
      'invite',
    ) as { data: { id: string }[] };
    const memberId = invited.data[0]?.id ?? '';
    const token = (await waitForMail(smtp, newcomer.email, /^Join /)).match(/[?&]token=([^&\s]+)/)?.[1] ?? '';
    await unchanged(
      () => send(newcomer, 'POST', users(org, `${memberId}/accept`), { token: decodeURIComponent(token) }),
      400,
      'accept without the key under auto-enrolment',
    );
    // The organization's public key (the same one every member reads); fetched here by the owner.
    const { publicKey } = ok(
      await call<{ publicKey: string }>(server.http, org.owner.token, 'GET', `/api/organizations/${org.id}/keys`),
      'keys',
    );
    ok(
      await send(newcomer, 'POST', users(org, `${memberId}/accept`), {
        token: decodeURIComponent(token),
        resetPasswordKey: encryptType4(publicKey, newcomer.account.userKey.toBytes()),
      }),
      'accept with the key',
    );
    const [row] = await server.db.rows<{ k: string | null }>(
      'SELECT reset_password_key AS k FROM organization_user WHERE id = $1',
      [memberId],
    );
    assert.ok(row?.k, 'enrolled at acceptance');
  });
});
