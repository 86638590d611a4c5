import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { enableTotp, passwordLogin, startSmtpSink, type HttpResponse, type SmtpSink } from '@keyhaven/testing';
import {
  SymmetricKey,
  decryptAttachment,
  decryptCipher,
  decryptRsa,
  encryptType4,
  prepareAttachment,
  unlockUserKey,
  unwrapSymmetricKey,
  type EncryptedCipher,
} from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import {
  MemberType,
  assertApiError,
  call,
  createOrg,
  createPersonalItem,
  ok,
  type Method,
  type Person,
} from './org-fixtures';
import {
  joinByMail,
  kdfOf,
  linkParam,
  mailsTo,
  modernPasswordBody,
  newPasswordFor,
  registerByMail,
  waitForMail,
  withPassword,
} from './recovery-fixtures';

/**
 * Emergency access end to end with the clients' real crypto: invite (also of an address with no
 * account yet), accept with the mailed token, confirm with the grantor's user key wrapped to the
 * contact's public key, recovery approved by the hourly job once the wait is over (the job runs
 * every second here) or by the grantor, the contact decrypting the grantor's vault, the takeover
 * with a new password the grantor then logs in with, and every refusal leaving nothing changed.
 */
interface GrantJson {
  id: string;
  status: number;
  type: number;
  email: string | null;
  name: string | null;
  granteeId?: string | null;
  grantorId?: string;
  waitTimeDays: number;
  creationDate: string;
  object: string;
}

const NEW_PASSWORD = 'a brand new passphrase for the grantor';
const BOUNDARY = '----keyhaven-emergency';

