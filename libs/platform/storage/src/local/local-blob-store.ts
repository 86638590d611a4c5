import { randomUUID } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, lstat, mkdir, open, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobSizeMismatchError } from '../blob-errors';
import { assertValidBlobKey } from '../blob-key';
import type { BlobInfo, BlobStore } from '../blob-store.port';
import { assertSize, ExactLength } from '../internal/exact-length';
import { type StorageLogger, silentStorageLogger } from '../logger';

/**
 * Where partial writes live until renamed into place. `~` can't occur in a key, so this directory
 * never collides with a blob, and being under rootDir keeps the rename on one filesystem (atomic).
 */
export const LOCAL_INCOMING_DIR = '.incoming~';

export interface LocalBlobStoreOptions {
  readonly logger?: StorageLogger;
}

function hasCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && codes.includes(err.code);
}

/** Blobs as files under rootDir, key segments as directories. */
export class LocalBlobStore implements BlobStore {
  readonly rootDir: string;
  private readonly logger: StorageLogger;

  constructor(rootDir: string, options: LocalBlobStoreOptions = {}) {
    this.rootDir = resolve(rootDir);
    this.logger = options.logger ?? silentStorageLogger;
  }

  async put(key: string, body: Buffer | Readable, size?: number): Promise<void> {
    const target = this.pathFor(key);
    assertSize(key, size);
    if (Buffer.isBuffer(body) && size !== undefined && size !== body.length) {
      throw new BlobSizeMismatchError(key, size, body.length);
    }
    const incoming = join(this.rootDir, LOCAL_INCOMING_DIR);
    const temp = join(incoming, randomUUID());
    await Promise.all([mkdir(incoming, { recursive: true }), mkdir(dirname(target), { recursive: true })]);
    try {
      // flush: fsync before close, so a crash after the rename can't leave an empty or torn file behind it.
      if (Buffer.isBuffer(body)) await writeFile(temp, body, { flag: 'wx', flush: true });
      else if (size === undefined) await pipeline(body, createWriteStream(temp, { flags: 'wx', flush: true }));
      else await pipeline(body, new ExactLength(key, size), createWriteStream(temp, { flags: 'wx', flush: true }));
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true }).catch((rmErr: unknown) => {
        this.logger.warn({ err: rmErr, temp }, 'could not remove a partial blob');
      });
      throw err;
    }
  }

  async get(key: string): Promise<Readable | null> {
    const path = this.pathFor(key);
    let handle: FileHandle;
    try {
      // Opening first pins the inode: a concurrent overwrite (rename) can't change what this reader sees.
      handle = await open(path, 'r');
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) return null;
      throw err;
    }
    try {
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        return null;
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
    return handle.createReadStream(); // closes the handle when the stream ends, errors or is destroyed
  }

  async stat(key: string): Promise<BlobInfo | null> {
    try {
      const info = await stat(this.pathFor(key));
      return info.isFile() ? { size: info.size } : null;
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR')) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathFor(key));
    } catch (err) {
      // EISDIR: the key names a directory of other blobs, so there is no blob to delete.
      if (!hasCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw err;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const path = this.pathFor(prefix);
    try {
      // Only what is *under* prefix/: a blob named exactly `prefix` stays.
      if (!(await lstat(path)).isDirectory()) return;
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR')) return;
      throw err;
    }
    await rm(path, { recursive: true, force: true });
  }

  /** Creates rootDir if needed and checks that it is writable. */
  async ping(): Promise<void> {
    await mkdir(this.rootDir, { recursive: true });
    await access(this.rootDir, constants.R_OK | constants.W_OK);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private pathFor(key: string): string {
    assertValidBlobKey(key);
    return join(this.rootDir, ...key.split('/'));
  }
}
