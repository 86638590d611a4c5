import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { HttpResponse } from '@keyhaven/testing';
import { createSendKey, encryptType2, hashSendPassword, type SendKeyMaterial } from '@keyhaven/vault-crypto';
import {
  MemberType,
  assertApiError,
  call,
  createOrg,
  join,
  newPeople,
  ok,
  type Db,
  type Method,
  type Person,
} from './org-fixtures';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';

/**
 * Sends over HTTP on both databases: the owner's routes, the `send_access` grant and the recipient's
 * routes, and every refusal (expired, exhausted, disabled, wrong password, policies, someone else's
 * Send) — with the right status and nothing stored.
 */

interface SendJson {
  id: string;
  accessId: string;
  type: number;
  authType: number;
  password: string | null;
  accessCount: number;
  maxAccessCount: number | null;
  hideEmail: boolean;
  disabled: boolean;
  file: { id: string; size: string; fileName: string } | null;
  object: string;
}

const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();

function textSend(
  person: Person,
  extra: Record<string, unknown> = {},
): { k: SendKeyMaterial; body: Record<string, unknown> } {
  const k = createSendKey(person.account.userKey);
  return {
    k,
    body: {
      type: 0,
      name: encryptType2(k.sendKey, 'a note'),
      notes: null,
      key: k.key,
      maxAccessCount: null,
      expirationDate: null,
      deletionDate: inDays(7),
      text: { text: encryptType2(k.sendKey, 'the secret text'), hidden: false, response: null },
      file: null,
      password: null,
      emails: null,
      disabled: false,
      hideEmail: false,
      authType: 2,
      ...extra,
    },
  };
}

/** A multipart body as the CLI's form-data builds it: one part `data`, its file name cut at the last "/". */
function multipart(bytes: Buffer): { rawBody: Buffer; contentType: string } {
  const boundary = `----keyhaven${randomBytes(8).toString('hex')}`;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    rawBody: Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="part|of+an/encstring"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  };
}

