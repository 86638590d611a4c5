import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { EventType, PushType } from '@keyhaven/contracts';
import { AccountAdministrationService } from '@keyhaven/domain-auth';
import { BLOB_STORE, type BlobStore } from '@keyhaven/storage';
import {
  cipherRequest,
  createDomainHarness,
  encString,
  registerUser,
  rejectsWithCode,
  type DomainHarness,
} from '@keyhaven/testing';
import { CipherService } from '../ciphers/cipher.service';
import { SyncService } from '../sync/sync.service';
import { attachmentBlobKey } from './attachment';
import { AttachmentCleanupJob } from './attachment-cleanup.job';
import { AttachmentService, type AttachmentCaller } from './attachment.service';

const GIB = 1024 * 1024 * 1024;
let h: DomainHarness;
let attachments: AttachmentService;
let ciphers: CipherService;
let blobs: BlobStore;
let job: AttachmentCleanupJob;

before(async () => {
  h = await createDomainHarness({
    env: { ATTACHMENTS_USER_MAX_STORAGE_GB: '1', ATTACHMENTS_MAX_FILE_BYTES: String(GIB) },
  });
  attachments = h.get(AttachmentService);
  ciphers = h.get(CipherService);
  blobs = h.module.get<symbol, BlobStore>(BLOB_STORE, { strict: false });
  job = h.get(AttachmentCleanupJob);
});
after(async () => {
  await h.close();
});

async function newItem(): Promise<{ caller: AttachmentCaller; cipherId: string }> {
  const { user } = await registerUser(h);
  const created = await ciphers.createCipher(user.id, null, cipherRequest());
  return { caller: { userId: user.id, deviceId: 'device-1' }, cipherId: String(created['id']) };
}

function fileUpload(bytes: Buffer) {
  return { stream: Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]), truncated: () => false };
}

async function attach(caller: AttachmentCaller, cipherId: string, bytes: Buffer): Promise<string> {
  const created = await attachments.create(caller, cipherId, {
    key: encString(),
    fileName: encString(),
    fileSize: bytes.length,
  });
  const id = String(created['attachmentId']);
  await attachments.upload(caller, cipherId, id, fileUpload(bytes));
  return id;
}

const rows = (cipherId: string) =>
  h.db.rows<{ id: string; validated: boolean }>('SELECT id, validated FROM attachment WHERE cipher_id = $1', [
    cipherId,
  ]);