/** The multipart body the clients send for an attachment: one file part `data`. */
function multipartFile(data: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="data"; filename="x"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    data,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

describeOnBackends('emergency access', (backend) => {
  let server: BackedServer;
  let smtp: SmtpSink;
  let grantor: Person;
  let grantee: Person;
  let viewer: Person;
  let stranger: Person;
  let takeoverId = '';
  let viewId = '';
  const viewerEmail = `ea-viewer-${backend}@example.com`;

  const send = (who: Person, method: Method, path: string, json?: unknown): Promise<HttpResponse> =>
    call(server.http, who.token, method, path, json);
  const grantRow = async (id: string): Promise<Record<string, unknown> | undefined> =>
    (await server.db.rows<Record<string, unknown>>('SELECT * FROM emergency_access WHERE id = $1', [id]))[0];
  const fingerprint = async (): Promise<string> =>
    JSON.stringify([
      await server.db.rows('SELECT * FROM emergency_access ORDER BY id'),
      await server.db.rows(
        'SELECT id, master_password_hash, key, security_stamp, totp_secret, revision_date FROM app_user ORDER BY id',
      ),
      await server.db.rows('SELECT id, user_id, type, status FROM organization_user ORDER BY id'),
    ]);
  const refused = async (res: () => Promise<HttpResponse>, context: string): Promise<void> => {
    const before = await fingerprint();
    assertApiError(await res(), 400, context);
    assert.equal(await fingerprint(), before, `nothing changed: ${context}`);
  };
  /** What the grantor's client does: wrap its user key to the contact's public key and confirm. */
  const confirmWith = async (id: string, contact: Person): Promise<HttpResponse> => {
    const { publicKey } = ok(await send(grantor, 'GET', `/api/users/${contact.userId}/public-key`), 'public key') as {
      publicKey: string;
    };
    return send(grantor, 'POST', `/api/emergency-access/${id}/confirm`, {
      key: encryptType4(publicKey, grantor.account.userKey.toBytes()),
    });
  };

  before(async () => {
    smtp = await startSmtpSink();
    server = await startAllInOne(backend, {
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_SECURITY: 'off',
      SMTP_FROM: 'Keyhaven <vault@example.com>',
      EMERGENCY_ACCESS_JOBS_INTERVAL_SECONDS: '1',
    });
    [grantor, grantee, stranger] = (await Promise.all(
      ['grantor', 'grantee', 'stranger'].map((n) =>
        registerByMail(server.http, smtp, `ea-${n}-${backend}@example.com`),
      ),
    )) as [Person, Person, Person];
  });

  after(async () => {
    await server.stop();
    await smtp.close();
  });

  test('invite by mail, accept with the token, confirm with the wrapped user key', async () => {
    await refused(
      () => send(grantor, 'POST', '/api/emergency-access/invite', { email: grantor.email, type: 1, waitTimeDays: 1 }),
      'inviting yourself',
    );
    ok(
      await send(grantor, 'POST', '/api/emergency-access/invite', { email: grantee.email, type: 1, waitTimeDays: 2 }),
      'invite',
    );
    const mail = await waitForMail(smtp, grantee.email, /Emergency Access Contact Invite/);
    assert.match(mail, new RegExp(`${server.url}/#/accept-emergency\\?id=`));
    takeoverId = linkParam(mail, 'id');
    const token = linkParam(mail, 'token');
    const trusted = ok(await send(grantor, 'GET', '/api/emergency-access/trusted'), 'trusted') as { data: GrantJson[] };
    assert.deepEqual(
      trusted.data.map((g) => [g.id, g.status, g.type, g.email, g.name, g.waitTimeDays, g.object]),
      [[takeoverId, 0, 1, grantee.email, null, 2, 'emergencyAccessGranteeDetails']],
    );
    assert.ok(trusted.data[0]?.creationDate);

    await refused(
      () => send(stranger, 'POST', `/api/emergency-access/${takeoverId}/accept`, { token }),
      'token of another address',
    );
    await refused(() => confirmWith(takeoverId, grantee), 'confirm before accept');
    ok(await send(grantee, 'POST', `/api/emergency-access/${takeoverId}/accept`, { token }), 'accept');
    assert.match(await waitForMail(smtp, grantor.email, /Accepted Emergency Access/), new RegExp(grantee.email));
    const again = await send(grantee, 'POST', `/api/emergency-access/${takeoverId}/accept`, { token });
    assertApiError(again, 400);
    assert.match((again.body as { message: string }).message, /already accepted/);

    ok(await confirmWith(takeoverId, grantee), 'confirm');
    await waitForMail(smtp, grantee.email, /Confirmed as an Emergency Contact/);
    const granted = ok(await send(grantee, 'GET', '/api/emergency-access/granted'), 'granted') as { data: GrantJson[] };
    assert.deepEqual(
      granted.data.map((g) => [g.id, g.grantorId, g.status, g.email, g.object]),
      [[takeoverId, grantor.userId, 2, grantor.email, 'emergencyAccessGrantorDetails']],
    );
    const row = await grantRow(takeoverId);
    assert.ok(row);
    assert.equal(row['email'], null, 'the invite address is cleared once accepted');
    assert.equal(row['grantee_id'], grantee.userId);
  });

  test('a stranger and the wrong party are refused everything, and nothing changes', async () => {
    for (const [who, method, path] of [
      [stranger, 'GET', ''],
      [stranger, 'POST', '/initiate'],
      [stranger, 'POST', '/approve'],
      [stranger, 'POST', '/takeover'],
      [stranger, 'POST', '/view'],
      [stranger, 'DELETE', ''],
      [stranger, 'PUT', ''],
      [grantee, 'GET', ''],
      [grantee, 'POST', '/approve'],
      [grantor, 'POST', '/initiate'],
      [grantee, 'POST', '/takeover'],
      [grantee, 'POST', '/password'],
    ] as const) {
      await refused(
        () =>
          send(
            who,
            method,
            `/api/emergency-access/${takeoverId}${path}`,
            method === 'PUT' ? { type: 0, waitTimeDays: 1 } : {},
          ),
        `${who.email} ${method} ${path}`,
      );
    }
  });

  test('the job approves the recovery once the wait is over, and mails both', async () => {
    const grantorItem = await createPersonalItem(server.http, grantor, 'grantor secret');
    const owned = await createOrg(server.http, grantor, 'Grantor Owns');
    const other = await createOrg(server.http, stranger, 'Stranger Owns');
    await joinByMail(server.http, smtp, other, stranger.token, grantor, { type: MemberType.User });
    await enableTotp(server.http, grantor.account, grantor.token);

    ok(await send(grantee, 'POST', `/api/emergency-access/${takeoverId}/initiate`), 'initiate');
    assert.match(await waitForMail(smtp, grantor.email, /Emergency Access Initiated/), /2 day/);
    // A day before the end the grantor is reminded (once a day); after the wait the job approves.
    await server.db.rows(
      "UPDATE emergency_access SET recovery_initiated_date = now() - interval '25 hours', last_notification_date = now() - interval '25 hours' WHERE id = $1",
      [takeoverId],
    );
    await waitForMail(smtp, grantor.email, /Pending Emergency Access Request/);
    assert.equal((await grantRow(takeoverId))?.['status'], 3, 'not approved before the wait is over');
    await refused(
      () => send(grantee, 'POST', `/api/emergency-access/${takeoverId}/takeover`),
      'takeover while waiting',
    );
    await server.db.rows(
      "UPDATE emergency_access SET recovery_initiated_date = now() - interval '49 hours' WHERE id = $1",
      [takeoverId],
    );
    await waitForMail(smtp, grantee.email, /Emergency Access Approved/);
    await waitForMail(smtp, grantor.email, /Emergency Access Granted/);
    assert.equal((await grantRow(takeoverId))?.['status'], 4);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(mailsTo(smtp, grantee.email, /Emergency Access Approved/).length, 1, 'approved once');
    assert.equal(mailsTo(smtp, grantor.email, /Pending Emergency Access Request/).length, 1, 'reminded once a day');

    // A Takeover grant does not view.
    await refused(
      () => send(grantee, 'POST', `/api/emergency-access/${takeoverId}/view`),
      'view with a takeover grant',
    );

    const takeover = ok(await send(grantee, 'POST', `/api/emergency-access/${takeoverId}/takeover`), 'takeover') as {
      keyEncrypted: string;
      kdf: number;
      kdfIterations: number;
      kdfMemory: number | null;
      kdfParallelism: number | null;
      salt: string;
      object: string;
    };
    assert.equal(takeover.object, 'emergencyAccessTakeover');
    assert.equal(takeover.salt, grantor.email);
    const userKey = SymmetricKey.fromBytes(decryptRsa(grantee.account.privateKey, takeover.keyEncrypted));
    assert.ok(userKey.equals(grantor.account.userKey), 'the contact unwraps the grantor user key');
    const policies = ok(await send(grantee, 'GET', `/api/emergency-access/${takeoverId}/policies`), 'policies') as {
      data: unknown;
    };
    assert.deepEqual(policies.data, [], 'the grantor owns an organization without enabled policies');

    const next = await newPasswordFor(takeover.salt, kdfOf(takeover), userKey, NEW_PASSWORD);
    await refused(
      () =>
        send(grantee, 'POST', `/api/emergency-access/${takeoverId}/password`, {
          ...modernPasswordBody(next),
          authenticationData: {
            ...(modernPasswordBody(next)['authenticationData'] as object),
            salt: 'other@example.com',
          },
        }),
      'a different salt',
    );
    ok(
      await send(grantee, 'POST', `/api/emergency-access/${takeoverId}/password`, modernPasswordBody(next)),
      'password',
    );

    // The grantor's sessions ended; the new password logs in without two-step login and unlocks the same key.
    assert.equal((await send(grantor, 'GET', '/api/accounts/profile')).status, 401);
    const session = await passwordLogin(server.http, withPassword(grantor.account, next));
    const unlocked = await unlockUserKey(NEW_PASSWORD, grantor.email, kdfOf(takeover), String(session.body['Key']));
    assert.ok(unlocked.equals(grantor.account.userKey));
    const memberships = await server.db.rows<{ organization_id: string }>(
      'SELECT organization_id FROM organization_user WHERE user_id = $1',
      [grantor.userId],
    );
    const [flags] = await server.db.rows<{ verify_devices: boolean; totp_secret: string | null }>(
      'SELECT verify_devices, totp_secret FROM app_user WHERE id = $1',
      [grantor.userId],
    );
    assert.deepEqual(flags, { verify_devices: false, totp_secret: null }, 'two-step login and device verification off');
    assert.deepEqual(
      memberships.map((m) => m.organization_id),
      [owned.id],
      'left only the organizations not owned',
    );
    const sync = ok(
      await call<{ ciphers: EncryptedCipher[] }>(server.http, session.accessToken, 'GET', '/api/sync'),
      'sync',
    );
    assert.ok(sync.ciphers.some((c) => decryptCipher(unlocked, c).name === 'grantor secret'));
    assert.ok(grantorItem);
    grantor = { ...grantor, account: withPassword(grantor.account, next), token: session.accessToken };
  });

  test('an invited address without an account registers, accepts, and views after approval', async () => {
    ok(
      await send(grantor, 'POST', '/api/emergency-access/invite', { email: viewerEmail, type: 0, waitTimeDays: 7 }),
      'invite',
    );
    const token = linkParam(await waitForMail(smtp, viewerEmail, /Emergency Access Contact Invite/), 'token');
    viewId = linkParam(await waitForMail(smtp, viewerEmail, /Emergency Access Contact Invite/), 'id');
    ok(await send(grantor, 'POST', `/api/emergency-access/${viewId}/reinvite`), 'reinvite');
    await waitForMail(smtp, viewerEmail, /Emergency Access Contact Invite/, 2);
    viewer = await registerByMail(server.http, smtp, viewerEmail);
    ok(await send(viewer, 'POST', `/api/emergency-access/${viewId}/accept`, { token }), 'accept');
    ok(await confirmWith(viewId, viewer), 'confirm');
    ok(await send(viewer, 'POST', `/api/emergency-access/${viewId}/initiate`), 'initiate');
    ok(await send(grantor, 'POST', `/api/emergency-access/${viewId}/reject`), 'reject');
    await waitForMail(smtp, viewerEmail, /Emergency Access Rejected/);
    assert.equal((await grantRow(viewId))?.['status'], 2, 'a rejection returns the grant to confirmed');
    ok(await send(viewer, 'POST', `/api/emergency-access/${viewId}/initiate`), 'initiate again');
    ok(await send(grantor, 'POST', `/api/emergency-access/${viewId}/approve`), 'approve');
    await waitForMail(smtp, viewerEmail, /Emergency Access Approved/);

    await refused(() => send(viewer, 'POST', `/api/emergency-access/${viewId}/takeover`), 'takeover with a view grant');
    const view = ok(await send(viewer, 'POST', `/api/emergency-access/${viewId}/view`), 'view') as {
      keyEncrypted: string;
      ciphers: (EncryptedCipher & { id: string })[];
      object: string;
    };
    assert.equal(view.object, 'emergencyAccessView');
    const key = SymmetricKey.fromBytes(decryptRsa(viewer.account.privateKey, view.keyEncrypted));
    assert.deepEqual(
      view.ciphers.map((c) => decryptCipher(key, c).name),
      ['grantor secret'],
      'the grantor personal items only, readable by the contact',
    );

    // The grantor's attachment, through the emergency-access route: metadata, then the signed link, anonymously.
    const itemId = view.ciphers[0]?.id ?? '';
    const file = prepareAttachment(grantor.account.userKey, 'will.txt', Buffer.from('the grantor attachment'));
    const created = ok(await send(grantor, 'POST', `/api/ciphers/${itemId}/attachment/v2`, file.request), 'create') as {
      attachmentId: string;
    };
    const upload = await server.http.request('POST', `/api/ciphers/${itemId}/attachment/${created.attachmentId}`, {
      token: grantor.token,
      rawBody: multipartFile(file.encryptedData),
      contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    });
    assert.equal(upload.status, 200, upload.text);
    const attachmentPath = `/api/emergency-access/${viewId}/${itemId}/attachment/${created.attachmentId}`;
    const meta = ok(await send(viewer, 'GET', attachmentPath), 'emergency attachment') as { url: string; key: string };
    const link = new URL(meta.url);
    const got = await server.http.request('GET', `${link.pathname}${link.search}`);
    assert.equal(got.status, 200);
    const fileKey = unwrapSymmetricKey(key, meta.key);
    assert.equal(decryptAttachment(fileKey, got.bytes).toString(), 'the grantor attachment');
    // Not the contact's to read: another person, a grant that is not theirs, an unknown attachment.
    assert.equal((await send(stranger, 'GET', attachmentPath)).status, 400);
    assert.equal((await send(grantee, 'GET', attachmentPath)).status, 400);
    const unknown = `/api/emergency-access/${viewId}/${itemId}/attachment/${'0'.repeat(32)}`;
    assert.equal((await send(viewer, 'GET', unknown)).status, 404);
  });

  test('either party deletes a grant; a deleted grant is gone', async () => {
    ok(await send(viewer, 'DELETE', `/api/emergency-access/${viewId}`), 'grantee deletes');
    assert.equal(await grantRow(viewId), undefined);
    await refused(() => send(viewer, 'POST', `/api/emergency-access/${viewId}/view`), 'view after delete');
    ok(await send(grantor, 'POST', `/api/emergency-access/${takeoverId}/delete`), 'grantor deletes (legacy route)');
    assert.equal(await grantRow(takeoverId), undefined);
  });
  test('invitation mails are limited per grantor (20 an hour): the next is 429 and stores nothing', async () => {
    for (let i = 0; i < 20; i++) {
      ok(
        await send(stranger, 'POST', '/api/emergency-access/invite', {
          email: `ea-many-${i}-${backend}@example.com`,
          type: 0,
          waitTimeDays: 1,
        }),
        `invite ${i}`,
      );
    }
    const before = await fingerprint();
    const res = await send(stranger, 'POST', '/api/emergency-access/invite', {
      email: `ea-many-20-${backend}@example.com`,
      type: 0,
      waitTimeDays: 1,
    });
    assert.equal(res.status, 429, res.text);
    assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After');
    assert.equal(await fingerprint(), before);
  });
});
