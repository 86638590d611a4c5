import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { ReadableStream } from 'node:stream/web';
import type { BlobStore } from '@keyhaven/storage';
import { encryptStream, type EncryptionKey } from './age-stream';
import { ContainerWriter, FORMAT_VERSION } from './container';
import type { StoreSession } from './store-session';
import { readTable, rowsJson, sequenceValues, tableChecksum, tablesInLoadOrder, type TableChecksum } from './tables';

export interface Progress {
  (phase: string, done: number, total: number): void;
}

export interface BackupSummary {
  readonly file: string;
  readonly bytes: number;
  readonly plaintextBytes: number;
  readonly tables: TableChecksum[];
  readonly rows: number;
  readonly blobs: number;
  readonly blobBytes: number;
  /** Blobs the database refers to that the store no longer has (the backup is then incomplete). */
  readonly missingBlobs: string[];
  readonly ms: number;
}

const ROWS_PER_RECORD = 1000;

/**
 * The blobs the snapshot refers to: the files of uploaded attachments and of file Sends. Icons are a cache and
 * pending uploads are not data yet; both are left out. Keys follow attachmentBlobKey and sendBlobKey.
 */
const BLOB_KEYS_SQL = `
  SELECT 'attachments/' || cipher_id || '/' || id AS key FROM attachment WHERE validated
  UNION ALL
  SELECT 'sends/' || id || '/' || file_id FROM send WHERE file_id IS NOT NULL AND file_uploaded
  ORDER BY 1`;

/** A piece of a blob handed to the encryption at once: age encrypts 64 KiB chunks, so nothing larger queues. */
const PIECE_BYTES = 64 * 1024;

export class BlobChangedError extends Error {
  constructor(key: string, expected: number, actual: number) {
    super(`blob ${key} changed while it was backed up (the store said ${expected} bytes, it sent ${actual})`);
    this.name = 'BlobChangedError';
  }
}

/**
 * One blob as a record: the header with the size the store reports, then the body piece by piece as the store
 * streams it, hashed on the way (the manifest's entry). Blobs are immutable, so a body of another length means the
 * store is broken or the blob was replaced: the backup fails rather than write a record its header contradicts.
 */
async function* blobRecord(
  writer: ContainerWriter,
  key: string,
  size: number,
  body: AsyncIterable<Buffer>,
  entry: (e: { key: string; size: number; sha256: string }) => void,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let seen = 0;
  yield writer.blobStart(key, size);
  for await (const chunk of body) {
    for (let at = 0; at < chunk.length; at += PIECE_BYTES) {
      const part = chunk.subarray(at, at + PIECE_BYTES);
      seen += part.length;
      if (seen > size) throw new BlobChangedError(key, size, seen);
      hash.update(part);
      yield writer.piece(part);
    }
  }
  if (seen !== size) throw new BlobChangedError(key, size, seen);
  entry({ key, size, sha256: hash.digest('hex') });
}

/**
 * Writes one encrypted file holding the database (every table, read in one REPEATABLE READ transaction, so the
 * rows, the sequences and the list of blobs are one consistent snapshot), the blobs it refers to and a manifest.
 * Signing keys and server secrets are rows like any other. The file appears under its name only when complete.
 */
export async function createBackup(
  session: StoreSession,
  blobs: BlobStore,
  out: string,
  key: EncryptionKey,
  progress: Progress = () => undefined,
): Promise<BackupSummary> {
  const started = performance.now();
  const writer = new ContainerWriter();
  const checksums: TableChecksum[] = [];
  const blobEntries: { key: string; size: number; sha256: string }[] = [];
  const missingBlobs: string[] = [];
  let blobBytes = 0;

  async function* plaintext(): AsyncGenerator<Buffer> {
    await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const migrations = (
        await session.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY timestamp, id')
      ).map((m) => m.name);
      const tables = await tablesInLoadOrder(session);
      yield writer.start();
      const createdAt = new Date().toISOString();
      yield writer.schema({ createdAt, source: session.kind, migrations });
      for (const [i, table] of tables.entries()) {
        progress('tables', i, tables.length);
        const sum = await tableChecksum(session, table);
        checksums.push(sum);
        for await (const batch of readTable(session, table, ROWS_PER_RECORD)) {
          yield writer.record({ t: 'rows', table, n: batch.length }, Buffer.from(rowsJson(batch)));
        }
      }
      progress('tables', tables.length, tables.length);
      const sequences = await sequenceValues(session);
      const keys = (await session.query<{ key: string }>(BLOB_KEYS_SQL)).map((k) => k.key);
      // The snapshot ends here; blobs are immutable once uploaded, so reading them after is still consistent.
      await session.query('COMMIT');
      for (const [i, blobKey] of keys.entries()) {
        progress('blobs', i, keys.length);
        const info = await blobs.stat(blobKey);
        const body = info ? await blobs.get(blobKey) : null;
        if (!info || !body) {
          missingBlobs.push(blobKey);
          continue;
        }
        yield* blobRecord(writer, blobKey, info.size, body as AsyncIterable<Buffer>, (entry) => {
          blobEntries.push(entry);
          blobBytes += entry.size;
        });
      }
      progress('blobs', keys.length, keys.length);
      yield writer.manifest({
        format: FORMAT_VERSION,
        createdAt,
        source: session.kind,
        migrations,
        tables: checksums,
        sequences,
        blobs: blobEntries,
      });
    } catch (error) {
      await session.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  const partial = `${out}.partial-${process.pid}`;
  try {
    const ciphertext = await encryptStream(ReadableStream.from(plaintext()), key);
    await pipeline(ciphertext, createWriteStream(partial, { mode: 0o600, flush: true }));
    await rename(partial, out);
  } finally {
    await rm(partial, { force: true });
  }
  return {
    file: out,
    bytes: (await stat(out)).size,
    plaintextBytes: writer.bytes,
    tables: checksums,
    rows: checksums.reduce((n, t) => n + t.rows, 0),
    blobs: blobEntries.length,
    blobBytes,
    missingBlobs,
    ms: Math.round(performance.now() - started),
  };
}
