import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { createBackup, openStoreSession, restoreBackup, type StoreLocation } from '@keyhaven/runtime';
import { LocalBlobStore, type BlobStore } from '@keyhaven/storage';
import { createScratchDatabase } from '@keyhaven/testing';
import { describeOnBackends } from './backends';

/**
 * Backups and restores stream blobs: an attachment three times larger than BOUND goes through createBackup and
 * restoreBackup, and at every piece the bytes in flight (read from one side, not yet on the other) stay under
 * BOUND. Backup: read from the blob store minus written to the backup file. Restore: written into a named pipe the
 * restore reads the backup from, minus received by the blob store's put. Code holding a blob whole fails both,
 * by the blob's size; the file still restores byte for byte, and so does a file Send's.
 */
const MiB = 1024 * 1024;
const BOUND = 16 * MiB;
const BLOB = 3 * BOUND;
const SEND_FILE = Buffer.from('a file Send, small; the attachment is the large one\n'.repeat(100));
const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-large-blob-'));
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** BLOB reproducible pseudo-random bytes (AES-CTR keystream) in 64 KiB pieces, so nothing here holds them whole. */
function blobBytes(): Readable {
  const keystream = createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16, 2));
  const zeros = Buffer.alloc(64 * 1024);
  return Readable.from(
    (function* () {
      for (let at = 0; at < BLOB; at += zeros.length) yield keystream.update(zeros);
    })(),
  );
}

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * A store whose get() bodies and put() bodies run `onPiece(total)` before passing each piece on, `total` being the
 * bytes of every body so far (the attachment's, then the Send file's).
 */
function watched(store: BlobStore, onPiece: (total: number) => void): BlobStore {
  let total = 0;
  const tap = (source: AsyncIterable<Buffer>): Readable =>
    Readable.from(
      (async function* () {
        for await (const chunk of source) {
          total += chunk.length;
          onPiece(total);
          yield chunk;
        }
      })(),
    );
  return Object.assign(Object.create(store) as BlobStore, {
    get: async (key: string) => {
      const body = await store.get(key);
      return body ? tap(body as AsyncIterable<Buffer>) : null;
    },
    put: (key: string, body: Buffer | Readable, size?: number) => {
      assert.ok(!Buffer.isBuffer(body), 'the restore hands the store a stream, not a buffer');
      return store.put(key, tap(body as AsyncIterable<Buffer>), size);
    },
  });
}

async function seedBlobs(location: StoreLocation, blobs: BlobStore): Promise<{ attachment: string; send: string }> {
  const session = await openStoreSession(location);
  try {
    const [user] = await session.query<{ id: string }>(
      `INSERT INTO app_user (id, email, master_password_hash, key, kdf, kdf_iterations, security_stamp, api_key,
                             creation_date, revision_date, account_revision_date)
       VALUES (gen_random_uuid(), 'large@example.com', 'h', 'k', 0, 600000, 's', 'a', now(), now(), now())
       RETURNING id`,
    );
    const cipher = randomUUID();
    await session.query(
      `INSERT INTO cipher (id, user_id, type, data, creation_date, revision_date)
       VALUES ($1, $2, 1, '{"name":"2.x"}'::jsonb, now(), now())`,
      [cipher, user?.id],
    );
    await session.query(
      `INSERT INTO attachment (id, cipher_id, file_name, size, validated, creation_date)
       VALUES ('big', $1, '2.name', $2, true, now())`,
      [cipher, BLOB],
    );
    const key = `attachments/${cipher}/big`;
    await blobs.put(key, blobBytes(), BLOB);
    // A file Send, the other kind of blob a backup carries.
    const send = randomUUID();
    await session.query(
      `INSERT INTO send (id, user_id, type, auth_type, name, key, data, file_id, file_size, file_uploaded,
                         creation_date, revision_date, deletion_date)
       VALUES ($1, $2, 1, 2, '2.send', '2.key', '{}'::jsonb, 'file', $3, true, now(), now(), now() + interval '7 days')`,
      [send, user?.id, SEND_FILE.length],
    );
    await blobs.put(`sends/${send}/file`, SEND_FILE);
    return { attachment: key, send: `sends/${send}/file` };
  } finally {
    await session.close();
  }
}

describeOnBackends('backup and restore of a blob larger than the memory bound', (backend) => {
  test(`a ${BLOB / MiB} MiB attachment streams through with under ${BOUND / MiB} MiB in flight`, async (t) => {
    const dir = join(scratch, backend);
    const databases = backend === 'postgres' ? [await createScratchDatabase(), await createScratchDatabase()] : [];
    try {
      const source: StoreLocation = { databaseUrl: databases[0]?.url, dataDir: join(dir, 'source') };
      const sourceBlobs = new LocalBlobStore(join(dir, 'source', 'blobs'));
      const keys = await seedBlobs(source, sourceBlobs);
      const identity = await generateIdentity();
      const file = join(dir, 'large.backup');

      let maxInFlight = 0;
      const partial = `${file}.partial-${process.pid}`;
      const session = await openStoreSession(source);
      const backup = await createBackup(
        session,
        watched(sourceBlobs, (read) => {
          maxInFlight = Math.max(maxInFlight, read - (statSync(partial, { throwIfNoEntry: false })?.size ?? 0));
        }),
        file,
        { recipient: await identityToRecipient(identity) },
      ).finally(() => session.close());
      assert.equal(backup.blobs, 2);
      assert.equal(backup.blobBytes, BLOB + SEND_FILE.length);
      assert.ok(maxInFlight < BOUND, `backup: ${(maxInFlight / MiB).toFixed(1)} MiB read but not yet written`);
      t.diagnostic(`backup: at most ${(maxInFlight / MiB).toFixed(2)} MiB in flight`);

      // The restore reads the backup through a pipe, so what it has read is what has been written into the pipe.
      const fifo = join(dir, 'backup.fifo');
      execFileSync('mkfifo', [fifo]);
      let fed = 0;
      const feeding = pipeline(
        createReadStream(file),
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            fed += chunk.length;
            done(null, chunk);
          },
        }),
        createWriteStream(fifo),
      );
      maxInFlight = 0;
      const targetBlobs = new LocalBlobStore(join(dir, 'target', 'blobs'));
      const restored = await restoreBackup(
        fifo,
        { identity },
        {
          databaseUrl: databases[1]?.url,
          dataDir: join(dir, 'target'),
          blobs: watched(targetBlobs, (received) => {
            maxInFlight = Math.max(maxInFlight, fed - received);
          }),
        },
      );
      await feeding;
      t.diagnostic(`restore: at most ${(maxInFlight / MiB).toFixed(2)} MiB in flight`);
      assert.equal(restored.blobs, 2);
      assert.ok(restored.tables.every((t) => t.matches));
      assert.ok(maxInFlight < BOUND, `restore: ${(maxInFlight / MiB).toFixed(1)} MiB read but not yet stored`);
      const back = await targetBlobs.get(keys.attachment);
      assert.ok(back, 'the attachment is in the target store');
      assert.equal(await sha256(back), await sha256(blobBytes()), 'restored byte for byte');
      const sendBack = await targetBlobs.get(keys.send);
      assert.ok(sendBack, 'the Send file is in the target store');
      assert.equal(await sha256(sendBack), createHash('sha256').update(SEND_FILE).digest('hex'));
    } finally {
      for (const database of databases) await database.drop();
    }
  });
});
