import { Readable } from 'node:stream';
import type { BlobStore } from '@keyhaven/storage';
import { decryptFile, type DecryptionKey } from './age-stream';
import type { Progress } from './backup';
import { BackupFormatError, drain, measure, readContainer, type Manifest, type SchemaInfo } from './container';
import { knownMigrationNames, openStoreSession, type StoreLocation, type StoreSession } from './store-session';
import { insertRows, nonEmptyTables, restoreSequences, tableChecksum, tablesInLoadOrder } from './tables';

export class RestoreRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRefusedError';
  }
}

export interface RestoreSummary {
  readonly createdAt: string;
  readonly source: 'postgres' | 'pglite';
  readonly tables: { table: string; rows: number; checksum: string; matches: boolean }[];
  readonly rows: number;
  readonly blobs: number;
  readonly blobBytes: number;
  /** Migrations applied after the load (the backup came from an older Keyhaven). */
  readonly migratedAfter: string[];
  /** Decrypt, load, compare and commit: what a recovery-time objective is measured against. */
  readonly ms: number;
}

export interface RestoreTarget extends StoreLocation {
  /** Where blobs go; null verifies their checksums without writing them (restore --verify). */
  readonly blobs: BlobStore | null;
}

function checkSchema(schema: SchemaInfo): void {
  const known = knownMigrationNames();
  const prefix = known.slice(0, schema.migrations.length);
  if (schema.migrations.some((name, i) => name !== prefix[i])) {
    throw new RestoreRefusedError(
      "this backup was made by a newer or different Keyhaven (its migrations are not a prefix of this version's); restore it with that version or newer",
    );
  }
}

/**
 * Restores a backup into an empty store in one transaction: the schema the backup was made with is built, every
 * row loaded in foreign-key order, the sequences set, then counts and checksums compared with the manifest; only
 * then is it committed, and the migrations this version adds run. A wrong key, a damaged or truncated file, a
 * checksum that differs or a non-empty target leaves the database unchanged and removes any blob it wrote.
 */
export async function restoreBackup(
  file: string,
  key: DecryptionKey,
  target: RestoreTarget,
  progress: Progress = () => undefined,
): Promise<RestoreSummary> {
  const started = performance.now();
  const records = readContainer(decryptFile(file, key));
  const first = await records.next();
  if (first.done || !('schema' in first.value))
    throw new BackupFormatError('the backup does not start with its schema');
  const schema = first.value.schema;
  checkSchema(schema);

  const session: StoreSession = await openStoreSession(target, schema.migrations);
  const written: string[] = [];
  const blobDigests = new Map<string, { size: number; sha256: string }>();
  let manifest: Manifest | undefined;
  let loaded = 0;
  let compared: RestoreSummary['tables'] = [];
  try {
    const applied = await session.query<{ name: string }>('SELECT name FROM schema_migrations');
    if (applied.length > schema.migrations.length) {
      throw new RestoreRefusedError(
        'the target database already has a newer schema than the backup; restore into an empty data directory or database',
      );
    }
    await session.query('BEGIN');
    const tables = await tablesInLoadOrder(session);
    const occupied = await nonEmptyTables(session, tables);
    if (occupied.length > 0) {
      throw new RestoreRefusedError(
        `the target database is not empty (${occupied.slice(0, 5).join(', ')}${occupied.length > 5 ? ', …' : ''}); restore into an empty data directory or database`,
      );
    }
    for (;;) {
      const next = await records.next();
      if (next.done) break;
      const record = next.value;
      if ('json' in record) {
        await insertRows(session, record.header.table, record.json);
        loaded += record.header.n;
        progress('rows', loaded, 0);
      } else if ('chunks' in record) {
        // Streamed into the store as it is decrypted; its checksum is compared with the manifest at the end,
        // and every blob written is deleted again if anything fails (see the catch below).
        const blob = measure(record.chunks);
        if (target.blobs) {
          written.push(record.header.key);
          await target.blobs.put(record.header.key, Readable.from(blob.pieces), record.header.len);
        } else {
          await drain(blob.pieces);
        }
        blobDigests.set(record.header.key, blob.result());
        progress('blobs', blobDigests.size, 0);
      } else if ('manifest' in record) {
        manifest = record.manifest;
      }
    }
    if (!manifest) throw new BackupFormatError('the backup has no manifest (truncated)');
    for (const blob of manifest.blobs) {
      const seen = blobDigests.get(blob.key);
      if (!seen || seen.sha256 !== blob.sha256 || seen.size !== blob.size) {
        throw new BackupFormatError(`blob ${blob.key} does not match the manifest: the backup is damaged`);
      }
    }
    await restoreSequences(session, manifest.sequences);
    compared = [];
    for (const expected of manifest.tables) {
      const actual = await tableChecksum(session, expected.table);
      compared.push({ ...actual, matches: actual.rows === expected.rows && actual.checksum === expected.checksum });
    }
    const wrong = compared.filter((t) => !t.matches);
    if (wrong.length > 0) {
      throw new BackupFormatError(
        `restored rows differ from the manifest in ${wrong.map((t) => t.table).join(', ')}; nothing was restored`,
      );
    }
    await session.query('COMMIT');
  } catch (error) {
    await session.query('ROLLBACK').catch(() => undefined);
    if (target.blobs) for (const k of written) await target.blobs.delete(k).catch(() => undefined);
    throw error;
  } finally {
    await session.close();
    // Stop the decryption stream if the load ended early.
    await records.return(undefined);
  }
  // The migrations this version adds after the backup's own.
  const after = knownMigrationNames().slice(schema.migrations.length);
  if (after.length > 0) await (await openStoreSession(target)).close();
  return {
    createdAt: schema.createdAt,
    source: schema.source,
    tables: compared,
    rows: loaded,
    blobs: blobDigests.size,
    blobBytes: [...blobDigests.values()].reduce((n, b) => n + b.size, 0),
    migratedAfter: after,
    ms: Math.round(performance.now() - started),
  };
}
