import type { Readable } from 'node:stream';

export interface BlobInfo {
  readonly size: number;
}

/** Opaque blobs (attachments, send files, icons) addressed by a relative key like `attachments/<cipher>/<id>`. */
export interface BlobStore {
  put(key: string, body: Buffer | Readable, size?: number): Promise<void>;
  /** null when absent. */
  get(key: string): Promise<Readable | null>;
  stat(key: string): Promise<BlobInfo | null>;
  /** Deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** Deletes every blob under `prefix/`. */
  deletePrefix(prefix: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class InvalidBlobKeyError extends Error {
  constructor(key: string) {
    super(`invalid blob key: ${JSON.stringify(key)}`);
    this.name = 'InvalidBlobKeyError';
  }
}

export const BLOB_STORE = Symbol('BLOB_STORE');
