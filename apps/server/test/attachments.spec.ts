import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HttpClient } from '@keyhaven/testing';
import { decryptAttachment, encryptType2, prepareAttachment, unwrapSymmetricKey } from '@keyhaven/vault-crypto';
import { describeOnBackends, startAllInOne, type Backend, type BackedServer } from './backends';
import {
  assertApiError,
  call,
  createOrg,
  createOrgItem,
  createPersonalItem,
  newPeople,
  ok,
  type Person,
} from './org-fixtures';

const BOUNDARY = '----keyhaven-attachments';
/** Small limits, so the quota and size refusals need no large files. */
const MAX_FILE_BYTES = 600 * 1024 * 1024;
const ENV = { ATTACHMENTS_MAX_FILE_BYTES: String(MAX_FILE_BYTES), ATTACHMENTS_USER_MAX_STORAGE_GB: '1' };

interface UploadData {
  attachmentId: string;
  url: string;
  fileUploadType: number;
  object: string;
  cipherResponse: { id: string; revisionDate: string; attachments: AttachmentJson[] | null } | null;
  cipherMiniResponse: { id: string } | null;
}
interface AttachmentJson {
  id: string;
  url: string;
  fileName: string;
  key: string | null;
  size: string;
  sizeName: string;
  object: string;
}
interface CipherJson {
  id: string;
  revisionDate: string;
  attachments: AttachmentJson[] | null;
}

/** The multipart body the CLI sends: one file part `data`, its file name cut at the last "/". */
function multipart(data: Buffer, name = 'data'): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="abc|def"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    data,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

function upload(http: HttpClient, token: string, cipherId: string, attachmentId: string, data: Buffer) {
  return http.request('POST', `/api/ciphers/${cipherId}/attachment/${attachmentId}`, {
    token,
    rawBody: multipart(data),
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
  });
}

interface Downloaded {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly bytes: Buffer;
}

/** GETs an absolute download link anonymously (no Authorization header), as the clients do, keeping the bytes. */
function download(caPath: string | undefined, url: string): Promise<Downloaded> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    httpsGet(
      {
        hostname: '127.0.0.1',
        port: target.port,
        path: `${target.pathname}${target.search}`,
        servername: 'localhost',
        ...(caPath ? { ca: readFileSync(caPath) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    ).on('error', reject);
  });
}