void describe('attachments (domain)', () => {
  test('an upload stores the file, lists it on the item, records the event and pushes the change', async () => {
    const { caller, cipherId } = await newItem();
    const bytes = Buffer.alloc(1234, 5);
    await h.settle();
    const pushesBefore = h.pushes.length;
    const id = await attach(caller, cipherId, bytes);
    assert.deepEqual(await blobs.stat(attachmentBlobKey(cipherId, id)), { size: 1234 });
    const sync = await h.get(SyncService).sync(caller.userId, true);
    const item = (sync['ciphers'] as { id: string; attachments: { id: string; size: string }[] | null }[]).find(
      (c) => c.id === cipherId,
    );
    assert.deepEqual(
      item?.attachments?.map((a) => [a.id, a.size]),
      [[id, '1234']],
    );
    const events = await h.db.rows<{ type: number }>(
      "SELECT (payload ->> 'type')::int AS type FROM event_outbox WHERE payload ->> 'cipherId' = $1",
      [cipherId],
    );
    const created: number = EventType.Cipher_AttachmentCreated;
    assert.deepEqual(
      events.map((e) => e.type).filter((t) => t === created),
      [created],
    );
    await h.settle();
    const pushed = h.pushes.slice(pushesBefore).filter((p) => p.payload['Id'] === cipherId);
    assert.ok(
      pushed.length >= 2 && pushed.every((p) => p.type === PushType.SyncCipherUpdate),
      'the create and the upload pushed SyncCipherUpdate',
    );
  });

  test('two announcements racing for the last free storage: exactly one gets it', async () => {
    const { caller, cipherId } = await newItem();
    const half = Math.floor(0.6 * GIB);
    const results = await Promise.allSettled(
      [1, 2].map(() =>
        attachments.create(caller, cipherId, { key: encString(), fileName: encString(), fileSize: half }),
      ),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    assert.equal((await rows(cipherId)).length, 1);
  });

  test('the clean-up job removes uploads that never completed, under the lock, and only once', async () => {
    const { caller, cipherId } = await newItem();
    await attachments.create(caller, cipherId, { key: encString(), fileName: encString(), fileSize: 10 });
    const kept = await attach(caller, cipherId, Buffer.alloc(20, 1));
    assert.deepEqual(await job.runOnce(new Date()), { abandoned: 0, files: 0 }, 'nothing is old enough yet');
    const later = new Date(Date.now() + h.config.ATTACHMENTS_PENDING_UPLOAD_TTL_SECONDS * 1000 + 1000);
    const [first, second] = await Promise.all([job.runOnce(later), job.runOnce(later)]);
    assert.ok((first === null) !== (second === null), 'one instance ran, the other skipped');
    assert.ok(((first ?? second)?.abandoned ?? 0) >= 1);
    assert.deepEqual(await rows(cipherId), [{ id: kept, validated: true }]);
  });

  test("a user's deletion removes their files: queued by the cascade, removed by the job", async () => {
    const { caller, cipherId } = await newItem();
    const id = await attach(caller, cipherId, Buffer.alloc(50, 9));
    assert.ok(await h.get(AccountAdministrationService).deleteAccount(caller.userId));
    const queued = await h.db.rows<{ blob_key: string }>('SELECT blob_key FROM attachment_blob_gc');
    assert.ok(
      queued.some((q) => q.blob_key === attachmentBlobKey(cipherId, id)),
      'the key was queued',
    );
    const ran = await job.runOnce();
    assert.ok(ran && ran.files >= 1);
    assert.equal(await blobs.stat(attachmentBlobKey(cipherId, id)), null, 'the file is gone');
    assert.deepEqual(await h.db.rows('SELECT blob_key FROM attachment_blob_gc'), []);
  });

  test('an item update with attachments2 re-keys its files; ids of other items change nothing', async () => {
    const { caller, cipherId } = await newItem();
    const other = await newItem();
    const id = await attach(caller, cipherId, Buffer.alloc(30, 2));
    const otherId = await attach(other.caller, other.cipherId, Buffer.alloc(30, 3));
    const [fileName, key] = [encString(), encString()];
    const updated = await ciphers.updateCipher(caller.userId, null, cipherId, {
      ...cipherRequest(),
      attachments2: { [id]: { fileName, key }, [otherId]: { fileName, key } },
    });
    const [listed] = updated['attachments'] as { id: string; fileName: string; key: string }[];
    assert.deepEqual([listed?.id, listed?.fileName, listed?.key], [id, fileName, key]);
    const untouched = await h.db.rows<{ key: string }>('SELECT key FROM attachment WHERE id = $1', [otherId]);
    assert.notEqual(untouched[0]?.key, key);
  });

  test('an upload that breaks off leaves no attachment and no file', async () => {
    const { caller, cipherId } = await newItem();
    const created = await attachments.create(caller, cipherId, {
      key: encString(),
      fileName: encString(),
      fileSize: 100,
    });
    const id = String(created['attachmentId']);
    const broken = new Readable({
      read() {
        this.push(Buffer.alloc(40));
        this.destroy(new Error('connection reset'));
      },
    });
    await assert.rejects(attachments.upload(caller, cipherId, id, { stream: broken, truncated: () => false }));
    assert.deepEqual(await rows(cipherId), []);
    assert.equal(await blobs.stat(attachmentBlobKey(cipherId, id)), null);
    await rejectsWithCode(attachments.upload(caller, cipherId, id, fileUpload(Buffer.alloc(100))), 'not_found');
  });
});
