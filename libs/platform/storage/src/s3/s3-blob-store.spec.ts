import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import S3rver from 's3rver';
import { BlobTooLargeError } from '../blob-errors';
import { chunked, describeBlobStoreContract } from '../testing/blob-store.contract';
import { patchS3rverContinuationTokens } from '../testing/s3rver-des-shim';
import { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store';

const BUCKET = 'keyhaven-test';
let dir = '';
let server: S3rver | undefined;
let endpoint = '';
const stores: S3BlobStore[] = [];

function storeFor(options: Partial<S3BlobStoreOptions> = {}): S3BlobStore {
  const store = new S3BlobStore({
    endpoint,
    bucket: BUCKET,
    region: 'us-east-1',
    accessKeyId: 'S3RVER', // s3rver's built-in account
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    ...options,
  });
  stores.push(store);
  return store;
}

let unpatch: (() => void) | undefined;

before(async () => {
  unpatch = patchS3rverContinuationTokens();
  dir = await mkdtemp(join(tmpdir(), 'keyhaven-s3rver-'));
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
});

after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server?.close();
  await rm(dir, { recursive: true, force: true });
  unpatch?.();
});

// A page size of 2 makes deletePrefix walk several ListObjectsV2 pages.
let shared: S3BlobStore | undefined;
describeBlobStoreContract('S3BlobStore', {
  open: () => Promise.resolve((shared ??= storeFor({ deletePageSize: 2 }))),
  atomicPuts: false, // s3rver writes objects in place; real S3 never exposes a failed upload
});

void describe('S3BlobStore against s3rver', () => {
  void it('refuses to buffer an unsized stream above the cap, but streams it when sized', async () => {
    const store = storeFor({ maxBufferedPutBytes: 1024 });
    const data = Buffer.alloc(4096, 7);
    await assert.rejects(store.put('capped/unsized', chunked(data, 512)), BlobTooLargeError);
    assert.equal(await store.stat('capped/unsized'), null);
    await store.put('capped/sized', chunked(data, 512), data.length);
    assert.deepEqual(await store.stat('capped/sized'), { size: 4096 });
  });

  void it('ping and put fail (without hanging) for a bucket that does not exist', async () => {
    const store = storeFor({ bucket: 'no-such-bucket' });
    await assert.rejects(store.ping());
    const source = chunked(Buffer.alloc(300_000, 1));
    await assert.rejects(store.put('k', source, 300_000), /bucket/i);
    assert.ok(source.destroyed, 'the source stream was released');
  });

  void it('requires both credentials or neither', () => {
    assert.throws(() => new S3BlobStore({ bucket: BUCKET, accessKeyId: 'only-one' }), /both/);
  });
});