describeOnBackends('attachments over the API', (backend: Backend) => {
  let server: BackedServer;
  let alice: Person;
  let bob: Person;

  const blobPath = (cipherId: string, id: string) => join(server.dataDir, 'blobs', 'attachments', cipherId, id);
  const rowsOf = (cipherId: string) =>
    server.db.rows<{ id: string; size: string; validated: boolean }>(
      'SELECT id, size::text AS size, validated FROM attachment WHERE cipher_id = $1 ORDER BY creation_date',
      [cipherId],
    );
  /** Blob removal runs right after the commit, off the request: give it a moment. */
  async function eventuallyGone(path: string): Promise<void> {
    for (let i = 0; i < 50 && existsSync(path); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(existsSync(path), false, `${path} was removed`);
  }

  async function createV2(person: Person, cipherId: string, body: Record<string, unknown>) {
    return call<UploadData>(server.http, person.token, 'POST', `/api/ciphers/${cipherId}/attachment/v2`, body);
  }

  before(async () => {
    server = await startAllInOne(backend, ENV);
    [alice, bob] = (await newPeople(server.http, [`att-a-${backend}@example.com`, `att-b-${backend}@example.com`])) as [
      Person,
      Person,
    ];
  });

  after(async () => {
    await server.stop();
  });

  test('v2 create, upload, sync, get and an anonymous download give back the same bytes', async () => {
    const cipherId = await createPersonalItem(server.http, alice, 'with file');
    const before = ok(await call<CipherJson>(server.http, alice.token, 'GET', `/api/ciphers/${cipherId}`), 'get');
    const file = prepareAttachment(alice.account.userKey, 'notes/2026.txt', Buffer.from('hello attachments'));

    const created = ok(
      await createV2(alice, cipherId, {
        ...file.request,
        adminRequest: false,
        lastKnownRevisionDate: before.revisionDate,
      }),
      'create v2',
    );
    assert.equal(created.object, 'attachment-fileUpload');
    assert.equal(created.fileUploadType, 0, 'Direct, as an integer');
    assert.match(created.attachmentId, /^[a-z0-9]{32}$/);
    assert.equal(created.cipherMiniResponse, null);
    const cached = created.cipherResponse;
    assert.ok(cached, 'the updated item comes back');
    assert.ok(Date.parse(cached.revisionDate) > Date.parse(before.revisionDate), 'revision date moved');
    assert.deepEqual(
      cached.attachments?.map((a) => [a.id, a.fileName, a.key, a.size, a.object]),
      [
        [
          created.attachmentId,
          file.request.fileName,
          file.request.key,
          String(file.encryptedData.length),
          'attachment',
        ],
      ],
    );

    const uploaded = await upload(server.http, alice.token, cipherId, created.attachmentId, file.encryptedData);
    assert.equal(uploaded.status, 200, uploaded.text);
    assert.deepEqual(await rowsOf(cipherId), [
      { id: created.attachmentId, size: String(file.encryptedData.length), validated: true },
    ]);

    const sync = ok(await call<{ ciphers: CipherJson[] }>(server.http, alice.token, 'GET', '/api/sync'), 'sync');
    const synced = sync.ciphers.find((c) => c.id === cipherId)?.attachments?.[0];
    assert.ok(synced, 'sync lists the attachment');
    assert.equal(synced.sizeName, `${file.encryptedData.length} Bytes`);
    assert.ok(synced.url.startsWith(`${server.url}/api/attachments/${cipherId}/`), synced.url);

    const meta = ok(
      await call<AttachmentJson>(
        server.http,
        alice.token,
        'GET',
        `/api/ciphers/${cipherId}/attachment/${created.attachmentId}`,
      ),
      'get attachment',
    );
    for (const url of [meta.url, synced.url]) {
      const got = await download(server.caPath, url);
      assert.equal(got.status, 200);
      assert.equal(got.headers['content-type'], 'application/octet-stream');
      assert.equal(got.headers['content-length'], String(file.encryptedData.length));
      assert.deepEqual(got.bytes, file.encryptedData);
      const fileKey = unwrapSymmetricKey(alice.account.userKey, meta.key ?? '');
      assert.equal(decryptAttachment(fileKey, got.bytes).toString(), 'hello attachments');
    }

    // The client echoes the create answer's revision date on its next edit: it must still be current.
    const edit = await call(server.http, alice.token, 'PUT', `/api/ciphers/${cipherId}/partial`, { favorite: true });
    assert.equal(edit.status, 200, edit.text);

    const tampered = new URL(meta.url);
    tampered.searchParams.set('token', `${tampered.searchParams.get('token') ?? ''}x`);
    assert.equal((await download(server.caPath, tampered.toString())).status, 404, 'a tampered link');
    const otherFile = new URL(meta.url.replace(created.attachmentId, 'f'.repeat(32)));
    assert.equal((await download(server.caPath, otherFile.toString())).status, 404, 'a link for another file');
  });

  test('delete answers 200 with the item and its new revision date; the file and its links are gone', async () => {
    const cipherId = await createPersonalItem(server.http, alice, 'delete me');
    const file = prepareAttachment(alice.account.userKey, 'x.bin', Buffer.alloc(4000, 7));
    const created = ok(await createV2(alice, cipherId, file.request), 'create');
    ok(await upload(server.http, alice.token, cipherId, created.attachmentId, file.encryptedData), 'upload');
    const meta = ok(
      await call<AttachmentJson>(
        server.http,
        alice.token,
        'GET',
        `/api/ciphers/${cipherId}/attachment/${created.attachmentId}`,
      ),
      'get',
    );
    assert.ok(existsSync(blobPath(cipherId, created.attachmentId)), 'the file is on disk');

    const deleted = ok(
      await call<{ cipher: CipherJson; object: string }>(
        server.http,
        alice.token,
        'DELETE',
        `/api/ciphers/${cipherId}/attachment/${created.attachmentId}`,
      ),
      'delete',
    );
    assert.equal(deleted.object, 'deleteAttachment');
    assert.equal(deleted.cipher.id, cipherId);
    assert.ok(Date.parse(deleted.cipher.revisionDate) > Date.parse(created.cipherResponse?.revisionDate ?? ''));
    assert.equal(deleted.cipher.attachments, null);
    assert.deepEqual(await rowsOf(cipherId), []);
    await eventuallyGone(blobPath(cipherId, created.attachmentId));
    assert.equal((await download(server.caPath, meta.url)).status, 404, 'a link minted before the delete');
    const again = await call(
      server.http,
      alice.token,
      'POST',
      `/api/ciphers/${cipherId}/attachment/${created.attachmentId}/delete`,
    );
    assertApiError(again, 404);
  });

  test('a second upload to the same attachment is refused and the first file stays', async () => {
    const cipherId = await createPersonalItem(server.http, alice, 'twice');
    const file = prepareAttachment(alice.account.userKey, 'a.txt', Buffer.from('first'));
    const created = ok(await createV2(alice, cipherId, file.request), 'create');
    ok(await upload(server.http, alice.token, cipherId, created.attachmentId, file.encryptedData), 'upload');
    const other = Buffer.from(file.encryptedData).fill(1, 49);
    assertApiError(await upload(server.http, alice.token, cipherId, created.attachmentId, other), 400);
    const meta = ok(
      await call<AttachmentJson>(
        server.http,
        alice.token,
        'GET',
        `/api/ciphers/${cipherId}/attachment/${created.attachmentId}`,
      ),
      'get',
    );
    assert.deepEqual((await download(server.caPath, meta.url)).bytes, file.encryptedData);
  });

  test('a file longer or shorter than declared is refused; the attachment and its file are gone', async () => {
    const cipherId = await createPersonalItem(server.http, alice, 'wrong length');
    for (const delta of [1, -1]) {
      const file = prepareAttachment(alice.account.userKey, 'b.txt', Buffer.alloc(3000, 2));
      const created = ok(await createV2(alice, cipherId, file.request), 'create');
      const sent = Buffer.alloc(file.encryptedData.length + delta, 3);
      const res = await upload(server.http, alice.token, cipherId, created.attachmentId, sent);
      assertApiError(res, 400, `delta ${delta}`);
      assert.match((res.body as { message: string }).message, /does not match expected file length/);
      assert.deepEqual(await rowsOf(cipherId), [], 'nothing stored');
      await eventuallyGone(blobPath(cipherId, created.attachmentId));
    }
  });

  test('size limit, storage quota, empty files and stale revision dates are refused before anything is stored', async () => {
    const cipherId = await createPersonalItem(server.http, alice, 'limits');
    const name = encryptType2(alice.account.userKey, 'big.iso');
    const key = prepareAttachment(alice.account.userKey, 'k', Buffer.from('k')).request.key;
    const tooBig = await createV2(alice, cipherId, { key, fileName: name, fileSize: MAX_FILE_BYTES + 1 });
    assertApiError(tooBig, 400);
    assert.match((tooBig.body as unknown as { message: string }).message, /Max file size is 600 MB/);
    assertApiError(await createV2(alice, cipherId, { key, fileName: name, fileSize: 0 }), 400);
    const stale = await createV2(alice, cipherId, {
      key,
      fileName: name,
      fileSize: 10,
      lastKnownRevisionDate: '2020-01-01T00:00:00.000Z',
    });
    assertApiError(stale, 400);
    assert.match((stale.body as unknown as { message: string }).message, /out of date/);
    assert.deepEqual(await rowsOf(cipherId), []);

    // 1 GiB per user: an announced (not yet uploaded) file takes its room at once.
    const half = 550 * 1024 * 1024;
    const first = ok(await createV2(alice, cipherId, { key, fileName: name, fileSize: half }), 'first half');
    const over = await createV2(alice, cipherId, { key, fileName: name, fileSize: half });
    assertApiError(over, 400);
    assert.match((over.body as unknown as { message: string }).message, /Not enough storage/);
    assert.equal((await rowsOf(cipherId)).length, 1);
    ok(
      await call(server.http, alice.token, 'DELETE', `/api/ciphers/${cipherId}/attachment/${first.attachmentId}`),
      'free',
    );
    ok(await createV2(alice, cipherId, { key, fileName: name, fileSize: half }), 'fits again');
    // Another user's storage is their own.
    const bobItem = await createPersonalItem(server.http, bob, 'bob big');
    ok(await createV2(bob, bobItem, { key, fileName: name, fileSize: half }), 'bob has his own quota');
  });

  test("someone else's item answers 404 to every attachment route, and nothing changes", async () => {
    const cipherId = await createPersonalItem(server.http, alice, 'private');
    const file = prepareAttachment(alice.account.userKey, 'secret.txt', Buffer.from('secret'));
    const created = ok(await createV2(alice, cipherId, file.request), 'create');
    const base = `/api/ciphers/${cipherId}/attachment`;
    const before = await rowsOf(cipherId);
    assertApiError(await createV2(bob, cipherId, file.request), 404, 'create');
    assertApiError(
      await upload(server.http, bob.token, cipherId, created.attachmentId, file.encryptedData),
      404,
      'upload',
    );
    for (const [method, path] of [
      ['GET', `${base}/${created.attachmentId}`],
      ['GET', `${base}/${created.attachmentId}/admin`],
      ['GET', `${base}/${created.attachmentId}/renew`],
      ['DELETE', `${base}/${created.attachmentId}`],
      ['DELETE', `${base}/${created.attachmentId}/admin`],
      ['POST', `${base}/${created.attachmentId}/delete`],
    ] as const) {
      assertApiError(await call(server.http, bob.token, method, path), 404, `${method} ${path}`);
    }
    assert.deepEqual(await rowsOf(cipherId), before);
    assert.equal(existsSync(blobPath(cipherId, created.attachmentId)), false, 'no file was written');
    // The owner's upload still works: the refused one did not take it.
    ok(await upload(server.http, alice.token, cipherId, created.attachmentId, file.encryptedData), 'owner upload');
  });

  test('renew answers the upload target while the file is pending, 404 after', async () => {
    const cipherId = await createPersonalItem(server.http, alice, 'renew');
    const file = prepareAttachment(alice.account.userKey, 'r.txt', Buffer.from('r'));
    const created = ok(await createV2(alice, cipherId, file.request), 'create');
    const renew = `/api/ciphers/${cipherId}/attachment/${created.attachmentId}/renew`;
    const renewed = ok(
      await call<{ fileUploadType: number; object: string }>(server.http, alice.token, 'GET', renew),
      'renew',
    );
    assert.deepEqual([renewed.fileUploadType, renewed.object], [0, 'attachment-fileUpload']);
    ok(await upload(server.http, alice.token, cipherId, created.attachmentId, file.encryptedData), 'upload');
    assertApiError(await call(server.http, alice.token, 'GET', renew), 404);
  });

  test('organization items: members with access upload and read, the admin routes work, others get 404', async () => {
    const org = await createOrg(server.http, alice, `Files ${backend}`);
    const cipherId = await createOrgItem(server.http, org, alice.token, 'org file', [org.defaultCollection]);
    const file = prepareAttachment(org.orgKey, 'org.txt', Buffer.from('org bytes'));
    const created = ok(await createV2(alice, cipherId, { ...file.request, adminRequest: true }), 'admin create');
    assert.equal(created.cipherResponse, null);
    assert.equal(created.cipherMiniResponse?.id, cipherId);
    ok(await upload(server.http, alice.token, cipherId, created.attachmentId, file.encryptedData), 'upload');
    const meta = ok(
      await call<AttachmentJson>(
        server.http,
        alice.token,
        'GET',
        `/api/ciphers/${cipherId}/attachment/${created.attachmentId}/admin`,
      ),
      'admin get',
    );
    assert.deepEqual((await download(server.caPath, meta.url)).bytes, file.encryptedData);
    const profile = ok(
      await call<{ profile: { organizations: { id: string; maxStorageGb: number }[] } }>(
        server.http,
        alice.token,
        'GET',
        '/api/sync',
      ),
      'sync',
    );
    assert.ok((profile.profile.organizations.find((o) => o.id === org.id)?.maxStorageGb ?? 0) > 0, 'org maxStorageGb');
    const orgDetails = ok(
      await call<{ maxStorageGb: number | null }>(server.http, alice.token, 'GET', `/api/organizations/${org.id}`),
      'organization',
    );
    assert.ok((orgDetails.maxStorageGb ?? 0) > 0, 'the organization answers its storage too');
    assertApiError(
      await call(server.http, bob.token, 'GET', `/api/ciphers/${cipherId}/attachment/${created.attachmentId}/admin`),
      404,
    );
    const removed = ok(
      await call<{ object: string }>(
        server.http,
        alice.token,
        'DELETE',
        `/api/ciphers/${cipherId}/attachment/${created.attachmentId}/admin`,
      ),
      'admin delete',
    );
    assert.equal(removed.object, 'deleteAttachment');
  });

  test('moving an item into an organization keeps its files under their re-wrapped keys', async () => {
    const org = await createOrg(server.http, bob, `Move ${backend}`);
    const cipherId = await createPersonalItem(server.http, bob, 'to move');
    const file = prepareAttachment(bob.account.userKey, 'm.txt', Buffer.from('moved bytes'));
    const created = ok(await createV2(bob, cipherId, file.request), 'create');
    ok(await upload(server.http, bob.token, cipherId, created.attachmentId, file.encryptedData), 'upload');
    const rewrapped = prepareAttachment(org.orgKey, 'm.txt', Buffer.from('x')).request;
    const current = ok(
      await call<Record<string, unknown>>(server.http, bob.token, 'GET', `/api/ciphers/${cipherId}`),
      'get',
    );
    const shared = await call<CipherJson>(server.http, bob.token, 'PUT', `/api/ciphers/${cipherId}/share`, {
      cipher: {
        type: 2,
        name: encryptType2(org.orgKey, 'to move'),
        secureNote: { type: 0 },
        organizationId: org.id,
        lastKnownRevisionDate: current['revisionDate'],
        attachments: { [created.attachmentId]: rewrapped.fileName },
        attachments2: { [created.attachmentId]: { fileName: rewrapped.fileName, key: rewrapped.key } },
      },
      collectionIds: [org.defaultCollection],
    });
    assert.equal(shared.status, 200, shared.text);
    const [moved] = shared.body.attachments ?? [];
    assert.deepEqual(
      [moved?.id, moved?.fileName, moved?.key],
      [created.attachmentId, rewrapped.fileName, rewrapped.key],
    );
    assert.deepEqual((await download(server.caPath, moved?.url ?? '')).bytes, file.encryptedData);
  });

  test('deleting an item for good, or purging the vault, removes its files', async () => {
    const files: [string, string][] = [];
    for (const name of ['gone 1', 'gone 2']) {
      const cipherId = await createPersonalItem(server.http, bob, name);
      const file = prepareAttachment(bob.account.userKey, 'g.txt', Buffer.from(name));
      const created = ok(await createV2(bob, cipherId, file.request), 'create');
      ok(await upload(server.http, bob.token, cipherId, created.attachmentId, file.encryptedData), 'upload');
      files.push([cipherId, created.attachmentId]);
    }
    const [[first, firstFile], [second, secondFile]] = files as [[string, string], [string, string]];
    ok(await call(server.http, bob.token, 'DELETE', `/api/ciphers/${first}`), 'delete item');
    await eventuallyGone(blobPath(first, firstFile));
    assert.ok(existsSync(blobPath(second, secondFile)));
    ok(
      await call(server.http, bob.token, 'POST', '/api/ciphers/purge', {
        masterPasswordHash: bob.account.masterPasswordHash,
      }),
      'purge',
    );
    await eventuallyGone(blobPath(second, secondFile));
    assert.deepEqual(await server.db.rows('SELECT blob_key FROM attachment_blob_gc'), [], 'the queue is drained');
  });
});
