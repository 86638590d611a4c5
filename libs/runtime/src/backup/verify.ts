import { open } from 'node:fs/promises';
import { decryptFile, type DecryptionKey } from './age-stream';
import { BackupFormatError, drain, measure, readContainer, type Manifest } from './container';

export interface VerifiedBackup {
  readonly manifest: Manifest;
  readonly rows: number;
  readonly blobs: number;
}

/**
 * Reads a backup file end to end without a database: age authentication of every chunk, the framing, the
 * manifest's digest over every byte, each table's row count and each blob's checksum against the manifest.
 * What `restore --verify` checks short of loading the rows (that needs a scratch database).
 */
export async function verifyBackupFile(file: string, key: DecryptionKey): Promise<VerifiedBackup> {
  const rows = new Map<string, number>();
  const blobs = new Map<string, { size: number; sha256: string }>();
  let manifest: Manifest | undefined;
  for await (const record of readContainer(decryptFile(file, key))) {
    if ('json' in record) rows.set(record.header.table, (rows.get(record.header.table) ?? 0) + record.header.n);
    else if ('chunks' in record) {
      const blob = measure(record.chunks);
      await drain(blob.pieces);
      blobs.set(record.header.key, blob.result());
    } else if ('manifest' in record) manifest = record.manifest;
  }
  if (!manifest) throw new BackupFormatError('the backup has no manifest (truncated)');
  for (const table of manifest.tables) {
    if ((rows.get(table.table) ?? 0) !== table.rows) {
      throw new BackupFormatError(`table ${table.table} holds a different number of rows than its manifest says`);
    }
  }
  for (const blob of manifest.blobs) {
    const seen = blobs.get(blob.key);
    if (!seen || seen.size !== blob.size || seen.sha256 !== blob.sha256) {
      throw new BackupFormatError(`blob ${blob.key} does not match the manifest: the backup is damaged`);
    }
  }
  return { manifest, rows: [...rows.values()].reduce((n, r) => n + r, 0), blobs: blobs.size };
}

const AGE_HEADER = 'age-encryption.org/v1\n';

/**
 * Without a key (an age recipient's identity stays off the server) only the envelope can be checked: the
 * file has the size that was written and starts with an age header.
 */
export async function checkBackupEnvelope(file: string, expectedBytes: number): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size !== expectedBytes)
      throw new BackupFormatError(`the backup file has ${size} bytes, ${expectedBytes} were written`);
    const head = Buffer.alloc(AGE_HEADER.length);
    await handle.read(head, 0, head.length, 0);
    if (head.toString('utf8') !== AGE_HEADER)
      throw new BackupFormatError('the backup file does not start with an age header');
  } finally {
    await handle.close();
  }
}
