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

async function readAll(blobs: BlobStore, key: string): Promise<Buffer | null> {
  const stream = await blobs.get(key);
  if (!stream) return null;
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
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
        const body = await readAll(blobs, blobKey);
        if (!body) {
          missingBlobs.push(blobKey);
          continue;
        }
        blobEntries.push({ key: blobKey, size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
        blobBytes += body.length;
        yield writer.record({ t: 'blob', key: blobKey }, body);
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
