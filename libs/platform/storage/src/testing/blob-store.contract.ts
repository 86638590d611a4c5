import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { Readable } from 'node:stream';
import { BlobSizeMismatchError } from '../blob-errors';
import { type BlobStore, InvalidBlobKeyError } from '../blob-store.port';

export interface BlobStoreContractHarness {
  /** Called first in every test body; null when the test was skipped. */
  open(t: TestContext): Promise<BlobStore | null>;
  /**
   * Whether a failed put leaves no trace (no partial blob, previous version intact). True for every
   * real backend; false only for test doubles like s3rver, which writes objects in place.
   */
  readonly atomicPuts: boolean;
}

const TEST_TIMEOUT_MS = 20_000;
const FIVE_MIB = 5 * 1024 * 1024;

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A stream delivering `data` in `chunkSize` pieces, like an upload arriving over the network. */
export function chunked(data: Buffer, chunkSize = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < data.length; offset += chunkSize) yield data.subarray(offset, offset + chunkSize);
    })(),
  );
}

async function getBuffer(store: BlobStore, key: string): Promise<Buffer | null> {
  const stream = await store.get(key);
  return stream ? readAll(stream) : null;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function storedHash(store: BlobStore, key: string): Promise<string | null> {
  const data = await getBuffer(store, key);
  return data && sha256(data);
}

export const INVALID_BLOB_KEYS: readonly string[] = [
  '',
  '/abs',
  'a//b',
  'a/',
  '/',
  '..',
  '../x',
  'a/../b',
  'a/..',
  './a',
  '.',
  'a\\b',
  '..\\x',
  'C:\\x',
  'a b',
  'ä',
  'a?b',
  'a%2F..',
  'x'.repeat(256),
  `${'a/'.repeat(512)}a`,
];

/** Shared behaviour of every BlobStore adapter; each adapter's spec calls this once. */
export function describeBlobStoreContract(name: string, harness: BlobStoreContractHarness): void {
  const contractTest = (title: string, body: (store: BlobStore, base: string) => Promise<void>): void => {
    void it(title, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const store = await harness.open(t);
      if (!store) return;
      // A fresh directory per test so tests never see each other's blobs.
      await body(store, `contract/${randomUUID()}`);
    });
  };

  void describe(`${name} satisfies the BlobStore contract`, () => {
    contractTest('ping resolves', async (store) => {
      await store.ping();
    });

    contractTest('a Buffer round-trips; stat reports its size', async (store, base) => {
      const data = Buffer.from('hello, vault');
      await store.put(`${base}/attachments/c1/a1`, data);
      assert.deepEqual(await getBuffer(store, `${base}/attachments/c1/a1`), data);
      assert.deepEqual(await store.stat(`${base}/attachments/c1/a1`), { size: data.length });
    });

    contractTest('a stream round-trips with and without a declared size', async (store, base) => {
      const data = randomBytes(200_000);
      await store.put(`${base}/sized`, chunked(data), data.length);
      await store.put(`${base}/unsized`, chunked(data));
      assert.equal(await storedHash(store, `${base}/sized`), sha256(data));
      assert.equal(await storedHash(store, `${base}/unsized`), sha256(data));
      assert.deepEqual(await store.stat(`${base}/unsized`), { size: data.length });
    });

    contractTest('a 5 MiB blob round-trips as a stream and as a Buffer', async (store, base) => {
      const data = randomBytes(FIVE_MIB);
      await store.put(`${base}/big-stream`, chunked(data), FIVE_MIB);
      await store.put(`${base}/big-buffer`, data);
      assert.deepEqual(await store.stat(`${base}/big-stream`), { size: FIVE_MIB });
      assert.equal(await storedHash(store, `${base}/big-stream`), sha256(data));
      assert.equal(await storedHash(store, `${base}/big-buffer`), sha256(data));
    });

    contractTest('an empty blob is a blob', async (store, base) => {
      await store.put(`${base}/empty`, Buffer.alloc(0));
      assert.deepEqual(await store.stat(`${base}/empty`), { size: 0 });
      assert.equal((await getBuffer(store, `${base}/empty`))?.length, 0);
    });

    contractTest('put overwrites content and size', async (store, base) => {
      await store.put(`${base}/k`, Buffer.from('a much longer first version'));
      await store.put(`${base}/k`, chunked(Buffer.from('v2')), 2);
      assert.equal((await getBuffer(store, `${base}/k`))?.toString(), 'v2');
      assert.deepEqual(await store.stat(`${base}/k`), { size: 2 });
    });

    contractTest('get and stat of a missing key are null', async (store, base) => {
      assert.equal(await store.get(`${base}/missing`), null);
      assert.equal(await store.stat(`${base}/missing`), null);
      assert.equal(await store.get(`${base}/missing/deeper`), null);
    });

    contractTest('delete removes a blob and is idempotent', async (store, base) => {
      await store.put(`${base}/gone`, Buffer.from('x'));
      await store.delete(`${base}/gone`);
      assert.equal(await store.get(`${base}/gone`), null);
      assert.equal(await store.stat(`${base}/gone`), null);
      await store.delete(`${base}/gone`);
      await store.delete(`${base}/never/existed`);
    });

    contractTest('deletePrefix removes everything under prefix/ and nothing else', async (store, base) => {
      const doomed = [`${base}/x/1`, `${base}/x/2`, `${base}/x/deep/3`, `${base}/x/deep/er/4`, `${base}/x/5`];
      const kept = [`${base}/xy/1`, `${base}/y/1`, `${base}/x0`];
      for (const key of [...doomed, ...kept]) await store.put(key, Buffer.from(key));
      await store.deletePrefix(`${base}/x`);
      for (const key of doomed) assert.equal(await store.stat(key), null, `${key} was deleted`);
      for (const key of kept) assert.equal((await getBuffer(store, key))?.toString(), key, `${key} was kept`);
      await store.deletePrefix(`${base}/x`); // absent prefix: no-op
      await store.deletePrefix(`${base}/nothing/here`);
    });

    contractTest('invalid keys are rejected by every operation', async (store) => {
      for (const key of INVALID_BLOB_KEYS) {
        const label = `key ${JSON.stringify(key.slice(0, 20))}`;
        await assert.rejects(store.put(key, Buffer.from('x')), InvalidBlobKeyError, label);
        await assert.rejects(store.put(key, chunked(Buffer.from('x')), 1), InvalidBlobKeyError, label);
        await assert.rejects(store.get(key), InvalidBlobKeyError, label);
        await assert.rejects(store.stat(key), InvalidBlobKeyError, label);
        await assert.rejects(store.delete(key), InvalidBlobKeyError, label);
        await assert.rejects(store.deletePrefix(key), InvalidBlobKeyError, label);
      }
    });

    contractTest('keys may use every allowed character', async (store, base) => {
      const key = `${base}/A-z_0.9/...hidden/v1.2.3_final-Copy`;
      await store.put(key, Buffer.from('ok'));
      assert.equal((await getBuffer(store, key))?.toString(), 'ok');
    });

    contractTest('a wrong declared size is rejected and stores nothing', async (store, base) => {
      await assert.rejects(store.put(`${base}/short`, chunked(Buffer.from('abc')), 4), BlobSizeMismatchError);
      await assert.rejects(store.put(`${base}/long`, chunked(Buffer.from('abcde')), 4), BlobSizeMismatchError);
      await assert.rejects(store.put(`${base}/buf`, Buffer.from('abc'), 4), BlobSizeMismatchError);
      assert.equal(await store.stat(`${base}/buf`), null);
      if (harness.atomicPuts) for (const k of ['short', 'long']) assert.equal(await store.stat(`${base}/${k}`), null);
    });

    contractTest('a failing upload rejects with its error and leaves the previous blob intact', async (store, base) => {
      await store.put(`${base}/k`, Buffer.from('old'));
      const failing = Readable.from(
        (function* () {
          yield Buffer.alloc(100_000, 1);
          throw new Error('client went away');
        })(),
      );
      await assert.rejects(store.put(`${base}/k`, failing, 200_000), /client went away/);
      if (harness.atomicPuts) assert.equal((await getBuffer(store, `${base}/k`))?.toString(), 'old');
    });
  });
}