describeOnBackends('Sends', (backend) => {
  let server: BackedServer;
  let db: Db;
  let alice: Person;
  let bob: Person;

  const send = <T = unknown>(who: Person | undefined, method: Method, path: string, json?: unknown) =>
    call<T>(server.http, who?.token, method, path, json);
  const grant = (
    accessId: string,
    extra: Record<string, string> = {},
  ): Promise<HttpResponse<Record<string, unknown>>> =>
    server.http.post('/identity/connect/token', {
      form: { grant_type: 'send_access', client_id: 'send', scope: 'api.send.access', send_id: accessId, ...extra },
    });
  const accessWith = (token: string) => server.http.post<Record<string, unknown>>('/api/sends/access', { token });
  const sendCount = async (userId: string): Promise<number> =>
    Number((await db.rows<{ n: string }>('SELECT count(*) AS n FROM send WHERE user_id = $1', [userId]))[0]?.n);
  const create = async (who: Person, extra: Record<string, unknown> = {}): Promise<SendJson> =>
    ok(await send<SendJson>(who, 'POST', '/api/sends', textSend(who, extra).body), 'create send');
  const tokenOf = async (accessId: string, extra: Record<string, string> = {}): Promise<string> =>
    String(ok(await grant(accessId, extra), 'send token')['access_token']);
  const assertGrantError = (res: HttpResponse, error: string, type: string): void => {
    assert.equal(res.status, 400, res.text);
    const body = res.body as Record<string, unknown>;
    assert.equal(body['error'], error, res.text);
    assert.equal(body['send_access_error_type'], type, res.text);
  };

  before(async () => {
    server = await startAllInOne(backend, { LOGIN_FAILURES_PER_ACCOUNT: '3' });
    db = server.db;
    [alice, bob] = (await newPeople(server.http, [`alice-${backend}@sends.test`, `bob-${backend}@sends.test`])) as [
      Person,
      Person,
    ];
  });

  after(async () => {
    await server.stop();
  });

  test('a text Send: create, get, list, sync, in the shape the clients read', async () => {
    const created = await create(alice);
    assert.equal(created.object, 'send');
    assert.match(created.accessId, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(created.password, null);
    assert.equal(created.accessCount, 0);
    assert.equal(ok(await send<SendJson>(alice, 'GET', `/api/sends/${created.id}`), 'get').id, created.id);
    const list = ok(await send<{ data: SendJson[]; object: string }>(alice, 'GET', '/api/sends'), 'list');
    assert.equal(list.object, 'list');
    assert.ok(list.data.some((s) => s.id === created.id));
    const sync = ok(await send<{ sends: SendJson[] }>(alice, 'GET', '/api/sync'), 'sync');
    assert.ok(sync.sends.some((s) => s.id === created.id && s.accessId === created.accessId));
  });

  test('anonymous access: the token has all four fields, the content counts one access, the creator shows', async () => {
    const created = await create(alice);
    const token = ok(await grant(created.accessId), 'token');
    assert.deepEqual(Object.keys(token).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(token['token_type'], 'Bearer');
    assert.equal(token['scope'], 'api.send.access');
    assert.ok(Number.isInteger(token['expires_in']) && (token['expires_in'] as number) > 0);
    // Issuing a token counts nothing.
    assert.equal(ok(await send<SendJson>(alice, 'GET', `/api/sends/${created.id}`), 'get').accessCount, 0);
    const content = ok(await accessWith(String(token['access_token'])), 'access');
    assert.equal(content['object'], 'send-access');
    assert.equal(content['creatorIdentifier'], alice.email);
    assert.equal((content['text'] as { text: string }).text.startsWith('2.'), true);
    assert.equal(ok(await send<SendJson>(alice, 'GET', `/api/sends/${created.id}`), 'get').accessCount, 1);
    // The relay moves events from the outbox to the log at any time; one statement sees each in one place.
    const [events] = await db.rows<{ types: number[] | null }>(
      `SELECT array(SELECT (payload ->> 'type')::int FROM event_outbox WHERE payload ->> 'sendId' = $1
                    UNION ALL SELECT type FROM event WHERE send_id = $1::uuid ORDER BY 1) AS types`,
      [created.id],
    );
    assert.deepEqual(events?.types, [2500, 2510], 'created and accessed events');

    const hidden = await create(alice, { hideEmail: true });
    const hiddenContent = ok(await accessWith(await tokenOf(hidden.accessId)), 'access hidden');
    assert.equal(hiddenContent['creatorIdentifier'], null);
    // A user token is not a Send token.
    assert.equal((await accessWith(alice.token)).status, 401);
  });

  test('password: required, wrong, right; guesses are limited per Send; the hash never comes back', async () => {
    const { k, body } = textSend(alice, { authType: 1 });
    const clientHash = hashSendPassword('open sesame', k.seed);
    const created = ok(await send<SendJson>(alice, 'POST', '/api/sends', { ...body, password: clientHash }), 'create');
    assert.equal(created.authType, 1);
    assert.ok(created.password && created.password !== clientHash);
    assert.doesNotMatch(
      JSON.stringify(ok(await send(alice, 'GET', '/api/sync'), 'sync')),
      new RegExp(clientHash.replace(/[+/=]/g, '.')),
    );
    assertGrantError(await grant(created.accessId), 'invalid_request', 'password_hash_b64_required');
    const wrong = hashSendPassword('not it', k.seed);
    assertGrantError(
      await grant(created.accessId, { password_hash_b64: wrong }),
      'invalid_grant',
      'password_hash_b64_invalid',
    );
    ok(await accessWith(await tokenOf(created.accessId, { password_hash_b64: clientHash })), 'right password');
    // LOGIN_FAILURES_PER_ACCOUNT=3 per Send and address: the right hash too is refused once past it.
    for (let i = 0; i < 3; i++) await grant(created.accessId, { password_hash_b64: wrong });
    const limited = await grant(created.accessId, { password_hash_b64: clientHash });
    assert.equal(limited.status, 429, limited.text);
    assert.ok(limited.headers['retry-after']);
  });

  test('edit keeps or replaces the password as authType says; remove-password clears it', async () => {
    const { k, body } = textSend(alice, { authType: 1 });
    const created = ok(
      await send<SendJson>(alice, 'POST', '/api/sends', { ...body, password: hashSendPassword('one', k.seed) }),
      'create',
    );
    // The clients echo what they read: that keeps the password.
    const kept = ok(
      await send<SendJson>(alice, 'PUT', `/api/sends/${created.id}`, { ...body, password: created.password }),
      'edit',
    );
    assert.equal(kept.password, created.password);
    const changed = ok(
      await send<SendJson>(alice, 'PUT', `/api/sends/${created.id}`, {
        ...body,
        password: hashSendPassword('two', k.seed),
      }),
      'edit',
    );
    assert.notEqual(changed.password, created.password);
    ok(await grant(created.accessId, { password_hash_b64: hashSendPassword('two', k.seed) }), 'new password works');
    const cleared = ok(await send<SendJson>(alice, 'PUT', `/api/sends/${created.id}/remove-password`), 'remove');
    assert.equal(cleared.password, null);
    assert.equal(cleared.authType, 2);
    ok(await grant(created.accessId), 'open without a password');
    assertApiError(await send(alice, 'PUT', `/api/sends/${created.id}`, { ...body, type: 1 }), 400, 'type change');
  });

  test('exhausted, expired, disabled and deleted Sends are refused at the token and at the content', async () => {
    const once = await create(alice, { maxAccessCount: 1 });
    const token = await tokenOf(once.accessId);
    const token2 = await tokenOf(once.accessId);
    ok(await accessWith(token), 'first access');
    assertGrantError(await grant(once.accessId), 'invalid_grant', 'send_id_invalid');
    assert.equal((await accessWith(token2)).status, 404, 'a token minted earlier gets nothing more');
    assert.equal(ok(await send<SendJson>(alice, 'GET', `/api/sends/${once.id}`), 'get').accessCount, 1);

    const expiring = await create(alice);
    const early = await tokenOf(expiring.accessId);
    await db.rows("UPDATE send SET expiration_date = now() - interval '1 second' WHERE id = $1", [expiring.id]);
    assertGrantError(await grant(expiring.accessId), 'invalid_grant', 'send_id_invalid');
    assert.equal((await accessWith(early)).status, 404);

    const { body } = textSend(alice);
    const disabled = await create(alice);
    ok(await send(alice, 'PUT', `/api/sends/${disabled.id}`, { ...body, disabled: true }), 'disable');
    assertGrantError(await grant(disabled.accessId), 'invalid_grant', 'send_id_invalid');

    const deleted = await create(alice);
    ok(await send(alice, 'DELETE', `/api/sends/${deleted.id}`), 'delete');
    assertGrantError(await grant(deleted.accessId), 'invalid_grant', 'send_id_invalid');
    assertGrantError(await grant('not-an-access-id'), 'invalid_grant', 'send_id_invalid');
    assertGrantError(await grant(''), 'invalid_request', 'send_id_required');
  });

  test("invalid requests and someone else's Send: refused, nothing stored or changed", async () => {
    const before = await sendCount(alice.userId);
    const { body } = textSend(alice);
    assertApiError(await send(alice, 'POST', '/api/sends', { ...body, deletionDate: inDays(40) }), 400, 'far deletion');
    assertApiError(await send(alice, 'POST', '/api/sends', { ...body, expirationDate: inDays(-1) }), 400, 'expired');
    assertApiError(await send(alice, 'POST', '/api/sends', { ...body, type: 2 }), 400, 'item type');
    assertApiError(await send(alice, 'POST', '/api/sends', { ...body, key: 'plain' }), 400, 'key');
    assertApiError(await send(alice, 'POST', '/api/sends', { ...body, authType: 0, emails: 'a@b.c' }), 400, 'email');
    assertApiError(await send(alice, 'POST', '/api/sends', { ...body, authType: 1 }), 400, 'no password');
    assert.equal(await sendCount(alice.userId), before);

    const mine = await create(alice);
    const fingerprint = JSON.stringify(await db.rows('SELECT * FROM send WHERE id = $1', [mine.id]));
    assertApiError(await send(bob, 'GET', `/api/sends/${mine.id}`), 404, 'get');
    assertApiError(await send(bob, 'PUT', `/api/sends/${mine.id}`, textSend(bob).body), 404, 'put');
    assertApiError(await send(bob, 'PUT', `/api/sends/${mine.id}/remove-password`), 404, 'remove-password');
    assertApiError(await send(bob, 'DELETE', `/api/sends/${mine.id}`), 404, 'delete');
    assert.equal(JSON.stringify(await db.rows('SELECT * FROM send WHERE id = $1', [mine.id])), fingerprint);
    assert.ok(
      !ok(await send<{ data: SendJson[] }>(bob, 'GET', '/api/sends'), 'list').data.some((s) => s.id === mine.id),
    );
    assert.equal((await send(undefined, 'GET', '/api/sends')).status, 401);
  });

  test('a file Send: upload streamed once, counted at the download link, bytes identical', async () => {
    const bytes = Buffer.from(randomBytes(3000).toString('hex'));
    const { k, body } = textSend(alice);
    const fileBody = {
      ...body,
      type: 1,
      text: null,
      file: { fileName: encryptType2(k.sendKey, 'a.txt'), response: null },
    };
    const created = ok(
      await send<{ url: string; fileUploadType: number; sendResponse: SendJson; object: string }>(
        alice,
        'POST',
        '/api/sends/file/v2',
        { ...fileBody, fileLength: bytes.length },
      ),
      'file v2',
    );
    assert.equal(created.object, 'send-fileUpload');
    assert.equal(created.fileUploadType, 0);
    const made = created.sendResponse;
    assert.equal(made.file?.size, String(bytes.length));
    const fileId = made.file.id;
    const path = `/api/sends/${made.id}/file/${fileId}`;
    // Not accessible before its bytes arrived.
    assertGrantError(await grant(made.accessId), 'invalid_grant', 'send_id_invalid');
    ok(await send(alice, 'GET', path), 'renew');
    assert.equal((await server.http.post(path, { token: bob.token, ...multipart(bytes) })).status, 404, "not bob's");
    assert.equal((await server.http.post(path, { token: alice.token, ...multipart(bytes) })).status, 200);
    assertApiError(await server.http.post(path, { token: alice.token, ...multipart(bytes) }), 400, 'second upload');
    assertApiError(await send(alice, 'GET', path), 404, 'renew after upload');

    const token = await tokenOf(made.accessId);
    const content = ok(await accessWith(token), 'access');
    assert.equal((content['file'] as { id: string }).id, fileId);
    assert.equal(ok(await send<SendJson>(alice, 'GET', `/api/sends/${made.id}`), 'get').accessCount, 0);
    const link = ok(
      await server.http.post<{ url: string; object: string }>(`/api/sends/access/file/${fileId}`, { token }),
      'file link',
    );
    assert.equal(link.object, 'send-fileDownload');
    assert.equal(ok(await send<SendJson>(alice, 'GET', `/api/sends/${made.id}`), 'get').accessCount, 1);
    const download = await server.http.get(link.url, { parse: false });
    assert.equal(download.status, 200);
    assert.equal(download.text, bytes.toString());
    const forged = new URL(link.url);
    forged.searchParams.set('t', `${forged.searchParams.get('t') ?? ''}x`);
    assert.equal((await server.http.get(forged.toString())).status, 404);

    // A file of another length than declared: 400, and the Send with it is gone.
    const wrong = ok(
      await send<{ sendResponse: SendJson }>(alice, 'POST', '/api/sends/file/v2', { ...fileBody, fileLength: 10 }),
      'file v2',
    ).sendResponse;
    const upload = await server.http.post(`/api/sends/${wrong.id}/file/${wrong.file?.id ?? ''}`, {
      token: alice.token,
      ...multipart(bytes),
    });
    assertApiError(upload, 400, 'length mismatch');
    assert.equal((await db.rows('SELECT 1 FROM send WHERE id = $1', [wrong.id])).length, 0);
    assertApiError(await send(alice, 'POST', '/api/sends/file/v2', fileBody), 400, 'no file length');
    assertApiError(
      await send(alice, 'POST', '/api/sends/file/v2', { ...fileBody, fileLength: 600 * 1024 * 1024 }),
      400,
      'too large',
    );
  });

  test('Disable Send and Send Options policies: members refused, owners exempt, deleting allowed', async () => {
    const [owner, member, accepted, invited, admin] = (await newPeople(server.http, [
      `owner-${backend}@sends.test`,
      `member-${backend}@sends.test`,
      `accepted-${backend}@sends.test`,
      `invited-${backend}@sends.test`,
      `admin-${backend}@sends.test`,
    ])) as [Person, Person, Person, Person, Person];
    const org = await createOrg(server.http, owner, 'Send policies');
    await join(server.http, org, owner.token, member, { type: MemberType.User });
    await join(server.http, org, owner.token, accepted, { type: MemberType.User }, 'accepted');
    await join(server.http, org, owner.token, invited, { type: MemberType.User }, 'invited');
    await join(server.http, org, owner.token, admin, { type: MemberType.Admin });
    const existing = await create(member);
    ok(
      await send(owner, 'PUT', `/api/organizations/${org.id}/policies/7`, {
        enabled: true,
        data: { disableHideEmail: true },
      }),
      'policy 7',
    );
    const before = await sendCount(member.userId);
    assertApiError(
      await send(member, 'POST', '/api/sends', textSend(member, { hideEmail: true }).body),
      400,
      'hide email',
    );
    ok(await send(member, 'POST', '/api/sends', textSend(member).body), 'without hiding');
    ok(await send(owner, 'POST', '/api/sends', textSend(owner, { hideEmail: true }).body), 'owner exempt');
    ok(await send(owner, 'PUT', `/api/organizations/${org.id}/policies/6`, { enabled: true, data: null }), 'policy 6');
    const refused = await send(member, 'POST', '/api/sends', textSend(member).body);
    assertApiError(refused, 400, 'disable send');
    assert.match((refused.body as { message: string }).message, /only able to delete/);
    assertApiError(await send(member, 'PUT', `/api/sends/${existing.id}`, textSend(member).body), 400, 'edit');
    assert.equal(await sendCount(member.userId), before + 1);
    ok(await send(member, 'DELETE', `/api/sends/${existing.id}`), 'delete stays allowed');
    ok(await send(owner, 'POST', '/api/sends', textSend(owner).body), 'owner exempt from 6');
    ok(await send(admin, 'POST', '/api/sends', textSend(admin).body), 'admin exempt');
    ok(await send(invited, 'POST', '/api/sends', textSend(invited).body), 'invited exempt');
    assertApiError(await send(accepted, 'POST', '/api/sends', textSend(accepted).body), 400, 'accepted applies');
  });
});
