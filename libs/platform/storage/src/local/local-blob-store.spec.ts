import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { describeBlobStoreContract } from '../testing/blob-store.contract';
import { LOCAL_INCOMING_DIR, LocalBlobStore } from './local-blob-store';

let root = '';
let store: LocalBlobStore | undefined;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'keyhaven-blobs-'));
  store = new LocalBlobStore(join(root, 'store'));
});

after(async () => {
  await store?.close();
  await rm(root, { recursive: true, force: true });
});

describeBlobStoreContract('LocalBlobStore', {
  open: () => Promise.resolve(store ?? null),
  atomicPuts: true,
});

void describe('LocalBlobStore on disk', () => {
  void it('lays blobs out as files under rootDir and leaves no temp files behind', async () => {
    assert.ok(store);
    await store.put('files/a/b.bin', Buffer.from('x'));
    await assert.rejects(
      store.put(
        'files/a/c.bin',
        Readable.from(
          (function* () {
            yield Buffer.from('partial');
            throw new Error('aborted');
          })(),
        ),
      ),
    );
    assert.deepEqual(await readdir(join(store.rootDir, 'files', 'a')), ['b.bin']);
    assert.deepEqual(await readdir(join(store.rootDir, LOCAL_INCOMING_DIR)), []);
  });

  void it('ping creates a missing rootDir', async () => {
    const fresh = new LocalBlobStore(join(root, 'fresh', 'nested'));
    await fresh.ping();
    assert.deepEqual(await readdir(join(root, 'fresh')), ['nested']);
  });

  void it('a key naming a directory of blobs is not a blob', async () => {
    assert.ok(store);
    await store.put('dir/child', Buffer.from('x'));
    assert.equal(await store.get('dir'), null);
    assert.equal(await store.stat('dir'), null);
    await store.delete('dir');
    assert.ok(await store.stat('dir/child'));
  });

  void it('deletePrefix only removes a directory, never a blob named like the prefix', async () => {
    assert.ok(store);
    await writeFile(join(store.rootDir, 'lonely'), 'blob');
    await store.deletePrefix('lonely');
    assert.deepEqual(await store.stat('lonely'), { size: 4 });
  });
});
