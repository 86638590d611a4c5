import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { JobScheduler } from '@keyhaven/db';
import { AccountAdministrationService } from '@keyhaven/domain-auth';
import { PushType } from '@keyhaven/contracts';
import { BLOB_STORE, type BlobStore } from '@keyhaven/storage';
import { createDomainHarness, encString, registerUser, rejectsWithCode, type DomainHarness } from '@keyhaven/testing';
import { SendAccessService } from './send-access.service';
import { SendDeletionJob } from './send-deletion.job';
import { SendUploadService } from './send-upload.service';
import { SendService, sendBlobKey } from './send.service';
import { accessIdOf, sendIdFromAccessId, type Send } from './send';

const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();

const request = (type: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type,
  name: encString(),
  key: encString(),
  deletionDate: inDays(7),
  authType: 2,
  ...(type === 0 ? { text: { text: encString(), hidden: false } } : { file: { fileName: encString() } }),
  ...extra,
});

const upload = (bytes: Buffer) => () => Promise.resolve({ stream: Readable.from([bytes]), truncated: () => false });

void describe('Sends (domain)', () => {
  let h: DomainHarness;
  let sends: SendService;
  let uploads: SendUploadService;
  let job: SendDeletionJob;
  let blobs: BlobStore;
  let userId: string;

  const rowsOf = async (ids: string[]): Promise<number> =>
    (await h.db.rows('SELECT id FROM send WHERE id = ANY($1::uuid[])', [ids])).length;
  const fileSend = async (bytes: Buffer): Promise<Send> =>
    (await sends.createFile(userId, request(1, { fileLength: bytes.length }), null)).send;

  before(async () => {
    h = await createDomainHarness();
    sends = h.get(SendService);
    uploads = h.get(SendUploadService);
    job = h.get(SendDeletionJob);
    blobs = h.get<BlobStore>(BLOB_STORE as never);
    userId = (await registerUser(h, 'sender')).user.id;
  });

  after(async () => {
    await h.close();
  });

  it('access ids are 22 URL-safe characters and decode back to the id; anything else decodes to null', () => {
    const id = '0f5d0b9e-8d8c-4c48-9d1a-51a4e2a4b7c1';
    assert.match(accessIdOf(id), /^[A-Za-z0-9_-]{22}$/);
    assert.equal(sendIdFromAccessId(accessIdOf(id)), id);
    for (const bad of ['', 'short', `${accessIdOf(id)}x`, 'not+url/safe========='])
      assert.equal(sendIdFromAccessId(bad), null);
  });

  it('a file upload with exactly the declared bytes is stored once; a second upload is refused', async () => {
    const bytes = Buffer.from('encrypted file bytes');
    const send = await fileSend(bytes);
    await uploads.upload(userId, send.id, send.fileId ?? '', upload(bytes), null);
    assert.equal((await blobs.stat(sendBlobKey(send.id, send.fileId ?? '')))?.size, bytes.length);
    await rejectsWithCode(
      uploads.upload(userId, send.id, send.fileId ?? '', upload(Buffer.from('other')), null),
      'bad_request',
      /already been uploaded/,
    );
    const other = (await registerUser(h, 'stranger')).user.id;
    await rejectsWithCode(uploads.upload(other, send.id, send.fileId ?? '', upload(bytes), null), 'not_found');
  });

  it('deleting a file Send removes its file; a stranger deletes nothing', async () => {
    const bytes = Buffer.from('short-lived');
    const send = await fileSend(bytes);
    await uploads.upload(userId, send.id, send.fileId ?? '', upload(bytes), null);
    const stranger = (await registerUser(h, 'other')).user.id;
    await rejectsWithCode(sends.delete(stranger, send.id, null), 'not_found');
    assert.ok(await blobs.stat(sendBlobKey(send.id, send.fileId ?? '')));
    await sends.delete(userId, send.id, null);
    assert.equal(await blobs.stat(sendBlobKey(send.id, send.fileId ?? '')), null);
    assert.equal((await h.db.rows('SELECT 1 FROM send_blob_gc')).length, 0, 'removed right after the commit');
    assert.equal(await rowsOf([send.id]), 0);
  });

  it('a file of another length than declared: 400, no blob, and the Send is gone', async () => {
    for (const sent of [Buffer.from('short'), Buffer.alloc(64, 1)]) {
      const send = await fileSend(Buffer.alloc(20));
      await rejectsWithCode(
        uploads.upload(userId, send.id, send.fileId ?? '', upload(sent), null),
        'bad_request',
        /does not match/,
      );
      assert.equal(await blobs.stat(sendBlobKey(send.id, send.fileId ?? '')), null);
      assert.equal(await rowsOf([send.id]), 0);
    }
  });

  it("file Sends count against the user's storage from the moment they are announced", async () => {
    const limited = await h.variant({ env: { ATTACHMENTS_USER_MAX_STORAGE_GB: '1' } });
    const service = limited.get(SendService);
    const owner = (await registerUser(h, 'storage')).user.id;
    const mib = 1024 * 1024;
    await service.createFile(owner, request(1, { fileLength: 400 * mib }), null);
    await service.createFile(owner, request(1, { fileLength: 400 * mib }), null);
    await rejectsWithCode(
      service.createFile(owner, request(1, { fileLength: 400 * mib }), null),
      'bad_request',
      /Not enough storage/,
    );
    assert.equal((await service.list(owner)).length, 2, 'the refused Send was not stored');
    // Text Sends take no storage.
    await service.createText(owner, request(0), null);
  });

  it('two recipients racing for the last access: exactly one gets it', async () => {
    const send = await sends.createText(userId, request(0, { maxAccessCount: 1 }), null);
    const access = h.get(SendAccessService);
    const token = String((await access.token({ send_id: accessIdOf(send.id) }, '127.0.0.9'))['access_token']);
    const results = await Promise.allSettled([access.access(`Bearer ${token}`), access.access(`Bearer ${token}`)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal((await sends.get(userId, send.id)).accessCount, 1);
  });

  it('an account deleted with its Sends: the job removes their files too', async () => {
    const leaving = (await registerUser(h, 'leaving')).user.id;
    const bytes = Buffer.from('left behind?');
    const send = (await sends.createFile(leaving, request(1, { fileLength: bytes.length }), null)).send;
    await uploads.upload(leaving, send.id, send.fileId ?? '', upload(bytes), null);
    assert.equal(await h.get(AccountAdministrationService).deleteAccount(leaving), true);
    assert.equal(await rowsOf([send.id]), 0, 'the rows went with the account');
    assert.ok(await blobs.stat(sendBlobKey(send.id, send.fileId ?? '')), 'the file waits for the job');
    await job.runOnce();
    assert.equal(await blobs.stat(sendBlobKey(send.id, send.fileId ?? '')), null);
    assert.equal((await h.db.rows('SELECT 1 FROM send_blob_gc')).length, 0, 'nothing left queued');
  });

  it('the deletion job removes Sends past their deletion date with their files, under the lock only', async () => {
    const bytes = Buffer.from('to be deleted');
    const file = await fileSend(bytes);
    await uploads.upload(userId, file.id, file.fileId ?? '', upload(bytes), null);
    const text = await sends.createText(userId, request(0), null);
    const kept = await sends.createText(userId, request(0), null);
    await h.db.execute("UPDATE send SET deletion_date = now() - interval '1 minute' WHERE id = ANY($1::uuid[])", [
      [file.id, text.id],
    ]);

    // A scheduled run holds the job's lock: this one skips its round.
    const held = await h.get(JobScheduler).exclusively('send-deletion', async () => {
      assert.equal(await job.runOnce(), 0);
      assert.equal(await rowsOf([file.id, text.id]), 2);
      return true;
    });
    assert.equal(held, true);

    const pushesBefore = h.pushes.length;
    assert.ok((await job.runOnce()) >= 2);
    assert.equal(await rowsOf([file.id, text.id]), 0);
    assert.equal(await rowsOf([kept.id]), 1);
    assert.equal(await blobs.stat(sendBlobKey(file.id, file.fileId ?? '')), null);
    await h.settle();
    const deletes = h.pushes.slice(pushesBefore).filter((p) => p.type === PushType.SyncSendDelete);
    assert.deepEqual(deletes.map((p) => p.payload['Id']).sort(), [file.id, text.id].sort());
    assert.equal(await job.runOnce(), 0, 'a re-run finds nothing');
  });
});
